-- An UPDATE of products from outside the API records each product once, as kind
-- 'product-with-barcodes': the product's entry and the entries of the barcodes that embed it.
-- The barcodes are looked up when an instance drains the row (src/cache/invalidationJournal.ts),
-- not in the writer's statement: cache_capture_product_update() did it there, as a SECURITY
-- DEFINER function (the writer may not read barcodes), and that call with its fixed search_path
-- cost a single-row product UPDATE about a third of its throughput (npm run bench:capture --
-- pgbench). Looking up at drain time misses nothing: a barcode that left the product since has
-- its own row (its UPDATE was captured), and one that joined is invalidated once more, harmlessly.
-- A build that predates this kind clears the namespace when it drains one (keysCaptured.ts), so a
-- rolling deploy is never stale, only colder.
-- In an API transaction nothing changes: the API's role reads barcodes, so the lookup stays
-- inline and the mutation still answers after its barcodes' keys are gone.

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
    INSERT INTO cache_missed_invalidations (kind, ident)
      SELECT 'product-with-barcodes', id::text FROM new_rows
      UNION SELECT 'product-with-barcodes', id::text FROM old_rows;
  END IF;
  GET DIAGNOSTICS inserted = ROW_COUNT;
  IF inserted > 0 AND currval('cache_missed_invalidations_id_seq') % 256 < inserted THEN
    PERFORM cache_capture_bound();
  END IF;
  RETURN NULL;
END $$;

-- No trigger calls it any more; a role that could call it directly keeps nothing by it.
DROP FUNCTION cache_capture_product_update(integer[], integer[]);
