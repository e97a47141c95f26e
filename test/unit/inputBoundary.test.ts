import {
  buildASTSchema,
  getNamedType,
  GraphQLError,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  parse,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { checkInteger, checkText } from '../../src/graphql/input';
import { DEFAULT_LIMITS, guardResolvers, type InputLimits } from '../../src/graphql/inputBoundary';
import { inputLimits, loadTypeDefs } from '../../src/graphql/schema';

/** The BAD_USER_INPUT message a call throws, checked for its code and field. */
function rejection(call: () => unknown, field: string): string {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    return (error as GraphQLError).message;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('checkText', () => {
  it('passes text up to the limit, any Unicode included', () => {
    expect(() => checkText('', 'name', 3)).not.toThrow();
    expect(() => checkText('abc', 'name', 3)).not.toThrow();
    expect(() => checkText('\u{1f600}', 'name', 2)).not.toThrow(); // one surrogate pair
    expect(() => checkText('tab\tand\nnewline\u0001', 'name', 100)).not.toThrow(); // the services' rules
  });

  it.each([
    ['too long', 'abcd', 'Invalid name: expected at most 3 characters, got 4'],
    ['a NUL', 'a\u0000b', 'Invalid name: NUL characters (U+0000) are not allowed'],
    ['a lone high surrogate', 'a\ud800', 'Invalid name: not well-formed Unicode (a lone surrogate)'],
    ['a lone low surrogate', '\udfffa', 'Invalid name: not well-formed Unicode (a lone surrogate)'],
    ['a reversed pair', '\ude00\ud83d', 'Invalid name: not well-formed Unicode (a lone surrogate)'],
  ])('refuses %s', (_label, value, message) => {
    expect(rejection(() => checkText(value, 'name', 3), 'name')).toBe(message);
  });

  it('counts the text as sent, before any trimming', () => {
    expect(rejection(() => checkText(' abc ', 'sku', 3), 'sku')).toBe(
      'Invalid sku: expected at most 3 characters, got 5',
    );
  });
});

describe('checkInteger', () => {
  it('takes a Postgres INTEGER by default, bounds inclusive', () => {
    for (const value of [-(2 ** 31), -1, 0, 2 ** 31 - 1])
      expect(() => checkInteger(value, 'n')).not.toThrow();
  });

  it.each([
    [2 ** 31, 'Invalid n: expected an integer -2147483648-2147483647, got 2147483648'],
    [-(2 ** 31) - 1, 'Invalid n: expected an integer -2147483648-2147483647, got -2147483649'],
    [2 ** 53, 'Invalid n: expected an integer -2147483648-2147483647, got 9007199254740992'],
  ])('refuses %p', (value, message) => {
    expect(rejection(() => checkInteger(value, 'n'), 'n')).toBe(message);
  });

  it('takes a narrower range', () => {
    expect(rejection(() => checkInteger(-1, 'input.priceCents', 0, 10), 'input.priceCents')).toBe(
      'Invalid input.priceCents: expected an integer 0-10, got -1',
    );
  });
});

describe('guardResolvers', () => {
  const SDL = [
    `input Item { code: String!, qty: Int, tags: [String!] }
     input Order { note: String, items: [Item!]!, kind: Kind }
     enum Kind { A B }
     type Query { echo(text: String, order: Order, codes: [String!], n: Int): String, plain: String }`,
  ];
  const calls: unknown[] = [];
  const limits: InputLimits = {
    'Query.echo(text)': { maxLength: 5 },
    'Query.echo(codes)': { maxItems: 2, perPosition: true },
    'Item.code': { maxLength: 3 },
    'Item.qty': { min: 0, max: 9 },
    'Order.items': { maxItems: 2 },
  };
  const plain = () => 'plain';
  const [guarded] = guardResolvers(
    SDL,
    [{ Query: { echo: (_: unknown, args: unknown) => (calls.push(args), 'ok'), plain } }],
    limits,
  );
  const echo = (args: Record<string, unknown>) =>
    (guarded!.Query.echo as (s: unknown, a: unknown, c: unknown, i: unknown) => unknown)(null, args, {}, {});

  it('calls the resolver when every argument fits', () => {
    calls.length = 0;
    const args = {
      text: 'hello',
      order: { note: 'n', items: [{ code: 'abc', qty: 9, tags: ['x'] }], kind: 'A' },
      codes: ['x'.repeat(10_000), 'a\u0000'],
      n: -(2 ** 31),
    };
    expect(echo(args)).toBe('ok');
    expect(calls).toEqual([args]);
  });

  it.each([
    ['a long text', { text: 'toolong' }, 'text', 'Invalid text: expected at most 5 characters, got 7'],
    ['a NUL', { text: 'a\u0000' }, 'text', 'Invalid text: NUL characters (U+0000) are not allowed'],
    [
      'a lone surrogate in an object in a list',
      { order: { items: [{ code: 'ok' }, { code: '\ud800' }] } },
      'order.items[1].code',
      'Invalid order.items[1].code: not well-formed Unicode (a lone surrogate)',
    ],
    [
      'an integer beyond its range',
      { order: { items: [{ code: 'ok', qty: 10 }] } },
      'order.items[0].qty',
      'Invalid order.items[0].qty: expected an integer 0-9, got 10',
    ],
    [
      'a NUL in a list in a list',
      { order: { items: [{ code: 'a', tags: ['a\u0000'] }] } },
      'order.items[0].tags[0]',
      'Invalid order.items[0].tags[0]: NUL characters (U+0000) are not allowed',
    ],
    [
      'one item over the cap',
      { order: { items: [{ code: 'a' }, { code: 'b' }, { code: 'c' }] } },
      'order.items',
      'Too many items: at most 2, got 3',
    ],
    [
      'one code over the cap (per-position lists too)',
      { codes: ['a', 'b', 'c'] },
      'codes',
      'Too many codes: at most 2, got 3',
    ],
    [
      'an undeclared text over the default',
      { order: { note: 'x'.repeat(DEFAULT_LIMITS.maxLength + 1), items: [] } },
      'order.note',
      `Invalid order.note: expected at most ${DEFAULT_LIMITS.maxLength} characters, got ${DEFAULT_LIMITS.maxLength + 1}`,
    ],
    [
      'an undeclared list over the default',
      { order: { items: [{ code: 'a', tags: Array(DEFAULT_LIMITS.maxItems + 1).fill('t') }] } },
      'order.items[0].tags',
      `Too many tags: at most ${DEFAULT_LIMITS.maxItems}, got ${DEFAULT_LIMITS.maxItems + 1}`,
    ],
  ])('refuses %s before the resolver runs', (_label, args, field, message) => {
    calls.length = 0;
    expect(rejection(() => echo(args), field)).toBe(message);
    expect(calls).toEqual([]);
  });

  it('leaves fields without arguments as they were', () => {
    expect(guarded!.Query.plain).toBe(plain);
  });
});

/** Every argument and input-object field of the schema, by coordinate, with its type. */
function inputCoordinates(schema: GraphQLSchema): [string, GraphQLInputType][] {
  const found: [string, GraphQLInputType][] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type))
      for (const field of Object.values(type.getFields()))
        for (const arg of field.args) found.push([`${type.name}.${field.name}(${arg.name})`, arg.type]);
    if (isInputObjectType(type))
      for (const field of Object.values(type.getFields()))
        found.push([`${type.name}.${field.name}`, field.type]);
  }
  return found;
}

describe("the schema's input limits", () => {
  const schema = buildASTSchema(parse(loadTypeDefs().join('\n')));
  const coordinates = inputCoordinates(schema);

  // A new string or list input must say what its column holds; DEFAULT_LIMITS is only the backstop.
  it('declare every string and list input of the schema', () => {
    const undeclared = coordinates
      .filter(([, type]) => {
        const unwrapped = isNonNullType(type) ? type.ofType : type;
        const named = getNamedType(type);
        const stringy =
          !isEnumType(named) &&
          !isInputObjectType(named) &&
          !['Int', 'Boolean', 'Float', 'NonNegativeInt'].includes(named.name);
        return isListType(unwrapped) || stringy;
      })
      .map(([coordinate]) => coordinate)
      .filter((coordinate) => !inputLimits[coordinate]);
    expect(undeclared).toEqual([]);
  });

  it('name only coordinates the schema has', () => {
    const known = new Set(coordinates.map(([coordinate]) => coordinate));
    expect(Object.keys(inputLimits).filter((coordinate) => !known.has(coordinate))).toEqual([]);
  });
});
