// JSON Schema helpers for the Tester's forms: follow local $refs, decide what control a schema
// needs, build a starting value, and strip what the user left empty before sending. Validation
// itself happens in the backend (the same validator the CLI uses) before anything is sent.
import type { JsonSchema } from './mcp';

export type Kind =
  | 'object'
  | 'array'
  | 'string'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'null'
  | 'enum'
  | 'union'
  | 'any';

const MAX_DEPTH = 8;

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Looks up a local reference such as `#/$defs/Address`. */
export function lookup(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return isObject(node) ? node : undefined;
}

/** The schema with its `$ref` chain followed; keywords beside a `$ref` win. */
export function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema;
  const seen = new Set<string>();
  while (typeof current.$ref === 'string' && !seen.has(current.$ref)) {
    seen.add(current.$ref);
    const target = lookup(root, current.$ref);
    if (!target) break;
    const { $ref: _ignored, ...siblings } = current;
    current = { ...target, ...siblings };
    if (typeof target.$ref === 'string' && siblings.$ref === undefined) current.$ref = target.$ref;
    else delete current.$ref;
  }
  return current;
}

function unionOf(schema: JsonSchema): JsonSchema[] | undefined {
  const list = (schema.anyOf ?? schema.oneOf) as unknown;
  return Array.isArray(list) ? list.filter(isObject) : undefined;
}

function isNull(schema: JsonSchema): boolean {
  return schema.type === 'null' || schema.const === null;
}

/** `anyOf: [X, {type: null}]` (what optional fields often look like) becomes X, nullable. */
export function unwrapNullable(schema: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const s = resolve(schema, root);
  const union = unionOf(s);
  if (union) {
    const rest = union.filter((v) => !isNull(resolve(v, root)));
    const only = rest[0];
    if (only && rest.length === 1 && rest.length < union.length) {
      const { anyOf: _a, oneOf: _o, ...outer } = s;
      return { schema: { ...resolve(only, root), ...outer }, nullable: true };
    }
  }
  if (Array.isArray(s.type)) {
    const types = (s.type as unknown[]).filter((t) => t !== 'null');
    if (types.length === 1 && types.length < s.type.length) {
      return { schema: { ...s, type: types[0] }, nullable: true };
    }
  }
  return { schema: s, nullable: false };
}

/** Which control a (resolved, unwrapped) schema needs. */
export function kindOf(schema: JsonSchema): Kind {
  if (Array.isArray(schema.enum) || 'const' in schema) return 'enum';
  if (unionOf(schema)) return 'union';
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object':
    case 'array':
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return type;
  }
  if (isObject(schema.properties)) return 'object';
  if (schema.items) return 'array';
  return 'any';
}

export interface Variant {
  label: string;
  schema: JsonSchema;
}

/** The choices of an `anyOf`/`oneOf`, with readable labels. */
export function variants(schema: JsonSchema, root: JsonSchema): Variant[] {
  return (unionOf(schema) ?? []).map((raw, i) => {
    const v = resolve(raw, root);
    const props = isObject(v.properties) ? Object.keys(v.properties) : [];
    const label =
      (typeof v.title === 'string' && v.title) ||
      (typeof raw.$ref === 'string' && raw.$ref.split('/').pop()) ||
      ('const' in v ? JSON.stringify(v.const) : '') ||
      (props.length ? `{ ${props.join(', ')} }` : '') ||
      (typeof v.type === 'string' ? v.type : `option ${i + 1}`);
    return { label, schema: raw };
  });
}

/** Which variant a value most likely belongs to (for showing an existing value). */
export function pickVariant(value: unknown, options: Variant[], root: JsonSchema): number {
  const index = options.findIndex(({ schema }) => {
    const s = resolve(schema, root);
    const kind = kindOf(s);
    if (kind === 'object' && isObject(value)) {
      const required = Array.isArray(s.required) ? (s.required as string[]) : [];
      return required.every((k) => k in value);
    }
    if (kind === 'array') return Array.isArray(value);
    if (kind === 'string') return typeof value === 'string';
    if (kind === 'number' || kind === 'integer') return typeof value === 'number';
    if (kind === 'boolean') return typeof value === 'boolean';
    if (kind === 'enum') return (s.enum as unknown[] | undefined)?.includes(value) ?? s.const === value;
    return false;
  });
  return Math.max(index, 0);
}

/** Properties of an object schema, required ones first, in declaration order otherwise. */
export function properties(schema: JsonSchema): Array<{ name: string; schema: JsonSchema; required: boolean }> {
  const props = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(props)
    .filter((entry): entry is [string, JsonSchema] => isObject(entry[1]))
    .map(([name, s]) => ({ name, schema: s, required: required.has(name) }))
    .sort((a, b) => Number(b.required) - Number(a.required));
}

/** A starting value: defaults where given, required parts filled in, optional parts left out. */
export function initialValue(raw: JsonSchema, root: JsonSchema, required = true, depth = 0): unknown {
  const { schema } = unwrapNullable(raw, root);
  // A JSON round trip: schemas may be reactive proxies, which structuredClone refuses.
  if ('default' in schema) return JSON.parse(JSON.stringify(schema.default ?? null));
  if (!required || depth > MAX_DEPTH) return undefined;
  switch (kindOf(schema)) {
    case 'object': {
      const value: Record<string, unknown> = {};
      for (const p of properties(schema)) {
        const v = initialValue(p.schema, root, p.required, depth + 1);
        if (v !== undefined) value[p.name] = v;
      }
      return value;
    }
    case 'array':
      return [];
    case 'boolean':
      return false;
    case 'enum':
      return Array.isArray(schema.enum) ? schema.enum[0] : schema.const;
    case 'union': {
      const first = variants(schema, root)[0];
      return first ? initialValue(first.schema, root, true, depth + 1) : undefined;
    }
    case 'string':
      return '';
    default:
      return undefined;
  }
}

/** Drops what the user left empty in optional fields (undefined, '', NaN, empty objects). */
export function prune(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(prune).filter((v) => v !== undefined);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = prune(v);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  if (value === '' || (typeof value === 'number' && Number.isNaN(value))) return undefined;
  return value;
}

/** Removes optional empty members, keeping required ones even when empty. */
export function pruneArgs(value: unknown, schema: JsonSchema): Record<string, unknown> {
  const pruned = (prune(value) ?? {}) as Record<string, unknown>;
  const source = (isObject(value) ? value : {}) as Record<string, unknown>;
  for (const p of properties(schema)) {
    if (p.required && !(p.name in pruned) && p.name in source && source[p.name] !== undefined) {
      pruned[p.name] = source[p.name];
    }
  }
  return pruned;
}

/** The HTML input type for a string schema's `format`. */
export function inputType(schema: JsonSchema): string {
  switch (schema.format) {
    case 'email':
      return 'email';
    case 'uri':
    case 'url':
      return 'url';
    case 'date':
      return 'date';
    case 'date-time':
      return 'datetime-local';
    case 'time':
      return 'time';
    default:
      return 'text';
  }
}

/** Splits a command line into argv: spaces separate, quotes group, backslash escapes. No shell. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line.charAt(++i);
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line.charAt(++i);
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}
