-- Captured changes reach EVERY cache namespace that shares this database, not only the first
-- instance to drain them (issue 13; the earlier capture migrations stay as they landed: the
-- runner and preflight compare their checksums).
--
-- A namespace is a CACHE_PREFIX and its Redis. Several can share one database: a blue/green
-- deploy whose new prefix serves while the old one still does, two apps, the bench's modes. Until
-- now (a) a captured row was applied by whichever instance drained it first, then deleted, so one
-- namespace was invalidated and the others served the old row until TTL; (b) an API write was
-- handed back to its own transaction and never journaled, so the other namespaces never heard of
-- it. The full bench's mixed workload read thousands of stale rows that way (0 per mode alone).
--
-- The design:
-- - cache_capture_consumers: every namespace that drains the journal, upserted by each instance
--   when its LISTEN connection connects (before the start-up drain) and about once a second on
--   that connection (src/cache/invalidationJournal.ts). dropped_at marks a namespace unseen for 5
--   minutes: it gets no copies, and when it comes back its cache may hold anything, so it gets
--   one "clear" copy. (A first registration does not clear: nothing was owed to it.)
-- - Journal rows: namespace NULL (with cache_key NULL) is a captured change not yet fanned out;
--   namespace N is a copy for N. The instance that drains a captured row, in the same
--   transaction as its Redis delete, inserts a copy for every other live consumer except the
--   row's origin, and deletes the row. Fan-out at drain, not in the trigger: the external
--   writer's path stays as cheap as before (a join with the consumers table in the trigger cost
--   26% of the single-row write throughput when measured), and a drain is one per batch.
-- - origin: an API transaction of namespace N that changed rows while another namespace is live
--   journals what was handed back (src/cache/invalidation.ts, in the statement that reads it
--   back) with origin N: N invalidated its own cache after commit, so only the others apply it.
--   With no other namespace live it journals nothing and pays nothing new.
--
-- What bounds the journal: unfanned rows by cache_capture_bound() (below: beyond
-- capture_max_keys they collapse into one clear row), the copies by the 5-minute window (a
-- namespace unseen that long is dropped and its copies deleted) and by maxRows per namespace
-- (the heartbeat collapses a namespace's copies beyond it into one clear copy).

CREATE TABLE "cache_capture_consumers" (
    "namespace" TEXT NOT NULL,
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dropped_at" TIMESTAMPTZ(3),

    CONSTRAINT "cache_capture_consumers_pkey" PRIMARY KEY ("namespace")
);

ALTER TABLE "cache_missed_invalidations"
    ADD COLUMN "namespace" TEXT,
    ADD COLUMN "origin" TEXT;

-- A namespace's copies: the drain's and the poll's `namespace = $1`, the heartbeat's purge.
CREATE INDEX "cache_missed_invalidations_namespace_idx" ON "cache_missed_invalidations"("namespace");

-- The bound counts only captured rows not yet fanned out: copies are bounded per namespace by the
-- heartbeat (see above), and one namespace's backlog must not clear everyone.
CREATE OR REPLACE FUNCTION cache_capture_bound() RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  newest bigint := currval('cache_missed_invalidations_id_seq');
  oldest bigint;
BEGIN
  SELECT min(id) INTO oldest FROM cache_missed_invalidations WHERE cache_key IS NULL AND namespace IS NULL;
  IF newest - oldest > cache_capture_max_keys() THEN
    DELETE FROM cache_missed_invalidations WHERE id IN (
      SELECT id FROM cache_missed_invalidations WHERE cache_key IS NULL AND namespace IS NULL
         FOR UPDATE SKIP LOCKED);
    PERFORM cache_capture_clear('the journal (no instance drained it)', newest - oldest);
  END IF;
END $$;
