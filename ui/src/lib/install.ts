// The install dialog's logic: the answers a form's values make, and what is wrong with them
// (the core checks again; this only saves a round trip).
import type { Field } from './bindings/Field';

/** One text value per field; a repeated field takes one value per line. */
export type Values = Record<string, string>;

/** Starting values: each field's default, or its first choice when it must have one. */
export function initialValues(fields: Field[]): Values {
  const values: Values = {};
  for (const f of fields) {
    values[f.key] = f.default ?? (f.required ? (f.choices[0] ?? '') : '');
  }
  return values;
}

/** `KEY=VALUE` pairs for the backend; empty optional fields are left out. */
export function answersOf(fields: Field[], values: Values): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const f of fields) {
    const raw = values[f.key] ?? '';
    const parts = f.repeated ? raw.split('\n') : [raw];
    for (const part of parts) {
      const value = f.repeated ? part.trim() : part;
      if (value === '') continue;
      out.push([f.key, value]);
    }
  }
  return out;
}

/** Problems the user can fix before sending, one per field at most. */
export function problems(fields: Field[], values: Values): Record<string, string> {
  const out: Record<string, string> = {};
  const answers = answersOf(fields, values);
  for (const f of fields) {
    const given = answers.filter(([k]) => k === f.key).map(([, v]) => v);
    if (given.length === 0) {
      if (f.required && (f.default ?? '') === '') out[f.key] = 'Required';
      continue;
    }
    for (const v of given) {
      if (f.choices.length > 0 && !f.choices.includes(v)) out[f.key] = `One of ${f.choices.join(', ')}`;
      else if (f.format === 'number' && Number.isNaN(Number(v))) out[f.key] = 'A number';
      else if (f.format === 'boolean' && v !== 'true' && v !== 'false') out[f.key] = 'true or false';
      else if (f.format === 'filepath' && !/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(v)) out[f.key] = 'An absolute path';
    }
  }
  return out;
}
