import { describe, expect, it } from 'vitest';
import {
  initialValue,
  kindOf,
  pickVariant,
  properties,
  pruneArgs,
  resolve,
  splitCommandLine,
  unwrapNullable,
  variants,
} from './schema';

// What schemars (Rust) produces for the fixture's `ship` tool, and what Pydantic produces for
// optional fields: $defs, $ref, anyOf, enums, defaults.
const ship = {
  type: 'object',
  properties: {
    destination: { $ref: '#/$defs/Address' },
    priority: { $ref: '#/$defs/Priority', default: 'normal' },
    contact: { $ref: '#/$defs/Contact' },
    items: { type: 'array', items: { $ref: '#/$defs/Item' } },
    gift: { type: 'boolean', default: false, description: 'Gift wrapping.' },
    note: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null },
  },
  required: ['destination', 'contact', 'items'],
  $defs: {
    Address: {
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' }, country: { type: ['string', 'null'] } },
      required: ['street', 'city'],
    },
    Priority: { type: 'string', enum: ['low', 'normal', 'urgent'] },
    Contact: {
      anyOf: [
        { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] },
        { type: 'object', properties: { phone: { type: 'string' } }, required: ['phone'] },
      ],
    },
    Item: { type: 'object', properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1, default: 1 } }, required: ['sku'] },
  },
};

describe('schema helpers', () => {
  it('follows $refs and keeps sibling keywords', () => {
    const priority = resolve(ship.properties.priority, ship);
    expect(priority.enum).toEqual(['low', 'normal', 'urgent']);
    expect(priority.default).toBe('normal');
    expect(kindOf(priority)).toBe('enum');
  });

  it('treats anyOf-with-null and type arrays as nullable', () => {
    const note = unwrapNullable(ship.properties.note, ship);
    expect(note.nullable).toBe(true);
    expect(kindOf(note.schema)).toBe('string');
    const country = unwrapNullable(ship.$defs.Address.properties.country, ship);
    expect(country).toEqual({ schema: { type: 'string' }, nullable: true });
  });

  it('labels union variants by their properties and picks the one a value matches', () => {
    const contact = resolve(ship.properties.contact, ship);
    expect(kindOf(contact)).toBe('union');
    const options = variants(contact, ship);
    expect(options.map((o) => o.label)).toEqual(['{ email }', '{ phone }']);
    expect(pickVariant({ phone: '555' }, options, ship)).toBe(1);
  });

  it('starts from defaults and fills only what is required', () => {
    expect(initialValue(ship, ship)).toEqual({
      destination: { street: '', city: '' },
      contact: { email: '' },
      items: [],
      priority: 'normal',
      gift: false,
      note: null,
    });
    expect(properties(ship).slice(0, 3).map((p) => p.name)).toEqual(['destination', 'contact', 'items']);
  });

  it('drops empty optional fields before sending but keeps required ones', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' }, n: { type: 'number' } }, required: ['a'] };
    expect(pruneArgs({ a: '', b: '', n: Number.NaN }, schema)).toEqual({ a: '' });
    expect(pruneArgs({ a: 'x', b: 'y', n: 3 }, schema)).toEqual({ a: 'x', b: 'y', n: 3 });
  });

  it('splits command lines without a shell', () => {
    expect(splitCommandLine('npx -y @scope/pkg "a b" \'c d\' e\\ f')).toEqual(['npx', '-y', '@scope/pkg', 'a b', 'c d', 'e f']);
    expect(splitCommandLine('  node   server.js  ')).toEqual(['node', 'server.js']);
    expect(splitCommandLine('x ""')).toEqual(['x', '']);
    expect(() => splitCommandLine('x "open')).toThrow(/unclosed/);
  });
});
