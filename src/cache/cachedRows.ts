// How a database row is written into the cache and read back: JSON, with the timestamps as epoch
// milliseconds. Reviving those into Dates is ~3× cheaper than parsing ISO strings (measured with
// a loop of new Date(...) on this machine: ~160 ns against ~410 ns), and a warm 50-code list
// revives 200 of them. reviveDates accepts both forms, so entries an older build wrote (ISO
// strings) still read, and an older build reads these: no key version bump, no stale window
// during a rolling deploy.

interface Timestamped {
  createdAt: Date;
  updatedAt: Date;
}

/** The row with its timestamps as epoch milliseconds, ready for JSON.stringify. */
export function cachedForm<R extends Timestamped>(row: R) {
  return { ...row, createdAt: row.createdAt.getTime(), updatedAt: row.updatedAt.getTime() };
}

/** Turns a parsed row's timestamps (epoch milliseconds or ISO strings) back into Dates, in place. */
export function reviveDates<R extends Timestamped>(row: R): R {
  row.createdAt = new Date(row.createdAt);
  row.updatedAt = new Date(row.updatedAt);
  return row;
}

/** The codec of a single cached row. */
export function rowCodec<R extends Timestamped>() {
  return {
    encode: (row: R) => JSON.stringify(cachedForm(row)),
    decode: (text: string): R => reviveDates(JSON.parse(text) as R),
  };
}
