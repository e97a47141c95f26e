// The schema fuzzer's generator and oracle (test/helpers/schemaFuzz*.ts), without a server: every
// input of the schema gets its type's boundary values, the other arguments are valid for their
// types, a field added to the schema is fuzzed with no change to the fuzzer, and what "an error
// names the field" means is pinned.
import {
  coerceInputValue,
  isInputObjectType,
  isObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { inputLimits } from '../../src/graphql/schema';
import { schemaFuzzCases, type FuzzCase, type FuzzOptions } from '../helpers/schemaFuzz';
import { errorNames, namesTarget } from '../helpers/schemaFuzzOracle';
import { executableSchema, EXTRA_BAD_VALUES, validSeeds } from '../helpers/schemaFuzzSeeds';

const OPTIONS: FuzzOptions = {
  limits: inputLimits,
  valid: validSeeds({ productId: 1, code: 'FUZZ-SEED-1' }),
  seed: 42,
  randomTexts: 2,
  extraBadValues: EXTRA_BAD_VALUES,
};

/** Every argument of a root field and every input-object field, by coordinate. */
function inputCoordinates(schema: GraphQLSchema): string[] {
  const found: string[] = [];
  for (const root of [schema.getQueryType(), schema.getMutationType()])
    for (const field of Object.values(root?.getFields() ?? {}))
      for (const arg of field.args) found.push(`${root!.name}.${field.name}(${arg.name})`);
  for (const type of Object.values(schema.getTypeMap()))
    if (isInputObjectType(type) && !type.name.startsWith('__'))
      for (const field of Object.values(type.getFields())) found.push(`${type.name}.${field.name}`);
  return found.sort();
}

const kindsAt = (cases: readonly FuzzCase[], target: string) =>
  cases.filter((c) => c.target === target).map((c) => c.kind);

describe('schemaFuzzCases on the schema', () => {
  const schema = executableSchema();
  const cases = schemaFuzzCases(schema, OPTIONS);

  it('fuzzes every argument and every input-object field', () => {
    expect([...new Set(cases.map((c) => c.coordinate))].sort()).toEqual(inputCoordinates(schema));
  });

  it("sends each type's boundary values", () => {
    expect(kindsAt(cases, 'input.priceCents')).toEqual(
      expect.arrayContaining([
        'NonNegativeInt: -1',
        'NonNegativeInt: 0',
        'NonNegativeInt: 2^31-1',
        'NonNegativeInt: 2^31',
        'NonNegativeInt: 2^53',
        'NonNegativeInt: -2^31-1',
        'NonNegativeInt: one over its maximum',
      ]),
    );
    expect(kindsAt(cases, 'first')).toEqual(
      expect.arrayContaining(['Int: -1', 'Int: 0', 'Int: 2^31', 'Int: bad for its field (101)']),
    );
    expect(kindsAt(cases, 'id')).toEqual(
      expect.arrayContaining([
        'ID: "0"',
        'ID: "-1"',
        'ID: "2147483648"',
        'ID: "9223372036854775808"',
        'ID: "abc"',
        'ID: ""',
      ]),
    );
    expect(kindsAt(cases, 'filter.search')).toEqual(
      expect.arrayContaining([
        'String: empty',
        'String: NUL',
        'String: a lone high surrogate',
        'String: a lone low surrogate',
        'String: control characters',
        'String: 10k characters',
        'String: SQL quote',
        'String: format string',
        'String: one over its length (201)',
        'String: random',
      ]),
    );
    expect(kindsAt(cases, 'input.barcodes[0].symbology')).toEqual(
      expect.arrayContaining(['enum: an unknown value', 'enum: lower case']),
    );
    expect(kindsAt(cases, 'input')).toEqual(
      expect.arrayContaining([
        'null for a non-null type',
        'object: missing sku',
        'object: missing name',
        'object: an extra field',
      ]),
    );
  });

  it('sends lists empty and one over the cap that inputLimits declares', () => {
    const overCap = cases.find((c) => c.target === 'codes' && c.kind.startsWith('list: over'))!;
    expect(overCap.kind).toBe('list: over the cap (1001)');
    expect(overCap.variables.codes).toEqual(Array(1001).fill('FUZZ-SEED-1'));
    const items = cases.find((c) => c.target === 'items' && c.kind.startsWith('list: over'))!;
    expect(new Set((items.variables.items as { code: string }[]).map((item) => item.code)).size).toBe(1001);
    expect(kindsAt(cases, 'input.barcodes')).toEqual(
      expect.arrayContaining(['list: empty', 'list: over the cap (1001)']),
    );
  });

  it('gives every other argument a value its type accepts', () => {
    const problems: string[] = [];
    for (const fuzz of cases) {
      const field = (
        fuzz.operation === 'query' ? schema.getQueryType() : schema.getMutationType()
      )!.getFields()[fuzz.field]!;
      const fuzzed = /^\w+/.exec(fuzz.target)![0];
      for (const arg of field.args)
        if (arg.name !== fuzzed && arg.name in fuzz.variables)
          coerceInputValue(fuzz.variables[arg.name], arg.type as GraphQLInputType, (path, _value, error) =>
            problems.push(
              `${fuzz.coordinate} <${fuzz.kind}>: ${arg.name}${path.join('.')}: ${error.message}`,
            ),
          );
    }
    expect(problems).toEqual([]);
  });

  it('puts the bad value where the target says, in a document with every argument as a variable', () => {
    const fuzz = cases.find((c) => c.target === 'input.barcodes[0].code' && c.kind === 'String: NUL')!;
    expect(fuzz.query).toMatch(
      /^mutation Fuzz\(\$input: CreateProductInput!\) \{ createProduct\(input: \$input\) \{ __typename id /,
    );
    expect(fuzz.variables).toEqual({
      input: { sku: expect.stringMatching(/^FZ-SKU-\d+$/), name: 'Fuzzed', barcodes: [{ code: '\u0000' }] },
    });
  });

  it('is the same for the same seed, and its random texts differ for another', () => {
    const texts = (seed: number) =>
      schemaFuzzCases(schema, { ...OPTIONS, seed })
        .filter((c) => c.kind === 'String: random')
        .map((c) => JSON.stringify(c.variables));
    expect(texts(42)).toEqual(texts(42));
    expect(texts(43)).not.toEqual(texts(42));
  });
});

describe('a field added to the schema later', () => {
  const EXTENSION = `
    input ProductTag { label: String!, weight: Int }
    extend input ProductFilter { color: String }
    extend type Query { productsByColor(color: String!, limit: Int, tags: [ProductTag!]): [Product!]! }
  `;
  const before = schemaFuzzCases(executableSchema(), OPTIONS);
  const after = schemaFuzzCases(executableSchema([EXTENSION]), OPTIONS);

  it('is fuzzed without any change to the fuzzer, its table or the limits', () => {
    expect(kindsAt(after, 'filter.color')).toEqual(
      expect.arrayContaining(['String: NUL', 'String: 10k characters', 'String: a lone high surrogate']),
    );
    expect(kindsAt(after, 'color')).toEqual(
      expect.arrayContaining(['null for a non-null type', 'String: empty']),
    );
    expect(kindsAt(after, 'limit')).toEqual(expect.arrayContaining(['Int: 2^31', 'Int: -2^31-1']));
    expect(kindsAt(after, 'tags')).toEqual(
      expect.arrayContaining(['list: empty', 'list: over the cap (1001)']),
    );
    expect(kindsAt(after, 'tags[0]')).toEqual(
      expect.arrayContaining(['object: missing label', 'object: an extra field']),
    );
    expect(kindsAt(after, 'tags[0].weight')).toEqual(expect.arrayContaining(['Int: 2^53']));
    // Its other arguments valid: a case for `limit` has a valid required `color`.
    expect(after.find((c) => c.target === 'limit' && c.kind === 'Int: -1')!.variables).toEqual({
      color: 'fuzz',
      limit: -1,
    });
    // The cases of the fields that were there before are still all there.
    const keys = (list: readonly FuzzCase[]) =>
      new Set(list.map((c) => `${c.coordinate} ${c.target} ${c.kind}`));
    const afterKeys = keys(after);
    expect([...keys(before)].filter((key) => !afterKeys.has(key))).toEqual([]);
  });

  it('names the new scalar it has no valid value for, rather than sending garbage as "valid"', () => {
    const schema = executableSchema([
      'scalar Colour',
      'extend type Query { paint(colour: Colour!, code: String!): String }',
    ]);
    expect(isObjectType(schema.getQueryType())).toBe(true);
    expect(() => schemaFuzzCases(schema, OPTIONS)).toThrow(
      'schemaFuzz: no valid value for Colour at Query.paint(colour); add a seed for it',
    );
  });
});

describe('what names the field', () => {
  it.each([
    [
      'the boundary, by path from the argument',
      { field: 'input.barcodes[0].code' },
      'input.barcodes[0].code',
      true,
    ],
    [
      'a service, from inside the input object',
      { field: 'barcodes[0].code' },
      'input.barcodes[0].code',
      true,
    ],
    ['a more precise place', { field: 'items[3].code' }, 'items', true],
    ['another field', { field: 'input.name' }, 'input.sku', false],
    ['the enclosing list only', { field: 'barcodes' }, 'input.barcodes[0].code', false],
    ['nothing', {}, 'code', false],
  ])('%s', (_label, extensions, target, named) => {
    expect(namesTarget(errorNames({ message: 'x', extensions }), target)).toBe(named);
  });

  it.each([
    [
      'Variable "$input" got invalid value -1 at "input.priceCents"; Expected value of non-negative integer',
      'input.priceCents',
    ],
    ['Variable "$codes" got invalid value "a at \\"b\\"" at "codes[0]"; String cannot represent', 'codes[0]'],
    [
      'Variable "$first" got invalid value 2147483648; Int cannot represent non 32-bit signed integer value: 2147483648',
      'first',
    ],
    ['Variable "$input" of non-null type "CreateProductInput!" must not be null.', 'input'],
  ])("reads graphql-js's coercion message %#", (message, name) => {
    expect(errorNames({ message, extensions: { code: 'BAD_USER_INPUT' } })).toEqual([name]);
  });
});
