// Fuzz cases derived from an executable schema, so that a field added later is fuzzed without
// anyone listing it. For every argument of every Query and Mutation field, and every field of
// every input object inside it (recursively), the boundary values of its type are generated
// (BAD_VALUES: Int, ID, String, Boolean, enums, custom scalars, lists, input objects), each put in
// a request whose other arguments hold valid values (from a table of seeds keyed by schema
// coordinate or type, ValidSeeds), so that the bad value gets past everything else to its resolver.
// Each case says which input it fuzzes (`target`, the path a field-naming error should give).
import fc from 'fast-check';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { DEFAULT_LIMITS, type InputLimits } from '../../src/graphql/inputBoundary';

export interface FuzzCase {
  readonly operation: 'query' | 'mutation';
  /** The root field, e.g. `createProduct`. */
  readonly field: string;
  /** The schema coordinate of the fuzzed input: `Mutation.createProduct(input)`, `BarcodeInput.code`. */
  readonly coordinate: string;
  /** Its path from the argument, as errors name it: `input.barcodes[0].code`. */
  readonly target: string;
  /** What was sent there: `String: NUL`, `list: over the cap (1001)`, `object: missing sku`. */
  readonly kind: string;
  readonly query: string;
  readonly variables: Record<string, unknown>;
}

/** A fresh number on every call, for values that must be unique (skus, codes). */
export type Fresh = () => number;

/**
 * Valid values, by schema coordinate first (`Query.barcode(code)`, `CreateProductInput.sku`),
 * then by named type (`ID`, `String`, `NonNegativeInt`). Enums default to their first value and
 * input objects to their required fields; a scalar with no seed is an error naming it.
 */
export interface ValidSeeds {
  readonly byCoordinate: Readonly<Record<string, (fresh: Fresh) => unknown>>;
  readonly byType: Readonly<Record<string, (fresh: Fresh) => unknown>>;
}

export interface FuzzOptions {
  readonly limits: InputLimits;
  readonly valid: ValidSeeds;
  readonly seed: number;
  /** Random strings (fast-check, seeded) per text input, besides the fixed boundary values. */
  readonly randomTexts?: number;
  /** More bad values for some inputs, by the input's own name (`code`), e.g. domain rules. */
  readonly extraBadValues?: Readonly<Record<string, readonly unknown[]>>;
}

interface BadValue {
  readonly label: string;
  readonly value: unknown;
}

const named = (entries: Record<string, unknown>): BadValue[] =>
  Object.entries(entries).map(([label, value]) => ({ label, value }));

/** Values of the wrong JSON kind for a scalar (graphql-js's coercion must refuse them). */
const WRONG_KINDS = { 'a float': 1.5, 'a boolean': true, 'an object': { a: 1 }, 'a list': [[1]] };

const INT_VALUES = named({
  '-1': -1,
  '0': 0,
  '2^31-1': 2 ** 31 - 1,
  '2^31': 2 ** 31,
  '2^53': 2 ** 53,
  '-2^31-1': -(2 ** 31) - 1,
  'a numeric string': '1',
  'a float': 1.5,
  'a boolean': true,
});

const TEXT_VALUES = named({
  empty: '',
  blank: '   ',
  NUL: '\u0000',
  'NUL inside': 'a\u0000b',
  'a lone high surrogate': '\ud800',
  'a lone low surrogate': 'x\udfff',
  'a reversed surrogate pair': '\ude00\ud83d',
  'control characters': '\u0007\u0008\u001b[31m\u007f\u0085',
  'newlines and tabs': 'a\r\n\tb',
  '10k characters': 'x'.repeat(10_000),
  'SQL quote': "'; DROP TABLE products; --",
  'SQL tautology': "' OR '1'='1",
  'LIKE wildcards': '%_\\',
  'format string': '%s%n%x%d',
  'template injection': '${jndi:ldap://x}{{7*7}}',
  'an emoji': '\u{1f600}',
});

const ID_VALUES = named({
  '"0"': '0',
  '"-1"': '-1',
  '"2147483648"': '2147483648',
  '"9223372036854775808"': '9223372036854775808',
  '"abc"': 'abc',
  '""': '',
  '"2147483647" (no such row)': '2147483647',
  '" 1"': ' 1',
  '"1.0"': '1.0',
  '"0x1"': '0x1',
  NUL: '1\u0000',
  'a lone surrogate': '\ud800',
  '10k characters': '9'.repeat(10_000),
  'the number -1': -1,
  'a float': 1.5,
  'a boolean': true,
});

