-- Two fixes to the change_capture triggers (that migration stays as it landed: the runner and
-- preflight compare its checksum).
--
-- 1. A statement that changed no row (an UPDATE or DELETE matching nothing, an INSERT ... ON
--    CONFLICT DO NOTHING whose every row conflicted) returns at once. The triggers used to ask
--    currval() of the journal's sequence whatever they had inserted, and in a session that never
--    appended to the journal currval() raises "not yet defined in this session": the writer's
--    statement failed. currval() is now asked only after rows were inserted.
-- 2. An UPDATE of products from outside the API journals its barcodes' keys through
--    cache_capture_product_update(), which runs as its owner: as the writer, a role allowed to
--    update products but not to read barcodes got "permission denied for table barcodes". It
--    appends the journal rows itself and returns nothing, so calling it directly reveals nothing
--    (at worst it invalidates cache entries, as appending to the journal, granted to every role,
--    already can). SECURITY DEFINER, so its search_path is fixed: this schema, then pg_temp, so
--    a temporary table cannot stand in for barcodes. Only outside product updates call it; the
--    triggers still run as the writer, so a single-row barcode write pays nothing for it. In an
--    API transaction the role is the API's own, which reads barcodes: that lookup stays inline.

CREATE FUNCTION cache_capture_product_update(old_ids integer[], new_ids integer[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  inserted bigint;
BEGIN
  INSERT INTO cache_missed_invalidations (kind, ident)
    SELECT 'product', id::text FROM unnest(old_ids || new_ids) AS id
    UNION SELECT 'barcode', key FROM barcodes WHERE product_id = ANY (new_ids);
  GET DIAGNOSTICS inserted = ROW_COUNT;
  IF inserted > 0 AND currval('cache_missed_invalidations_id_seq') % 256 < inserted THEN
    PERFORM cache_capture_bound();
  END IF;
END $$;

DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION cache_capture_product_update(integer[], integer[]) SET search_path = %I, pg_temp',
    current_schema());
END $$;

CREATE OR REPLACE FUNCTION cache_capture_barcodes() RETURNS trigger LANGUAGE plpgsql AS $$
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
  IF changed = 0 THEN RETURN NULL; END IF;
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
  IF inserted > 0 AND currval('cache_missed_invalidations_id_seq') % 256 < inserted THEN
    PERFORM cache_capture_bound();
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cache_capture_products() RETURNS trigger LANGUAGE plpgsql AS $$
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
  IF changed = 0 THEN RETURN NULL; END IF;
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
    PERFORM cache_capture_product_update(
      (SELECT array_agg(id) FROM old_rows), (SELECT array_agg(id) FROM new_rows));
    RETURN NULL;
  END IF;
  GET DIAGNOSTICS inserted = ROW_COUNT;
  IF inserted > 0 AND currval('cache_missed_invalidations_id_seq') % 256 < inserted THEN
    PERFORM cache_capture_bound();
  END IF;
  RETURN NULL;
END $$;
