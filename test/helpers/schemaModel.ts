// What prisma/schema.prisma declares versus what a database actually has, in one comparable shape.
//
// The declared side comes from Prisma's own schema parser: the prisma-schema wasm module the
// `prisma` CLI ships (node_modules/prisma/build/prisma_schema_build_bg.wasm), whose `get_dmmf`
// turns schema text into the DMMF. The CLI bundles its JS glue inside cli.js, so the few lines of
// wasm-bindgen glue `get_dmmf` needs are reimplemented here. Reading schema.prisma directly (not
// the generated client) means a schema edit is seen even before `npm run generate`.
//
// The actual side comes from pg_catalog, through the same SqlSession the migration runner uses, so
// it works on Postgres and on PGlite alike.
//
// Both sides are reduced to a SchemaShape; diffShapes() lists every difference in both directions.
// Anything this helper cannot translate (implicit many-to-many, multiSchema, literal DateTime
// defaults, ...) throws instead of being skipped, so a new schema feature cannot slip past it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SqlSession } from '../../src/db/sql';

export const SCHEMA_PATH = path.resolve(__dirname, '../../prisma/schema.prisma');

/** Postgres' NAMEDATALEN - 1; Prisma truncates the default constraint names it generates to this. */
const PG_MAX_IDENTIFIER_LENGTH = 63;

// ---------------------------------------------------------------------------------------------
// The DMMF (only the parts used here).

export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  schema: string | null;
  fields: DmmfField[];
}

export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName: string | null }[];
}

export interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  algorithm?: string;
  where?: string;
  fields: { name: string; sortOrder?: 'asc' | 'desc' }[];
}

export interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  types: unknown[];
  indexes: DmmfIndex[];
}