const BAD_VALUES: Readonly<Record<string, readonly BadValue[]>> = {
  Int: INT_VALUES,
  Float: named({ '-1': -1, '1e308': 1e308, 'a numeric string': '1', 'a boolean': true }),
  Boolean: named({ '"true"': 'true', '0': 0, '1': 1, '""': '' }),
  ID: ID_VALUES,
  String: [...TEXT_VALUES, ...named({ 'a number': 1, ...WRONG_KINDS })],
};

/** A custom scalar (NonNegativeInt, a later Code scalar, …) gets every integer and text boundary. */
const CUSTOM_SCALAR_VALUES: readonly BadValue[] = [
  ...INT_VALUES,
  ...TEXT_VALUES.filter(({ label }) =>
    ['empty', 'NUL', 'a lone high surrogate', '10k characters'].includes(label),
  ),
  ...named({ 'a float': 1.5, 'a boolean': true, 'an object': { a: 1 } }),
];

const ENUM_VALUES = (values: readonly string[]): BadValue[] =>
  named({
    'an unknown value': 'NOT_A_VALUE',
    'lower case': values[0]!.toLowerCase(),
    '""': '',
    'a number': 1,
  });

/** Text that is random in content: printable, any UTF-16 unit, any grapheme. */
const randomText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** Every case for every argument of every root field, in schema order. */
export function schemaFuzzCases(schema: GraphQLSchema, options: FuzzOptions): FuzzCase[] {
  const generator = new CaseGenerator(options);
  const cases: FuzzCase[] = [];
  for (const [operation, root] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const) {
    if (!root) continue;
    for (const field of Object.values(root.getFields()))
      for (const arg of field.args) cases.push(...generator.casesFor(operation, root, field, arg));
  }
  return cases;
}

interface Placed {
  readonly target: string;
  readonly coordinate: string;
  readonly kind: string;
  readonly value: unknown;
}

class CaseGenerator {
  private counter = 0;
  private readonly fresh: Fresh = () => ++this.counter;

  constructor(private readonly options: FuzzOptions) {}

  casesFor(
    operation: 'query' | 'mutation',
    root: GraphQLObjectType,
    field: GraphQLField<unknown, unknown>,
    arg: GraphQLArgument,
  ): FuzzCase[] {
    const coordinate = `${root.name}.${field.name}(${arg.name})`;
    return [...this.badValues(arg.type, coordinate, arg.name, [])].map((placed) => ({
      operation,
      field: field.name,
      coordinate: placed.coordinate,
      target: placed.target,
      kind: placed.kind,
      ...request(operation, field, { ...this.validArguments(root, field, arg), [arg.name]: placed.value }),
    }));
  }

