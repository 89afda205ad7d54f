-- Server safety: cancellation of a huge decode, memory freed per row,
-- try_decode_message over mixed good and corrupt rows.
SET client_min_messages = notice;
\set VERBOSITY terse

SELECT schemaevo.register_schema('{"name": "huge", "fields": [{"name": "xs", "type": {"array": "int8"}}]}');
CALL schemaevo.promote_schema('h', 'huge@1');
-- a message of n one-byte elements, built without encode_message:
-- header and bitmap, then xs: u32 length (4 + n), u32 count n, n bytes
-- int8send is big-endian: reverse the bytes of each u32
CREATE FUNCTION le32(b bytea) RETURNS bytea LANGUAGE sql AS $$
  SELECT set_byte(set_byte(set_byte(set_byte(b, 0, get_byte(b, 3)), 1, get_byte(b, 2)),
                  2, get_byte(b, 1)), 3, get_byte(b, 0))
$$;
CREATE FUNCTION huge_msg_le(n int) RETURNS bytea LANGUAGE sql AS $$
  SELECT substring(schemaevo.encode_message('{"xs": []}', 'huge@1') from 1 for 17)
         || le32(substring(int8send(4 + n) from 5 for 4))
         || le32(substring(int8send(n) from 5 for 4))
         || decode(repeat('01', n), 'hex')
$$;
SELECT schemaevo.decode_message(huge_msg_le(3), 'h');   -- the construction is right
-- 8 million elements take over a second to decode; a 100 ms timeout must
-- cancel the decode itself, not wait for it to finish
CREATE TABLE hugepayload AS SELECT huge_msg_le(8 * 1024 * 1024) AS m;
SELECT length(m) FROM hugepayload;
SET statement_timeout = '100ms';
DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM length(schemaevo.decode_message(m, 'h')::text) FROM hugepayload;
    RAISE NOTICE 'not cancelled';
EXCEPTION WHEN query_canceled THEN
    RAISE NOTICE 'cancelled within a second: %', clock_timestamp() - t0 < interval '1 second';
END
$$;
RESET statement_timeout;

-- a scan does not grow the backend: per-row memory is freed per row
SELECT schemaevo.register_schema('{"name": "row", "fields": [{"name": "id", "type": "int64"}, {"name": "s", "type": "string"}, {"name": "t", "type": {"array": "string"}}]}');
CALL schemaevo.promote_schema('r', 'row@1');
CREATE TABLE rows AS
  SELECT i, schemaevo.encode_message(jsonb_build_object('id', i, 's', md5(i::text), 't', jsonb_build_array('a', 'b', i::text)), 'row@1') AS m
    FROM generate_series(1, 20000) i;
SELECT count(schemaevo.decode_message(m, 'r')) FROM rows;  -- warm the caches
SELECT sum(total_bytes) AS before FROM pg_backend_memory_contexts \gset
SELECT count(schemaevo.decode_message(m, 'r')) FROM rows, generate_series(1, 10);
SELECT sum(schemaevo.decode_field_int8(m, 'r', 'id')) FROM rows, generate_series(1, 10);
SELECT sum(total_bytes) - :before < 1024 * 1024 AS bounded FROM pg_backend_memory_contexts;
-- and while a scan runs, its memory stays flat: the backend's contexts
-- sampled every 4,000 rows of 20,000.  (One palloc chunk left per decoded
-- row in a query-lifetime context, 8 bytes asked for, adds 330 kB between
-- the first and the last sample; none adds nothing.  A function, called
-- once first, so that the samples are taken anew and its own caches are
-- already there.)
CREATE FUNCTION pg_temp.backend_bytes(int) RETURNS numeric VOLATILE LANGUAGE plpgsql
  AS $$ BEGIN RETURN (SELECT sum(total_bytes) FROM pg_backend_memory_contexts); END $$;
SELECT pg_temp.backend_bytes(0) > 0 AS sampled;
SELECT count(d) AS decoded, count(mem) AS samples, max(mem) - min(mem) < 64 * 1024 AS flat_during_scan
  FROM (SELECT schemaevo.decode_message(m, 'r') AS d,
               CASE WHEN i % 4000 = 0 THEN pg_temp.backend_bytes(i) END AS mem
          FROM rows) x;

-- try_decode_message returns NULL for exactly the corrupt rows, and counts them
SELECT schemaevo.reset_decode_stats();
CREATE TABLE mixedrows AS
  SELECT i, CASE i % 4 WHEN 0 THEN set_byte(m, 30, 255)     -- truncating length
                       WHEN 1 THEN substring(m from 1 for 20) -- short
                       ELSE m END AS m
    FROM rows WHERE i <= 1000;
