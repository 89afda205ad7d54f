-- Evolution v1 → v2 → v3 under each schemaevo.version_mismatch policy.
SET client_min_messages = warning;

SELECT schemaevo.register_schema($${"name": "evt", "fields": [
  {"name": "id", "type": "int64"},
  {"name": "kind", "type": "string"}]}$$);
SELECT schemaevo.register_schema($${"name": "evt", "fields": [
  {"name": "id", "type": "int64"},
  {"name": "kind", "type": "string"},
  {"name": "amount", "type": "float64", "default": 1.5},
  {"name": "tag", "type": "string", "nullable": true}]}$$);
-- v3 drops "kind" (kept as deprecated) and appends "region"
SELECT schemaevo.register_schema($${"name": "evt", "fields": [
  {"name": "id", "type": "int64"},
  {"name": "kind", "type": "string", "deprecated": true},
  {"name": "amount", "type": "float64", "default": 1.5},
  {"name": "tag", "type": "string", "nullable": true},
  {"name": "region", "type": {"enum": ["eu", "us"]}, "default": "eu"}]}$$);
SELECT schema_id, offset_map, fallback_offset_maps FROM schemaevo.schemas
 WHERE name = 'evt' ORDER BY version;

CREATE TABLE evmsgs AS
SELECT 1 AS v, schemaevo.encode_message('{"id": 1, "kind": "created"}', 'evt@1') AS m
UNION ALL
SELECT 2, schemaevo.encode_message('{"id": 2, "kind": "paid", "amount": 9.75, "tag": "x"}', 'evt@2')
UNION ALL
SELECT 3, schemaevo.encode_message('{"id": 3, "amount": 2.25, "region": "us"}', 'evt@3');

CALL schemaevo.promote_schema('old', 'evt@1');
CALL schemaevo.promote_schema('mid', 'evt@2');
CALL schemaevo.promote_schema('new', 'evt@3');

-- auto: older messages through their own map, newer through the active one
SET schemaevo.version_mismatch = auto;
SELECT v, schemaevo.decode_message(m, 'old') FROM evmsgs ORDER BY v;
SELECT v, schemaevo.decode_message(m, 'mid') FROM evmsgs ORDER BY v;
SELECT v, schemaevo.decode_message(m, 'new') FROM evmsgs ORDER BY v;

