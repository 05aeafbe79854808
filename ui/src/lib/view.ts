// Which view to show, as the tray asks for it ("logs:NAME") or as the window's URL hash carries it
// when the tray opens the window on a view.

/** "logs:alpha" -> ["logs", "alpha"]; "settings" -> ["settings", ""]. */
export function parseView(spec: string): [string, string] {
  const text = spec.startsWith('#') ? spec.slice(1) : spec;
  const at = text.indexOf(':');
  return at < 0 ? [text, ''] : [text.slice(0, at), decodeURIComponent(text.slice(at + 1))];
}