SELECT count(*) FILTER (WHERE d IS NULL) AS nulls,
       count(*) FILTER (WHERE i % 4 IN (0, 1)) AS corrupt,
       bool_and((d IS NULL) = (i % 4 IN (0, 1))) AS exactly_those
  FROM (SELECT i, schemaevo.try_decode_message(m, 'r') AS d FROM mixedrows) x;
SELECT malformed, decoded FROM schemaevo.decode_stats;

-- the tenant cache is bounded by schemaevo.tenant_cache_size: with 2,000
-- tenants in a scan, a cache of 16 is emptied and refilled, never grown,
-- and every row still decodes with its tenant's schema
SELECT array_agg('ct' || i)::text AS cts FROM generate_series(1, 2000) i \gset
CALL schemaevo.promote_schema(:'cts'::text[], 'row@1');
CREATE TABLE cachedrows AS SELECT 'ct' || (i % 2000 + 1) AS tenant, m FROM rows WHERE i <= 6000;
SET schemaevo.tenant_cache_size = 16;
SELECT count(schemaevo.decode_field_int8(m, tenant, 'id')) AS decoded FROM cachedrows;
SELECT total_bytes < 40 * 1024 AS small
  FROM pg_backend_memory_contexts WHERE name = 'schemaevo tenants';
RESET schemaevo.tenant_cache_size;
SELECT count(schemaevo.decode_field_int8(m, tenant, 'id')) AS decoded FROM cachedrows;
SELECT total_bytes > 40 * 1024 AS grown
  FROM pg_backend_memory_contexts WHERE name = 'schemaevo tenants';
SET schemaevo.tenant_cache_size = 8;

-- the message version is the payload's own: a scan of messages showing a
-- new unregistered version on every row keeps the backend's cache bounded
-- (a few plans, then one shared per direction), and decodes them all alike
SELECT schemaevo.register_schema('{"name": "manyv", "fields": [{"name": "a", "type": "int32"}]}');
SELECT schemaevo.register_schema('{"name": "manyv", "version": 9000, "fields": [{"name": "a", "type": "int32"}]}');
CALL schemaevo.promote_schema('manyv_low', 'manyv@1');
CALL schemaevo.promote_schema('manyv_high', 'manyv@9000');
-- versions 2 .. 4001 (u32 little-endian at bytes 8 - 11), none registered
CREATE TABLE manyv AS
  SELECT i, set_byte(set_byte(schemaevo.encode_message('{"a": 5}', 'manyv@1'), 8, i & 255), 9, i >> 8) AS m
    FROM generate_series(2, 4001) i;
SELECT count(DISTINCT schemaevo.message_version(m)) AS versions FROM manyv;
SET schemaevo.version_mismatch = 'auto';
SELECT schemaevo.decode_message(m, 'manyv_low') AS newer, count(*) FROM manyv GROUP BY 1;
SELECT count(*) FILTER (WHERE d IS NULL) AS older_refused, count(*)
  FROM (SELECT schemaevo.try_decode_message(m, 'manyv_high') AS d FROM manyv) s;
SELECT schemaevo.decode_message(m, 'manyv_high') FROM manyv WHERE i = 4001;
SELECT total_bytes < 65536 AS cache_bounded
  FROM pg_backend_memory_contexts WHERE name = 'schemaevo cache';
RESET schemaevo.version_mismatch;
DROP TABLE manyv;

-- a cache set-up that fails (the extension's schema renamed under a
-- session) leaves nothing half-made: decoding works again once it is back
SELECT schemaevo.decode_message(schemaevo.encode_message('{"a": 5}', 'manyv@1'), 'manyv_low');
ALTER SCHEMA schemaevo RENAME TO schemaevo_moved;
ANALYZE schemaevo_moved.active_schemas;     -- an invalidation: the cache is rebuilt
SELECT schemaevo_moved.decode_message(schemaevo_moved.encode_message('{"a": 5}', 'manyv@1'), 'manyv_low');
ALTER SCHEMA schemaevo_moved RENAME TO schemaevo;
SELECT schemaevo.decode_message(schemaevo.encode_message('{"a": 5}', 'manyv@1'), 'manyv_low');

-- only a UTF8 database can hold the extension: message strings are UTF-8
\set regress_db :DBNAME
CREATE DATABASE sevo_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c sevo_latin1
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE EXTENSION schemaevo;
\c :regress_db
DROP DATABASE sevo_latin1;

-- another database of the server may decode with its own registry, but
-- with the library preloaded only schemaevo.database changes one (55000)
CREATE DATABASE sevo_other TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';
\c sevo_other
SET client_min_messages = warning;
CREATE EXTENSION schemaevo;
SELECT schemaevo.register_schema('{"name": "elsewhere", "fields": [{"name": "id", "type": "int64"}]}');
CALL schemaevo.promote_schema('t', 'elsewhere@1');
\c :regress_db
DROP DATABASE sevo_other;
