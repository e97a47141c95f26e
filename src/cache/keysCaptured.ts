// What the database's change capture records (the change_capture migration's triggers), mapped
// to cache keys here, beside keys.ts, so the key format lives in the application only: the
// triggers record identities (a barcode's canonical key, a product id), never key strings.
import { productChunkOf, type CacheKeys } from './keys';

/** One captured change, as a trigger recorded it. */
export interface CapturedChange {
  readonly kind: string;
  readonly ident: string | null;
}

export type CapturedKeys =
  | { readonly kind: 'keys'; readonly keys: readonly string[] }
  /** A TRUNCATE, a statement beyond the bound, or something this build does not know: clear the namespace. */
  | { readonly kind: 'clear' };

/**
 * The cache keys of one captured change: its entry's key together with the keys of the entries
 * that hold a copy of it (withDependentKeys); null means "clear the namespace".
 */
export function capturedKeysOf(keys: CacheKeys, change: CapturedChange): readonly string[] | null {
  if (change.ident === null) return null;
  switch (change.kind) {
    case 'barcode':
      return [keys.barcode(change.ident)];
    case 'product':
    case 'product-with-barcodes': // its barcodes, which embed it, are looked up by the journal's drain
      return withDependentKeys(keys, { kind: 'product', id: Number(change.ident) });
    case 'product-barcodes':
      return [keys.productBarcodes(Number(change.ident))];
    default:
      // 'clear', or a kind a newer migration added: clearing is never wrong.
      return null;
  }
}

/** A cached entry that other entries hold a copy of. */
export type DependedOn = { readonly kind: 'product'; readonly id: number };

/**
 * The entry's key and the keys of every entry that copies it: a product row is also held by its
 * page chunk (unfiltered products pages), and an insert or delete changes which ids the chunk
 * holds. The one place such a dependency is written down: the API's invalidation
 * (parseHandedBack) and the journal's drain of outside writes (keysOfRow in
 * ./invalidationJournal.ts, the journal createCache wires) both map changes through here.
 */
export function withDependentKeys(keys: CacheKeys, entry: DependedOn): readonly string[] {
  return [keys.product(entry.id), keys.productChunk(productChunkOf(entry.id))];
}

/** The keys of a set of captured changes (deduplicated), or clear when any of them says so. */
export function capturedKeys(keys: CacheKeys, changes: Iterable<CapturedChange>): CapturedKeys {
  const found = new Set<string>();
  for (const change of changes) {
    const changed = capturedKeysOf(keys, change);
    if (changed === null) return { kind: 'clear' };
    for (const key of changed) found.add(key);
  }
  return { kind: 'keys', keys: [...found] };
}

/**
 * What the triggers handed back to an API transaction (the setting barcode_cache.captured): empty
 * when nothing changed, 'clear' beyond the bound, else a JSON array of [kind, ident].
 */
export function parseHandedBack(keys: CacheKeys, handed: string | null | undefined): CapturedKeys {
  if (!handed) return { kind: 'keys', keys: [] };
  if (handed === 'clear') return { kind: 'clear' };
  const pairs = JSON.parse(handed) as [string, string][];
  return capturedKeys(
    keys,
    pairs.map(([kind, ident]) => ({ kind, ident })),
  );
}
