// What "an error names the field" means for the schema fuzzer, pinned here (and in
// test/unit/schemaFuzz.test.ts):
// - the inputs an error names are its `extensions.field` (the input boundary and the services), or,
//   for a variable graphql-js refused before any resolver ran, the path in its message
//   (`Variable "$input" got invalid value … at "input.priceCents"`), else the variable (`$first`);
// - an error names a case's target (`input.barcodes[0].code`) when one of those inputs is the
//   target, the target relative to its argument (`barcodes[0].code`: the services name an input
//   object's fields from inside it), or a more precise place within either (`items[0].code` for
//   the target `items`).

interface ErrorLike {
  readonly message: string;
  readonly extensions?: Record<string, unknown>;
}

/** The inputs an error names (empty: it names none). */
export function errorNames(error: ErrorLike): string[] {
  const field = error.extensions?.field;
  if (typeof field === 'string') return [field];
  const at = /^Variable "\$[^"]+" got invalid value [\s\S]*? at "([\w.[\]]+)"; /.exec(error.message);
  if (at) return [at[1]!];
  const variable = /^Variable "\$(\w+)"/.exec(error.message);
  return variable ? [variable[1]!] : [];
}

export function namesTarget(names: readonly string[], target: string): boolean {
  const relative = /^\w+\./.test(target) ? target.replace(/^\w+\./, '') : undefined;
  const within = (name: string, path: string) =>
    name === path || name.startsWith(`${path}.`) || name.startsWith(`${path}[`);
  return names.some((name) => within(name, target) || (relative !== undefined && within(name, relative)));
}