  /** Valid values for every required argument but `except`, and for optional ones with a seed. */
  private validArguments(
    root: GraphQLObjectType,
    field: GraphQLField<unknown, unknown>,
    except: GraphQLArgument,
  ): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const arg of field.args) {
      const coordinate = `${root.name}.${field.name}(${arg.name})`;
      if (arg === except) continue;
      if (isNonNullType(arg.type) || this.options.valid.byCoordinate[coordinate])
        values[arg.name] = this.validValue(arg.type, coordinate);
    }
    return values;
  }

  /** A valid value: a list of one valid item; a seed (for one item) by coordinate or by type. */
  validValue(type: GraphQLInputType, coordinate: string): unknown {
    const nullable = getNullableType(type);
    if (isListType(nullable)) return [this.validValue(nullable.ofType, coordinate)];
    const seed = this.options.valid.byCoordinate[coordinate] ?? this.options.valid.byType[nullable.name];
    if (seed) return seed(this.fresh);
    if (isInputObjectType(nullable)) {
      const object: Record<string, unknown> = {};
      for (const inner of Object.values(nullable.getFields()))
        if (isNonNullType(inner.type) && inner.defaultValue === undefined)
          object[inner.name] = this.validValue(inner.type, `${nullable.name}.${inner.name}`);
      return object;
    }
    if (isEnumType(nullable)) return nullable.getValues()[0]!.name;
    throw new Error(`schemaFuzz: no valid value for ${nullable.name} at ${coordinate}; add a seed for it`);
  }

  /** The bad values for an input of this type at this path, and inside it. */
  private *badValues(
    type: GraphQLInputType,
    coordinate: string,
    path: string,
    objectsAbove: readonly string[],
  ): Generator<Placed> {
    const at = (kind: string, value: unknown): Placed => ({ target: path, coordinate, kind, value });
    if (isNonNullType(type)) {
      yield at('null for a non-null type', null);
      yield* this.badValues(type.ofType, coordinate, path, objectsAbove);
      return;
    }
    if (isListType(type)) {
      const cap = this.options.limits[coordinate]?.maxItems ?? DEFAULT_LIMITS.maxItems;
      yield at('list: empty', []);
      yield at(
        `list: over the cap (${cap + 1})`,
        Array.from({ length: cap + 1 }, () => this.validValue(type.ofType, coordinate)),
      );
      // Each bad item as the first of the list (an item may also be a list or an object).
      for (const inner of this.badValues(type.ofType, coordinate, `${path}[0]`, objectsAbove))
        yield { ...inner, value: [inner.value] };
      return;
    }
    if (isInputObjectType(type)) {
      const valid = this.validValue(type, coordinate) as Record<string, unknown>;
      const fields = Object.values(type.getFields());
      for (const field of fields)
        if (isNonNullType(field.type) && field.defaultValue === undefined) {
          const { [field.name]: _missing, ...rest } = this.validValue(type, coordinate) as Record<
            string,
            unknown
          >;
          yield at(`object: missing ${field.name}`, rest);
        }
      yield at('object: an extra field', { ...valid, fuzzExtraField: 'x' });
      yield at('object: a string', 'x');
      if (objectsAbove.includes(type.name)) return; // a recursive input type: one level is enough
      for (const field of fields) {
        const inner = `${type.name}.${field.name}`;
        for (const placed of this.badValues(field.type, inner, `${path}.${field.name}`, [
          ...objectsAbove,
          type.name,
        ])) {
          // The object's required fields valid (fresh ones for each case), the fuzzed one bad.
          const object = this.validValue(type, coordinate) as Record<string, unknown>;
          yield { ...placed, value: { ...object, [field.name]: placed.value } };
        }
      }
      return;
    }
    if (isEnumType(type)) {
      for (const bad of ENUM_VALUES(type.getValues().map((v) => v.name)))
        yield at(`enum: ${bad.label}`, bad.value);
      return;
    }
    const name = type.name;
    for (const bad of BAD_VALUES[name] ?? CUSTOM_SCALAR_VALUES) yield at(`${name}: ${bad.label}`, bad.value);
    // Just past what the input boundary declares for this input (its column).
    const limit = this.options.limits[coordinate];
    if (limit?.maxLength !== undefined)
      yield at(`${name}: one over its length (${limit.maxLength + 1})`, 'x'.repeat(limit.maxLength + 1));
    if (limit?.min !== undefined) yield at(`${name}: one under its minimum`, limit.min - 1);
    if (limit?.max !== undefined) yield at(`${name}: one over its maximum`, limit.max + 1);
    for (const value of this.options.extraBadValues?.[leafName(path)] ?? [])
      yield at(`${name}: bad for its field (${JSON.stringify(value).slice(0, 40)})`, value);
    if (name === 'String' || name === 'ID') {
      const seed = this.options.seed ^ hash(`${coordinate} ${path}`);
      for (const value of fc.sample(randomText, { seed, numRuns: this.options.randomTexts ?? 0 }))
        yield at(`${name}: random`, value);
    }
  }
}

/** The input's own name: `code` for `input.barcodes[0].code`, `codes` for `codes[0]`. */
function leafName(path: string): string {
  return path
    .replace(/(\[\d+\])+$/, '')
    .split('.')
    .pop()!;
}

/** The document for one root field with every argument as a variable, and a selection of leaves. */
function request(
  operation: 'query' | 'mutation',
  field: GraphQLField<unknown, unknown>,
  variables: Record<string, unknown>,
): { query: string; variables: Record<string, unknown> } {
  const args = field.args.filter((arg) => arg.name in variables);
  const declarations = args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const passed = args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const query =
    `${operation} Fuzz${declarations ? `(${declarations})` : ''} ` +
    `{ ${field.name}${passed ? `(${passed})` : ''}${selection(field.type, 2)} }`;
  return { query, variables };
}

/** Leaves down to `depth` levels (fields without required arguments), so their resolvers run too. */
function selection(type: GraphQLOutputType, depth: number): string {
  const object = getNamedType(type);
  if (isLeafType(object) || !isObjectType(object)) return '';
  const parts = ['__typename'];
  if (depth > 0)
    for (const field of Object.values(object.getFields())) {
      if (field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined)) continue;
      const inner = getNamedType(field.type);
      if (isScalarType(inner) || isEnumType(inner)) parts.push(field.name);
      else parts.push(`${field.name}${selection(field.type, depth - 1)}`);
    }
  return ` { ${parts.join(' ')} }`;
}

/** FNV-1a, so that each input's random texts depend on the seed and on the input only. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
