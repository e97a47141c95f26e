-- Change capture: every INSERT, UPDATE, DELETE, COPY and TRUNCATE of barcodes and products,
-- whoever the writer is, records WHAT changed (identities, not cache keys: the application maps
-- them to keys in src/cache/keysCaptured.ts, so the key format lives in one place).
--
-- Identities (kind, ident):
--   barcode           a barcode's canonical key (old and new: a re-key changes two entries)
--   product           a product id
--   product-barcodes  a product id whose barcode list changed (a barcode joined, left or changed)
--   clear             everything: a TRUNCATE, or a statement beyond capture_max_keys rows
-- A changed product also records the key of every barcode it has (cached barcodes embed it).
--
-- Where they go:
-- - a transaction the API marked (barcode_cache.api_transaction = 'on', set LOCAL by
--   src/cache/invalidation.ts): handed back to it in the transaction-local setting
--   barcode_cache.captured (a JSON array of [kind, ident]); the API reads it before COMMIT and
--   invalidates after, before the mutation answers, so API writes add no journal row;
-- - any other writer: rows in the invalidation journal (cache_missed_invalidations, cache_key
--   NULL), which every instance polls for on its LISTEN connection and drains
--   (src/cache/invalidationJournal.ts). A rolled-back transaction leaves none. No NOTIFY here:
--   a notifying transaction holds a database-wide lock through its commit, which serialized 8
--   concurrent single-row writers to the rate of one (300 against 3,000 commits/s here); only the
--   rare "clear" rows notify.
--
-- Statement-level triggers with transition tables: one call per statement, whatever its size.
-- ENABLE ALWAYS: they fire under session_replication_role = replica too (logical replication
-- apply, restore tools that set it), since those writes change what the cache must serve as much
-- as any other. Not captured: ALTER TABLE ... DISABLE TRIGGER (e.g. pg_restore
-- --disable-triggers) and DDL; see docs/cache.md "Writes from outside the API".
--
-- Privileges: the triggers run as the writer (SECURITY INVOKER: a SECURITY DEFINER function
-- needs a SET search_path to be safe, and that clause alone cost a third of the single-row write
-- throughput here). So every role may append to the journal (INSERT, and the sequence), granted
-- below to PUBLIC: the worst a role can do with that is invalidate cache entries, which writing
-- the tables does anyway. Deleting rows (the bound's collapse, "clear") stays with the two rare
-- functions that run as their owner. The writer's search_path must reach this schema (the
-- default does).

ALTER TABLE "cache_missed_invalidations"
    ALTER COLUMN "cache_key" DROP NOT NULL,
    ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'key',
    ADD COLUMN "ident" TEXT;

-- Beyond this many rows in one statement (or identities handed back to an API transaction, or
-- captured rows waiting in the journal), one "clear" instead. A session may lower it:
-- SET barcode_cache.capture_max_keys = 100.
CREATE FUNCTION cache_capture_max_keys() RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('barcode_cache.capture_max_keys', true), '')::integer, 10000)
$$;

-- One "clear" row for every instance, a line in the server log, and a wake-up (rare: TRUNCATE,
-- a statement beyond the bound, a journal nobody drained).
CREATE FUNCTION cache_capture_clear(source text, changed bigint) RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  RAISE LOG 'barcode-cache change capture: % changed % rows (capture_max_keys %): the cache namespace will be cleared',
    source, changed, cache_capture_max_keys();
  INSERT INTO cache_missed_invalidations (kind) VALUES ('clear');
  PERFORM pg_notify('cache_missed_invalidations', '*');
END $$;

