// The cache namespaces that drain the invalidation journal (cache_capture_consumers, the
// capture_namespaces migration): each instance registers its namespace on its LISTEN connection
// when it connects and renews it about once a second there (./invalidationJournal.ts), so that a
// drain can copy every captured change for every other live namespace. Exports the one statement
// that does it, and its call.
import type { Client } from 'pg';
import type { Logger } from '../logger';

/** How long a namespace may go unseen before it is dropped (no copies; a clear when it returns). */
export const CONSUMER_DROP_AFTER = '5 minutes';

// Registration and heartbeat of the namespace ($1), on the LISTEN connection (never a pooled
// session), one statement:
// - upsert it as seen; if it had been dropped while away, its cache missed copies and may hold
//   anything: one "clear" copy for it, which its next drain applies (a first registration owes
//   nothing, so it does not clear);
// - drop the namespaces unseen for CONSUMER_DROP_AFTER and delete their copies (and copies a drain
//   made for a namespace as it was being dropped): what bounds copies while a namespace is gone;
// - collapse any namespace's copies beyond $2 (maxRows) into one clear copy: what bounds them while
//   it is slow or briefly away. Rows a drainer holds are left to it (SKIP LOCKED), so a heartbeat
//   never waits on a drain.
// Returns whether this namespace had been dropped, the namespaces collapsed, and whether anything
// waits for it (as the poll).
const CONSUMER_HEARTBEAT_SQL = `
WITH prior AS (
  SELECT dropped_at FROM cache_capture_consumers WHERE namespace = $1::text
), seen AS (
  INSERT INTO cache_capture_consumers (namespace) VALUES ($1::text)
  ON CONFLICT (namespace) DO UPDATE SET seen_at = now(), dropped_at = NULL
), returned AS (
  INSERT INTO cache_missed_invalidations (kind, namespace)
  SELECT 'clear', $1::text WHERE (SELECT dropped_at FROM prior) IS NOT NULL
), dropped AS (
  UPDATE cache_capture_consumers SET dropped_at = now()
   WHERE dropped_at IS NULL AND namespace <> $1::text AND seen_at < now() - interval '${CONSUMER_DROP_AFTER}'
  RETURNING namespace
), gone AS (
  SELECT namespace FROM dropped
  UNION SELECT namespace FROM cache_capture_consumers WHERE dropped_at IS NOT NULL AND namespace <> $1::text
), purged AS (
  DELETE FROM cache_missed_invalidations WHERE id IN (
    SELECT id FROM cache_missed_invalidations
     WHERE namespace IN (SELECT namespace FROM gone) FOR UPDATE SKIP LOCKED)
), over AS (
  SELECT namespace FROM cache_missed_invalidations
   WHERE namespace IS NOT NULL AND namespace NOT IN (SELECT namespace FROM gone)
   GROUP BY namespace HAVING count(*) > $2::int
), collapsed AS (
  DELETE FROM cache_missed_invalidations WHERE id IN (
    SELECT id FROM cache_missed_invalidations
     WHERE namespace IN (SELECT namespace FROM over) FOR UPDATE SKIP LOCKED)
  RETURNING namespace
), collapsedClear AS (
  INSERT INTO cache_missed_invalidations (kind, namespace)
  SELECT DISTINCT 'clear', namespace FROM collapsed
)
SELECT (SELECT dropped_at FROM prior) IS NOT NULL AS was_dropped,
       ARRAY(SELECT DISTINCT namespace FROM collapsed) AS collapsed,
       EXISTS (SELECT 1 FROM cache_missed_invalidations
                WHERE cache_key IS NULL AND (namespace IS NULL OR namespace = $1::text)) AS pending`;

interface HeartbeatRow {
  readonly was_dropped: boolean;
  readonly collapsed: string[];
  readonly pending: boolean;
}

/**
 * Registers or renews the namespace as a consumer (one statement, on the LISTEN connection: never
 * a pooled session), and logs the clears it caused. Returns whether captured rows or copies for
 * the namespace wait (as the poll does).
 */
export async function consumerHeartbeat(
  client: Pick<Client, 'query'>,
  { namespace, maxRows, logger }: { namespace: string; maxRows: number; logger: Logger },
): Promise<boolean> {
  const result = await client.query<HeartbeatRow>(CONSUMER_HEARTBEAT_SQL, [namespace, maxRows]);
  const row = result.rows[0]!;
  if (row.was_dropped)
    logger.warn(
      { cache: 'redis', namespace },
      `invalidation journal: this namespace was dropped as a consumer (unseen for ${CONSUMER_DROP_AFTER}), so it missed captured changes: clearing it`,
    );
  if (row.collapsed.length > 0)
    logger.warn(
      { cache: 'redis', namespaces: row.collapsed, maxRows },
      'invalidation journal: a namespace had more copies of captured changes than maxRows waiting: replaced by one clear',
    );
  return row.pending;
}