// The WebAssembly global, typed just enough here: the project's `lib` (ES2023, no DOM) and
// @types/node 20 do not declare it.
interface WasmTable {
  grow(delta: number): number;
  get(index: number): unknown;
  set(index: number, value: unknown): void;
}
interface WasmApi {
  Module: { new (bytes: Uint8Array): object; imports(module: object): { module: string; name: string }[] };
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const { WebAssembly } = globalThis as unknown as { WebAssembly: WasmApi };

interface SchemaWasm {
  memory: { buffer: ArrayBuffer };
  get_dmmf(ptr: number, len: number): [number, number, number, number];
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  __wbindgen_externrefs: WasmTable;
  __externref_table_dealloc(index: number): void;
  __wbindgen_start(): void;
}

let wasm: SchemaWasm | undefined;

function schemaWasm(): SchemaWasm {
  if (wasm) return wasm;
  // `prisma/build/index.js` is an exported entry point; the wasm file sits next to it.
  const file = path.join(
    path.dirname(require.resolve('prisma/build/index.js')),
    'prisma_schema_build_bg.wasm',
  );
  const wasmModule = new WebAssembly.Module(readFileSync(file));
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const text = (ptr: number, len: number) =>
    decoder.decode(new Uint8Array(instance.memory.buffer, ptr >>> 0, len >>> 0));
  let panicMessage = '';
  // wasm-bindgen suffixes its import names with a hash that changes between builds: match prefixes.
  const imports: Record<string, (...args: number[]) => unknown> = {};
  for (const { name } of WebAssembly.Module.imports(wasmModule)) {
    if (name.startsWith('__wbg_Error_')) imports[name] = (ptr, len) => new Error(text(ptr, len));
    else if (name.startsWith('__wbg___wbindgen_throw_'))
      imports[name] = (ptr, len) => {
        throw new Error(text(ptr, len));
      };
    else if (name.startsWith('__wbg_set_message_'))
      imports[name] = (ptr, len) => {
        panicMessage = text(ptr, len);
      };
    else if (name === '__wbindgen_init_externref_table')
      imports[name] = () => {
        const table = instance.__wbindgen_externrefs;
        const offset = table.grow(4);
        table.set(0, undefined);
        table.set(offset + 0, undefined);
        table.set(offset + 1, null);
        table.set(offset + 2, true);
        table.set(offset + 3, false);
      };
    else
      imports[name] = () => {
        throw new Error(
          `prisma-schema wasm called an import this glue does not provide: ${name} (${panicMessage})`,
        );
      };
  }
  const instance = new WebAssembly.Instance(wasmModule, { __wbindgen_placeholder__: imports })
    .exports as unknown as SchemaWasm;
  instance.__wbindgen_start();
  wasm = instance;
  return instance;
}

/** Prisma's own parse of a schema: `getDMMF` as `prisma generate` runs it. Throws on an invalid schema. */
export function getDatamodel(schemaText: string): Datamodel {
  const w = schemaWasm();
  const input = new TextEncoder().encode(JSON.stringify({ prismaSchema: schemaText, noColor: true }));
  const ptr = w.__wbindgen_malloc(input.length, 1) >>> 0;
  new Uint8Array(w.memory.buffer, ptr, input.length).set(input);
  const [outPtr, outLen, errorRef, failed] = w.get_dmmf(ptr, input.length);
  if (failed) {
    const error = w.__wbindgen_externrefs.get(errorRef) as Error;
    w.__externref_table_dealloc(errorRef);
    throw new Error(`prisma/schema.prisma does not validate: ${error.message}`);
  }
  try {
    const json = new TextDecoder().decode(new Uint8Array(w.memory.buffer, outPtr >>> 0, outLen >>> 0));
    return (JSON.parse(json) as { datamodel: Datamodel }).datamodel;
  } finally {
    w.__wbindgen_free(outPtr, outLen, 1);
  }
}

export function readSchemaText(file: string = SCHEMA_PATH): string {
  return readFileSync(file, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// The comparable shape.

export interface ColumnShape {
  /** format_type() output, or `enum:<type name>` for enum columns (`[]` appended for lists). */
  type: string;
  nullable: boolean;
  /** The default expression with a literal's `::type` cast removed; `autoincrement()` for a sequence. */
  default: string | null;
}

export interface IndexShape {
  /** Key columns in order, ` DESC` appended where descending. */
  columns: string[];
  primary: boolean;
  unique: boolean;
  method: string;
  where: string | null;
}

export interface ForeignKeyShape {
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface TableShape {
  columns: Record<string, ColumnShape>;
  /** Every index, the primary key's and unique constraints' included, by name. */
  indexes: Record<string, IndexShape>;
  foreignKeys: Record<string, ForeignKeyShape>;
}

export interface SchemaShape {
  tables: Record<string, TableShape>;
  /** Enum type name → labels in declaration order. */
  enums: Record<string, string[]>;
}

// ---------------------------------------------------------------------------------------------
// schema.prisma → shape

const DEFAULT_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

function nativeType([name, args]: [string, string[]]): string {
  const a = args.join(',');
  const withArgs = (base: string, suffix = '') =>
    args.length ? `${base}(${a})${suffix}` : `${base}${suffix}`;
  switch (name) {
    case 'Text':
      return 'text';
    case 'VarChar':
      return withArgs('character varying');
    case 'Char':
      return args.length ? `character(${a})` : 'character(1)';
    case 'Uuid':
      return 'uuid';
    case 'Xml':
      return 'xml';
    case 'Inet':
      return 'inet';
    case 'Citext':
      return 'citext';
    case 'Bit':
      return args.length ? `bit(${a})` : 'bit(1)';
    case 'VarBit':
      return withArgs('bit varying');
    case 'Integer':
      return 'integer';
    case 'SmallInt':
      return 'smallint';
    case 'BigInt':
      return 'bigint';
    case 'Oid':
      return 'oid';
    case 'DoublePrecision':
      return 'double precision';
    case 'Real':
      return 'real';
    case 'Decimal':
      return withArgs('numeric');
    case 'Money':
      return 'money';
    case 'Boolean':
      return 'boolean';
    case 'Timestamp':
      return withArgs('timestamp', ' without time zone');
    case 'Timestamptz':
      return withArgs('timestamp', ' with time zone');
    case 'Date':
      return 'date';
    case 'Time':
      return withArgs('time', ' without time zone');
    case 'Timetz':
      return withArgs('time', ' with time zone');
    case 'Json':
      return 'json';
    case 'JsonB':
      return 'jsonb';
    case 'ByteA':
      return 'bytea';
    default:
      throw new Error(`schemaModel: no Postgres type known for @db.${name}; extend nativeType()`);
  }
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Prisma's default constraint names (psl ConstraintNames), truncated as Prisma truncates them. */
function constraintName(table: string, columns: readonly string[] | null, suffix: string): string {
  const limit = PG_MAX_IDENTIFIER_LENGTH - suffix.length;
  const base = columns ? `${table}_${columns.join('_')}` : table;
  return `${base.length > limit ? base.slice(0, limit) : base}${suffix}`;
}

const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

function referentialAction(action: string): string {
  const sql = REFERENTIAL_ACTIONS[action];
  if (!sql) throw new Error(`schemaModel: unknown referential action ${action}`);
  return sql;
}

/** What a database migrated to match `datamodel` must contain (Prisma's Postgres conventions). */
export function expectedShape(datamodel: Datamodel): SchemaShape {
  if (datamodel.types.length) throw new Error('schemaModel: composite types are not supported');
  const enums = new Map(datamodel.enums.map((e) => [e.name, e]));
  const models = new Map(datamodel.models.map((m) => [m.name, m]));
  const tableOf = (model: DmmfModel) => model.dbName ?? model.name;
  const columnOf = (model: DmmfModel, fieldName: string) => {
    const field = model.fields.find((f) => f.name === fieldName);
    if (!field) throw new Error(`schemaModel: ${model.name}.${fieldName} not found`);
    return field.dbName ?? field.name;
  };

  const shape: SchemaShape = { tables: {}, enums: {} };
  for (const e of datamodel.enums) shape.enums[e.dbName ?? e.name] = e.values.map((v) => v.dbName ?? v.name);

  for (const model of datamodel.models) {
    if (model.schema) throw new Error(`schemaModel: multiSchema (${model.name} @@schema) is not supported`);
    const table = tableOf(model);
    const columns: Record<string, ColumnShape> = {};
    const foreignKeys: Record<string, ForeignKeyShape> = {};

    for (const field of model.fields) {
      if (field.kind === 'object') {
        const target = models.get(field.type);
        if (!target) throw new Error(`schemaModel: relation target ${field.type} not found`);
        const from = field.relationFromFields ?? [];
        if (from.length === 0) {
          const back = target.fields.find((f) => f.relationName === field.relationName && f !== field);
          if (field.isList && back?.isList)
            throw new Error(`schemaModel: implicit many-to-many ${field.relationName} is not supported`);
          continue; // the other side holds the foreign key
        }
        const fkColumns = from.map((f) => columnOf(model, f));
        const requiredFrom = from.every((f) => model.fields.find((x) => x.name === f)?.isRequired);
        // @relation(map: ...) is not in the DMMF: a custom foreign key name would show as a difference.
        foreignKeys[constraintName(table, fkColumns, '_fkey')] = {
          columns: fkColumns,
          referencedTable: tableOf(target),
          referencedColumns: (field.relationToFields ?? []).map((f) => columnOf(target, f)),
          onDelete: referentialAction(field.relationOnDelete ?? (requiredFrom ? 'Restrict' : 'SetNull')),
          onUpdate: referentialAction(field.relationOnUpdate ?? 'Cascade'),
        };
        continue;
      }
      if (field.kind === 'unsupported')
        throw new Error(`schemaModel: Unsupported type on ${model.name}.${field.name}`);
      const column = field.dbName ?? field.name;
      let type: string;
      if (field.kind === 'enum') {
        const e = enums.get(field.type);
        if (!e) throw new Error(`schemaModel: enum ${field.type} not found`);
        type = `enum:${e.dbName ?? e.name}`;
      } else if (field.nativeType) {
        type = nativeType(field.nativeType);
      } else {
        const t = DEFAULT_TYPES[field.type];
        if (!t)
          throw new Error(`schemaModel: no Postgres type known for ${field.type}; extend DEFAULT_TYPES`);
        type = t;
      }
      columns[column] = {
        type: field.isList ? `${type}[]` : type,
        // Prisma creates scalar list columns without NOT NULL.
        nullable: field.isList || !field.isRequired,
        default: expectedDefault(model, field, enums),
      };
    }

    shape.tables[table] = { columns, indexes: {}, foreignKeys };
  }

  for (const index of datamodel.indexes) {
    const model = models.get(index.model);
    if (!model) throw new Error(`schemaModel: index on unknown model ${index.model}`);
    if (index.type === 'fulltext') throw new Error('schemaModel: fulltext indexes are not supported');
    const table = tableOf(model);
    const columns = index.fields.map((f) => columnOf(model, f.name));
    const name =
      index.dbName ??
      (index.type === 'id'
        ? constraintName(table, null, '_pkey')
        : constraintName(table, columns, index.type === 'unique' ? '_key' : '_idx'));
    shape.tables[table]!.indexes[name] = {
      columns: index.fields.map((f, i) => (f.sortOrder === 'desc' ? `${columns[i]} DESC` : columns[i]!)),
      primary: index.type === 'id',
      unique: index.type !== 'normal',
      method: (index.algorithm ?? 'BTree').toLowerCase(),
      where: index.where ?? null,
    };
  }
  return shape;
}

function expectedDefault(model: DmmfModel, field: DmmfField, enums: Map<string, DmmfEnum>): string | null {
  const where = `${model.name}.${field.name}`;
  if (!field.hasDefaultValue || field.default === undefined) return null;
  const value = field.default;
  if (Array.isArray(value)) throw new Error(`schemaModel: list default on ${where} is not supported`);
  if (value !== null && typeof value === 'object') {
    const fn = value as { name: string; args: unknown[] };
    switch (fn.name) {
      case 'autoincrement':
        return 'autoincrement()';
      case 'now':
        return 'CURRENT_TIMESTAMP';
      case 'dbgenerated':
        if (typeof fn.args[0] !== 'string')
          throw new Error(`schemaModel: dbgenerated() without an expression on ${where}`);
        return fn.args[0];
      case 'uuid':
      case 'cuid':
      case 'nanoid':
      case 'ulid':
        return null; // generated by the client, no database default
      default:
        throw new Error(`schemaModel: default ${fn.name}() on ${where} is not supported`);
    }
  }
  if (typeof value === 'boolean') return String(value);
  if (field.kind === 'enum') {
    const e = enums.get(field.type)!;
    const member = e.values.find((v) => v.name === value);
    return quoteLiteral(member?.dbName ?? String(value));
  }
  if (['Int', 'BigInt', 'Float', 'Decimal'].includes(field.type)) {
    const n = String(value);
    return n.startsWith('-') ? quoteLiteral(n) : n; // Postgres prints a negative constant as '-1'::integer
  }
  if (field.type === 'String' && typeof value === 'string') return quoteLiteral(value);
  throw new Error(`schemaModel: literal default on ${where} (${field.type}) is not supported`);
}

// ---------------------------------------------------------------------------------------------
// database → shape

/** Strips the cast Postgres prints on a literal default, and folds serial defaults. */
function normalizeDefault(expression: string | null): string | null {
  if (expression === null) return null;
  if (/^nextval\('.*'::regclass\)$/s.test(expression)) return 'autoincrement()';
  const literal = /^('(?:[^']|'')*')::[^']+$/s.exec(expression);
  return literal ? literal[1]! : expression;
}

const ACTION_CODES: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

/**
 * The tables, indexes, foreign keys and enums of the session's current schema. CHECK constraints
 * are left out: Prisma's schema language cannot declare them (and Prisma's diff ignores them).
 */
export async function introspect(
  session: SqlSession,
  ignoreTables: readonly string[] = ['_prisma_migrations'],
): Promise<SchemaShape> {
  const shape: SchemaShape = { tables: {}, enums: {} };
  const ignored = new Set(ignoreTables);

  const tables = await session.query<{ table: string }>(
    `SELECT c.relname::text AS "table"
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`,
  );
  for (const { table } of tables) {
    if (!ignored.has(table)) shape.tables[table] = { columns: {}, indexes: {}, foreignKeys: {} };
  }
  const tableShape = (table: string) => shape.tables[table];

  const columns = await session.query<{
    table: string;
    column: string;
    type: string;
    nullable: boolean;
    default: string | null;
  }>(
    `SELECT c.relname::text AS "table", a.attname::text AS "column",
            CASE WHEN t.typtype = 'e' THEN 'enum:' || t.typname
                 WHEN et.typtype = 'e' THEN 'enum:' || et.typname || '[]'
                 ELSE format_type(a.atttypid, a.atttypmod) END AS "type",
            NOT a.attnotnull AS "nullable",
            pg_get_expr(d.adbin, d.adrelid) AS "default"
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
      ORDER BY c.relname, a.attnum`,
  );
  for (const c of columns) {
    const t = tableShape(c.table);
    if (t) t.columns[c.column] = { type: c.type, nullable: c.nullable, default: normalizeDefault(c.default) };
  }

  const indexes = await session.query<{
    table: string;
    name: string;
    primary: boolean;
    unique: boolean;
    method: string;
    columns: string[];
    where: string | null;
  }>(
    `SELECT t.relname::text AS "table", i.relname::text AS "name",
            x.indisprimary AS "primary", x.indisunique AS "unique", am.amname::text AS "method",
            (SELECT json_agg(
                      CASE WHEN k.attnum > 0 THEN a.attname::text
                           ELSE pg_get_indexdef(x.indexrelid, k.ord::int, true) END
                      || CASE WHEN (x.indoption[k.ord - 1] & 1) = 1 THEN ' DESC' ELSE '' END
                      ORDER BY k.ord)
               FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
              WHERE k.ord <= x.indnkeyatts) AS "columns",
            pg_get_expr(x.indpred, x.indrelid) AS "where"
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_am am ON am.oid = i.relam
      WHERE n.nspname = current_schema()`,
  );
  for (const ix of indexes) {
    const t = tableShape(ix.table);
    if (t) {
      t.indexes[ix.name] = {
        columns: ix.columns,
        primary: ix.primary,
        unique: ix.unique,
        method: ix.method,
        where: ix.where,
      };
    }
  }

  const foreignKeys = await session.query<{
    table: string;
    name: string;
    referencedTable: string;
    columns: string[];
    referencedColumns: string[];
    onDelete: string;
    onUpdate: string;
  }>(
    `SELECT t.relname::text AS "table", con.conname::text AS "name", rt.relname::text AS "referencedTable",
            (SELECT json_agg(a.attname::text ORDER BY k.ord)
               FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS "columns",
            (SELECT json_agg(a.attname::text ORDER BY k.ord)
               FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS "referencedColumns",
            con.confdeltype::text AS "onDelete", con.confupdtype::text AS "onUpdate"
       FROM pg_constraint con
       JOIN pg_class t ON t.oid = con.conrelid
       JOIN pg_class rt ON rt.oid = con.confrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = current_schema() AND con.contype = 'f'`,
  );
  for (const fk of foreignKeys) {
    const t = tableShape(fk.table);
    if (t) {
      t.foreignKeys[fk.name] = {
        columns: fk.columns,
        referencedTable: fk.referencedTable,
        referencedColumns: fk.referencedColumns,
        onDelete: ACTION_CODES[fk.onDelete] ?? fk.onDelete,
        onUpdate: ACTION_CODES[fk.onUpdate] ?? fk.onUpdate,
      };
    }
  }

  const enums = await session.query<{ name: string; labels: string[] }>(
    `SELECT t.typname::text AS "name", json_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS "labels"
       FROM pg_type t
       JOIN pg_namespace n ON n.oid = t.typnamespace
       JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE n.nspname = current_schema()
      GROUP BY t.typname`,
  );
  for (const e of enums) shape.enums[e.name] = e.labels;
  return shape;
}

// ---------------------------------------------------------------------------------------------
// comparison

/**
 * Every difference between what the schema declares and what the database has, one readable line
 * each, in both directions. Empty when they agree.
 */
export function diffShapes(declared: SchemaShape, actual: SchemaShape): string[] {
  const differences: string[] = [];
  const walk = (a: unknown, b: unknown, at: string) => {
    const isRecord = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (isRecord(a) && isRecord(b)) {
      const left = a as Record<string, unknown>;
      const right = b as Record<string, unknown>;
      for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
        const where = at ? `${at}.${key}` : key;
        if (!(key in right)) differences.push(`${where}: in schema.prisma, missing from the database`);
        else if (!(key in left)) differences.push(`${where}: in the database, missing from schema.prisma`);
        else walk(left[key], right[key], where);
      }
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b))
      differences.push(
        `${at}: schema.prisma says ${JSON.stringify(a)}, the database has ${JSON.stringify(b)}`,
      );
  };
  walk(declared, actual, '');
  return differences.sort();
}