-- Hands a statement's identities back to the API transaction (see above).
CREATE FUNCTION cache_capture_hand_back(source text, kinds text[], idents text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  handed text := nullif(current_setting('barcode_cache.captured', true), '');
  changed integer := coalesce(cardinality(kinds), 0);
BEGIN
  IF changed = 0 OR handed = 'clear' THEN RETURN; END IF;
  IF changed + coalesce(jsonb_array_length(handed::jsonb), 0) > cache_capture_max_keys() THEN
    -- Too many for one invalidation: the API clears the namespace; the journal row makes sure
    -- every instance (and a Redis that is down now) gets the clear too.
    PERFORM set_config('barcode_cache.captured', 'clear', true);
    PERFORM cache_capture_clear(source, changed);
    RETURN;
  END IF;
  PERFORM set_config('barcode_cache.captured',
    (coalesce(handed::jsonb, '[]'::jsonb)
      || (SELECT jsonb_agg(jsonb_build_array(k, i)) FROM unnest(kinds, idents) AS c(k, i)))::text,
    true);
END $$;

-- The journal's bound while no instance drains it: once the captured rows span more ids than
-- capture_max_keys, they collapse into one "clear" row (rows a drainer holds are left to it).
-- The triggers call it about once per 256 captured rows, so a single-row write rarely pays for it.
CREATE FUNCTION cache_capture_bound() RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  newest bigint := currval('cache_missed_invalidations_id_seq');
  oldest bigint;
BEGIN
  SELECT min(id) INTO oldest FROM cache_missed_invalidations WHERE cache_key IS NULL;
  IF newest - oldest > cache_capture_max_keys() THEN
    DELETE FROM cache_missed_invalidations WHERE id IN (
      SELECT id FROM cache_missed_invalidations WHERE cache_key IS NULL FOR UPDATE SKIP LOCKED);
    PERFORM cache_capture_clear('the journal (no instance drained it)', newest - oldest);
  END IF;
END $$;

-- For every statement: a statement over more rows than the bound clears at once, without
-- building its identities (every row has its own key or id, so they would be over it anyway);
-- otherwise one INSERT ... SELECT from the transition tables, or, in an API transaction, the
-- same identities handed back.
CREATE FUNCTION cache_capture_barcodes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed bigint;
  inserted bigint;
  kinds text[];
  idents text[];
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM cache_capture_clear('TRUNCATE barcodes', 0);
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT count(*) INTO changed FROM new_rows;
  ELSE
    SELECT count(*) INTO changed FROM old_rows;
  END IF;
  IF changed > cache_capture_max_keys() THEN
    PERFORM cache_capture_clear(TG_OP || ' barcodes', changed);
    RETURN NULL;
  END IF;
  IF current_setting('barcode_cache.api_transaction', true) = 'on' THEN
    IF TG_OP = 'INSERT' THEN
      SELECT array_agg(kind), array_agg(ident) INTO kinds, idents FROM (
        SELECT 'barcode' AS kind, key AS ident FROM new_rows
        UNION SELECT 'product-barcodes', product_id::text FROM new_rows) AS captured;
    ELSIF TG_OP = 'DELETE' THEN
      SELECT array_agg(kind), array_agg(ident) INTO kinds, idents FROM (
        SELECT 'barcode' AS kind, key AS ident FROM old_rows
        UNION SELECT 'product-barcodes', product_id::text FROM old_rows) AS captured;
    ELSE
      SELECT array_agg(kind), array_agg(ident) INTO kinds, idents FROM (
        SELECT 'barcode' AS kind, key AS ident FROM old_rows
        UNION SELECT 'barcode', key FROM new_rows
        UNION SELECT 'product-barcodes', product_id::text FROM old_rows
        UNION SELECT 'product-barcodes', product_id::text FROM new_rows) AS captured;
    END IF;
    PERFORM cache_capture_hand_back(TG_OP || ' barcodes', kinds, idents);
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO cache_missed_invalidations (kind, ident)
      SELECT 'barcode', key FROM new_rows
      UNION SELECT 'product-barcodes', product_id::text FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO cache_missed_invalidations (kind, ident)
      SELECT 'barcode', key FROM old_rows
      UNION SELECT 'product-barcodes', product_id::text FROM old_rows;
  ELSE
    INSERT INTO cache_missed_invalidations (kind, ident)
      SELECT 'barcode', key FROM old_rows
      UNION SELECT 'barcode', key FROM new_rows
      UNION SELECT 'product-barcodes', product_id::text FROM old_rows
      UNION SELECT 'product-barcodes', product_id::text FROM new_rows;
  END IF;
  GET DIAGNOSTICS inserted = ROW_COUNT;
  IF currval('cache_missed_invalidations_id_seq') % 256 < inserted THEN PERFORM cache_capture_bound(); END IF;
  RETURN NULL;
END $$;

-- A product's own entry, its (possibly negative) list entry when it is new or gone, and the
-- entries of its barcodes, which embed it. A delete's barcodes are captured by their own
-- trigger: the foreign key's cascade deletes them in statements of their own.
CREATE FUNCTION cache_capture_products() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed bigint;
  inserted bigint;
  kinds text[];
  idents text[];
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM cache_capture_clear('TRUNCATE products', 0);
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT count(*) INTO changed FROM new_rows;
  ELSE
    SELECT count(*) INTO changed FROM old_rows;
  END IF;
  IF changed > cache_capture_max_keys() THEN
    PERFORM cache_capture_clear(TG_OP || ' products', changed);
    RETURN NULL;
  END IF;
  IF current_setting('barcode_cache.api_transaction', true) = 'on' THEN
    IF TG_OP = 'INSERT' THEN
      SELECT array_agg(kind), array_agg(ident) INTO kinds, idents FROM (
        SELECT 'product' AS kind, id::text AS ident FROM new_rows
        UNION SELECT 'product-barcodes', id::text FROM new_rows) AS captured;
    ELSIF TG_OP = 'DELETE' THEN
      SELECT array_agg(kind), array_agg(ident) INTO kinds, idents FROM (
        SELECT 'product' AS kind, id::text AS ident FROM old_rows
        UNION SELECT 'product-barcodes', id::text FROM old_rows) AS captured;
    ELSE
      SELECT array_agg(kind), array_agg(ident) INTO kinds, idents FROM (
        SELECT 'product' AS kind, id::text AS ident FROM old_rows
        UNION SELECT 'product', id::text FROM new_rows
        UNION SELECT 'barcode', b.key FROM barcodes AS b WHERE b.product_id IN (SELECT id FROM new_rows)) AS captured;
    END IF;
    PERFORM cache_capture_hand_back(TG_OP || ' products', kinds, idents);
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO cache_missed_invalidations (kind, ident)
      SELECT 'product', id::text FROM new_rows
      UNION SELECT 'product-barcodes', id::text FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO cache_missed_invalidations (kind, ident)
      SELECT 'product', id::text FROM old_rows
      UNION SELECT 'product-barcodes', id::text FROM old_rows;
  ELSE
    INSERT INTO cache_missed_invalidations (kind, ident)
      SELECT 'product', id::text FROM old_rows
      UNION SELECT 'product', id::text FROM new_rows
      UNION SELECT 'barcode', b.key FROM barcodes AS b WHERE b.product_id IN (SELECT id FROM new_rows);
  END IF;
  GET DIAGNOSTICS inserted = ROW_COUNT;
  IF currval('cache_missed_invalidations_id_seq') % 256 < inserted THEN PERFORM cache_capture_bound(); END IF;
  RETURN NULL;
END $$;

GRANT INSERT ON "cache_missed_invalidations" TO PUBLIC;
GRANT USAGE ON SEQUENCE "cache_missed_invalidations_id_seq" TO PUBLIC;

CREATE TRIGGER "barcodes_capture_insert" AFTER INSERT ON "barcodes"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cache_capture_barcodes();
CREATE TRIGGER "barcodes_capture_update" AFTER UPDATE ON "barcodes"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cache_capture_barcodes();
CREATE TRIGGER "barcodes_capture_delete" AFTER DELETE ON "barcodes"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cache_capture_barcodes();
CREATE TRIGGER "barcodes_capture_truncate" AFTER TRUNCATE ON "barcodes"
    FOR EACH STATEMENT EXECUTE FUNCTION cache_capture_barcodes();
CREATE TRIGGER "products_capture_insert" AFTER INSERT ON "products"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cache_capture_products();
CREATE TRIGGER "products_capture_update" AFTER UPDATE ON "products"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cache_capture_products();
CREATE TRIGGER "products_capture_delete" AFTER DELETE ON "products"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cache_capture_products();
CREATE TRIGGER "products_capture_truncate" AFTER TRUNCATE ON "products"
    FOR EACH STATEMENT EXECUTE FUNCTION cache_capture_products();

ALTER TABLE "barcodes" ENABLE ALWAYS TRIGGER "barcodes_capture_insert";
ALTER TABLE "barcodes" ENABLE ALWAYS TRIGGER "barcodes_capture_update";
ALTER TABLE "barcodes" ENABLE ALWAYS TRIGGER "barcodes_capture_delete";
ALTER TABLE "barcodes" ENABLE ALWAYS TRIGGER "barcodes_capture_truncate";
ALTER TABLE "products" ENABLE ALWAYS TRIGGER "products_capture_insert";
ALTER TABLE "products" ENABLE ALWAYS TRIGGER "products_capture_update";
ALTER TABLE "products" ENABLE ALWAYS TRIGGER "products_capture_delete";
ALTER TABLE "products" ENABLE ALWAYS TRIGGER "products_capture_truncate";