-- one call site over runs of rows where the tenant, the message or the
-- field repeats or changes (decode_field takes a repeated row's plan again)
SELECT count(*) AS checked,
       count(*) FILTER (WHERE schemaevo.decode_field(m, t, f) IS DISTINCT FROM d -> f) AS different
  FROM (SELECT t, f, m, schemaevo.decode_message(m, t) AS d
          FROM unnest(ARRAY['mid', 'mid', 'new', 'old', 'new', 'mid']) WITH ORDINALITY u(t, o),
               unnest(ARRAY['id', 'kind', 'amount']) WITH ORDINALITY k(f, fo),
               evmsgs, generate_series(1, 3) g
         WHERE NOT (t = 'new' AND f = 'kind') AND NOT (t = 'old' AND f = 'amount')
         ORDER BY o, fo, v, g) x;

-- a newer message that lacks a reader field warns once per statement
SET client_min_messages = warning;
SELECT schemaevo.decode_message(m, 'mid') FROM evmsgs, generate_series(1, 3) WHERE v = 3;
-- ... for up to 64 tenants, then once that the rest are not reported
SELECT array_agg('w' || i)::text AS wide FROM generate_series(1, 66) i \gset
CALL schemaevo.promote_schema(:'wide'::text[], 'evt@2');
\set VERBOSITY terse
SELECT count(schemaevo.decode_message(m, 'w' || i))
  FROM evmsgs, generate_series(1, 66) i WHERE v = 3;
\set VERBOSITY default

-- upward: only newer (or equal) messages
SET schemaevo.version_mismatch = upward;
SELECT schemaevo.decode_message(m, 'mid') FROM evmsgs WHERE v = 3;
SELECT schemaevo.decode_message(m, 'mid') FROM evmsgs WHERE v = 1;

-- downward: only older (or equal) messages
SET schemaevo.version_mismatch = downward;
SELECT schemaevo.decode_message(m, 'mid') FROM evmsgs WHERE v = 1;
SELECT schemaevo.decode_message(m, 'mid') FROM evmsgs WHERE v = 3;

-- reject: only the active version
SET schemaevo.version_mismatch = reject;
SELECT schemaevo.decode_message(m, 'mid') FROM evmsgs WHERE v = 2;
SELECT schemaevo.decode_message(m, 'mid') FROM evmsgs WHERE v = 1;
SELECT schemaevo.try_decode_message(m, 'mid') IS NULL AS refused FROM evmsgs ORDER BY v;
RESET schemaevo.version_mismatch;

-- a newer version this node has not registered: read through the active map
SELECT schemaevo.decode_message(
  '\xe500050062fda16a0900000011000000080700000000000000000000000000000005010000006100000000'::bytea,
  'mid');

-- an older version that is not registered cannot be decoded
CALL schemaevo.promote_schema('v5', 'evt@3');
SELECT schemaevo.decode_message(
  '\xe500020062fda16a00000000080000000007000000000000000100000061'::bytea, 'v5');
-- try_decode_message refuses a whole scan of them without asking the registry
-- for every row (1,000 rows; the scans of schemaevo.schemas are counted)
BEGIN;
SELECT count(*) AS rows, count(schemaevo.try_decode_message(m, 'v5')) AS decoded
  FROM (SELECT '\xe500020062fda16a00000000080000000007000000000000000100000061'::bytea AS m
          FROM generate_series(1, 1000)) x;
SELECT seq_scan + coalesce(idx_scan, 0) < 100 AS not_once_per_row
  FROM pg_stat_xact_user_tables WHERE schemaname = 'schemaevo' AND relname = 'schemas';
COMMIT;

-- a promotion is seen by the next statement
CALL schemaevo.promote_schema('old', 'evt@3');
SELECT schemaevo.decode_message(m, 'old') FROM evmsgs WHERE v = 1;

-- decode_with_schema projects onto the schema named
SELECT schemaevo.decode_with_schema(m, 'evt@2') FROM evmsgs ORDER BY v;

-- a message of another lineage is refused, not decoded as garbage
SELECT schemaevo.register_schema('{"name": "other", "fields": [{"name": "id", "type": "int64"}, {"name": "kind", "type": "string"}]}');
SELECT schemaevo.decode_message(schemaevo.encode_message('{"id": 1, "kind": "k"}', 'other@1'), 'mid');
SELECT schemaevo.try_decode_message(schemaevo.encode_message('{"id": 1, "kind": "k"}', 'other@1'), 'mid');

-- unknown tenant
SELECT schemaevo.decode_message(m, 'nobody') FROM evmsgs WHERE v = 1;

-- a field a newer version deprecated reads as the reader's default, the
-- same whether decoded whole or alone
SELECT schemaevo.register_schema('{"name": "dep", "fields": [{"name": "id", "type": "int64"}, {"name": "flag", "type": "bool", "default": true}]}');
SELECT schemaevo.register_schema('{"name": "dep", "fields": [{"name": "id", "type": "int64"}, {"name": "flag", "type": "bool", "deprecated": true}, {"name": "extra", "type": "int8", "default": 1}]}');
CALL schemaevo.promote_schema('depv1', 'dep@1');
SELECT schemaevo.decode_message(m, 'depv1') AS whole,
       schemaevo.decode_field(m, 'depv1', 'flag') AS flag,
       schemaevo.decode_field_bool(m, 'depv1', 'flag') AS flag_bool
  FROM (SELECT schemaevo.encode_message('{"id": 4, "extra": 2}', 'dep@2') AS m) x;

-- a version whose every field is deprecated decodes to an empty object,
-- whole, through a tenant, and with try_
SELECT schemaevo.register_schema('{"name": "alldep", "fields": [{"name": "a", "type": "int32", "deprecated": true}]}');
CALL schemaevo.promote_schema('alldep', 'alldep@1');
SELECT schemaevo.decode_with_schema(m, 'alldep@1') AS with_schema,
       schemaevo.decode_message(m, 'alldep') AS through_tenant,
       schemaevo.try_decode_message(m, 'alldep') AS try
  FROM (SELECT schemaevo.encode_message('{}', 'alldep@1') AS m) x;
