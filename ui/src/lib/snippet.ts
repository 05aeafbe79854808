// Search snippets mark matched terms `**like this**`; the view shows them highlighted without
// ever interpreting the text as HTML.

export interface Segment {
  text: string;
  marked: boolean;
}

/** Splits a snippet at its `**` markers. An unpaired marker is kept as text. */
export function segments(snippet: string): Segment[] {
  const parts = snippet.split('**');
  if (parts.length % 2 === 0) {
    // Odd number of markers: the last one is unpaired.
    const last = parts.pop() ?? '';
    parts[parts.length - 1] += '**' + last;
  }
  return parts
    .map((text, i) => ({ text, marked: i % 2 === 1 }))
    .filter((s) => s.text.length > 0);
}
