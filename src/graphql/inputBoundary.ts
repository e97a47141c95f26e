// The input boundary: every argument of every field, and every field of every input object in it,
// is checked once, before the resolver runs, against what its column can hold. Strings (String, ID
// and string scalars) go through checkText (NUL, lone surrogates, length); integers through
// checkInteger (a Postgres INTEGER's range unless the field narrows it); lists against their item
// cap. A violation is BAD_USER_INPUT naming the field by its path (`input.barcodes[0].code`).
//
// Why here and not in scalars: a scalar's error for a value written in the query document is a
// validation error (GRAPHQL_VALIDATION_FAILED, HTTP 400, no field in `extensions`), and bounded
// scalars (graphql-scalars' or our own) would change the schema's types under every client's
// variable declarations. Checking the coerced arguments keeps the schema as it is, names the field,
// and covers a field added later without anyone listing it: its strings get DEFAULT_LIMITS.
// The services keep the rules that are more than a column's size (trimming, minimum lengths,
// control characters, GTIN check digits, cursor and id formats).
import {
  buildASTSchema,
  getNamedType,
  GraphQLInputObjectType,
  GraphQLScalarType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  parse,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { badUserInput } from './errors';
import { checkInteger, checkText } from './input';

/** What one argument or input field may hold. */
export interface InputLimit {
  /** Longest text, in UTF-16 code units as sent (the column's size). */
  readonly maxLength?: number;
  /** Most items in a list. */
  readonly maxItems?: number;
  /** Integer range; a Postgres INTEGER's by default. */
  readonly min?: number;
  readonly max?: number;
  /**
   * The resolver checks each item itself and answers a bad one at its position (`barcodes(codes:)`),
   * so only the list's length is checked here. The resolver's own check must be at least as strict.
   */
  readonly perPosition?: boolean;
}

/**
 * Limits by schema coordinate: `Type.field` for an input object's field, `Type.field(arg)` for an
 * argument. Each module declares its own next to its rules; test/unit/inputBoundary.test.ts checks
 * that every string and list input of the schema has one.
 */
export type InputLimits = Readonly<Record<string, InputLimit>>;

/**
 * For an input nobody has declared: text as long as the longest column the API writes
 * (a description), lists as long as the API's other lists.
 */
export const DEFAULT_LIMITS = { maxLength: 5000, maxItems: 1000 } as const;

type Resolve = (source: unknown, args: Record<string, unknown>, context: unknown, info: unknown) => unknown;
type ResolverMap = Record<string, unknown>;

/**
 * The resolvers, with every field that takes arguments wrapped so that its arguments are checked
 * first. `typeDefs` are the SDL the resolvers belong to (the argument types come from there).
 */
export function guardResolvers<R extends object>(
  typeDefs: readonly string[],
  resolvers: readonly R[],
  limits: InputLimits,
): R[] {
  const schema = buildASTSchema(parse(typeDefs.join('\n')), { assumeValidSDL: true });
  return resolvers.map((map) => {
    const guarded: ResolverMap = { ...(map as ResolverMap) };
    for (const [typeName, fields] of Object.entries(guarded)) {
      const type = schema.getType(typeName);
      if (!isObjectType(type) || typeof fields !== 'object' || fields === null) continue;
      const wrapped: ResolverMap = { ...(fields as ResolverMap) };
      for (const [fieldName, resolver] of Object.entries(wrapped)) {
        const field = type.getFields()[fieldName];
        if (field && field.args.length > 0 && typeof resolver === 'function') {
          wrapped[fieldName] = guardField(typeName, field, resolver as Resolve, limits);
        }
      }
      guarded[typeName] = wrapped;
    }
    return guarded as R;
  });
}

function checkArguments(
  typeName: string,
  field: GraphQLField<unknown, unknown>,
  args: Record<string, unknown>,
  limits: InputLimits,
): void {
  for (const arg of field.args) {
    checkValue(args[arg.name], arg.type, arg.name, `${typeName}.${field.name}(${arg.name})`, limits);
  }
}

function guardField(
  typeName: string,
  field: GraphQLField<unknown, unknown>,
  resolve: Resolve,
  limits: InputLimits,
): Resolve {
  return (source, args, context, info) => {
    checkArguments(typeName, field, args, limits);
    return resolve(source, args, context, info);
  };
}

function checkValue(
  value: unknown,
  type: GraphQLInputType,
  path: string,
  coordinate: string,
  limits: InputLimits,
): void {
  if (value == null) return;
  if (isNonNullType(type)) return checkValue(value, type.ofType, path, coordinate, limits);
  const limit = limits[coordinate] ?? {};
  if (isListType(type)) {
    // graphql-js has already coerced a single value given for a list into a list of one.
    const items = value as unknown[];
    const maxItems = limit.maxItems ?? DEFAULT_LIMITS.maxItems;
    if (items.length > maxItems) {
      const noun = path.replace(/^.*\./, '');
      throw badUserInput(`Too many ${noun}: at most ${maxItems}, got ${items.length}`, { field: path });
    }
    if (limit.perPosition) return;
    items.forEach((item, index) => checkValue(item, type.ofType, `${path}[${index}]`, coordinate, limits));
    return;
  }
  if (isInputObjectType(type)) return checkInputObject(value as Record<string, unknown>, type, path, limits);
  if (!(getNamedType(type) instanceof GraphQLScalarType)) return; // enums
  if (typeof value === 'string') checkText(value, path, limit.maxLength ?? DEFAULT_LIMITS.maxLength);
  else if (typeof value === 'number' && Number.isInteger(value))
    checkInteger(value, path, limit.min, limit.max);
}

function checkInputObject(
  value: Record<string, unknown>,
  type: GraphQLInputObjectType,
  path: string,
  limits: InputLimits,
): void {
  for (const field of Object.values(type.getFields())) {
    checkValue(value[field.name], field.type, `${path}.${field.name}`, `${type.name}.${field.name}`, limits);
  }
}
