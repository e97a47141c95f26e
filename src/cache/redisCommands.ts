// Every Redis command the cache sends, from the server, the CLI and ioredis itself, including
// those its scripts run (an ACL checks those too). A Redis user for this project needs exactly
// these (e.g. `ACL SETUSER app on >… ~<CACHE_PREFIX>:* +mget +evalsha …`); preflight's ACL check
// reads this list, and test/integration/redisCommands.test.ts checks that what Redis executed for
// a run of every path (INFO commandstats) stays within it. Keep it true when a path changes.
export const REDIS_COMMANDS = [
  // Lookups: a read is one MGET; only misses add the lease script; fills are the fill script.
  // EVAL runs once per script and server, when EVALSHA finds the script not loaded yet (NOSCRIPT).
  'mget',
  'evalsha',
  'eval',
  // Inside the scripts: SET (a lease: SET NX PX GET; a fill: SET EX) and GET (a fill's lease check).
  'set',
  'get',
  // Invalidations, the journal's drain and cache:clear (which SCANs every master first).
  'unlink',
  'scan',
  // The breaker's probe and start-up; on a cluster also CLUSTER INFO on every master and the
  // slot map (CLUSTER SLOTS), which ioredis refreshes after a MOVED and every 5 s.
  'ping',
  'cluster',
  // ioredis on connecting: AUTH when the URL has credentials, SELECT for a database number in
  // the URL, INFO for its ready check, CLIENT SETINFO for the library name and version.
  'auth',
  'select',
  'info',
  'client',
] as const;

export type RedisCommand = (typeof REDIS_COMMANDS)[number];
