-- bench/sql/decode_data.sql: the decode benchmark's data, generated
-- deterministically (setseed + generate_series, serial plan).
-- psql variables: rows (messages per table), tenants (mixed-tenant table).
\set ON_ERROR_STOP on
SET max_parallel_workers_per_gather = 0;
SET synchronous_commit = off;

-- The typical 12-field event.  v1 lacks "note", v3 appends "region": the
-- tenants are on v2, so v1 messages decode downward (their own map,
-- projected) and v3 messages upward (the v2 map, prefix mode).
SELECT schemaevo.register_schema($$
{"name": "bench_event", "fields": [
  {"name": "id", "type": "int64"},
  {"name": "seq", "type": "int64"},
  {"name": "ts", "type": "timestamp"},
  {"name": "amount", "type": "float64"},
  {"name": "quantity", "type": "int32"},
  {"name": "flags", "type": "int16"},
  {"name": "active", "type": "bool"},
  {"name": "status", "type": {"enum": ["new", "paid", "shipped"]}},
  {"name": "ref", "type": "uuid"},
  {"name": "customer", "type": "string"},
  {"name": "tags", "type": {"array": "string"}}]}$$) AS v1 \gset
SELECT schemaevo.register_schema($$
{"name": "bench_event", "fields": [
  {"name": "id", "type": "int64"},
  {"name": "seq", "type": "int64"},
  {"name": "ts", "type": "timestamp"},
  {"name": "amount", "type": "float64"},
  {"name": "quantity", "type": "int32"},
  {"name": "flags", "type": "int16"},
  {"name": "active", "type": "bool"},
  {"name": "status", "type": {"enum": ["new", "paid", "shipped"]}},
  {"name": "ref", "type": "uuid"},
  {"name": "customer", "type": "string"},
  {"name": "tags", "type": {"array": "string"}},
  {"name": "note", "type": "string", "nullable": true}]}$$) AS v2 \gset
SELECT schemaevo.register_schema($$
{"name": "bench_event", "fields": [
  {"name": "id", "type": "int64"},
  {"name": "seq", "type": "int64"},
  {"name": "ts", "type": "timestamp"},
  {"name": "amount", "type": "float64"},
  {"name": "quantity", "type": "int32"},
  {"name": "flags", "type": "int16"},
  {"name": "active", "type": "bool"},
  {"name": "status", "type": {"enum": ["new", "paid", "shipped"]}},
  {"name": "ref", "type": "uuid"},
  {"name": "customer", "type": "string"},
  {"name": "tags", "type": {"array": "string"}},
  {"name": "note", "type": "string", "nullable": true},
  {"name": "region", "type": "string", "default": "eu-west-1"}]}$$) AS v3 \gset

CALL schemaevo.promote_schema('acme', 'bench_event@2');
-- the mixed tenants t00000 .. in chunks that fit one log command
SELECT format('CALL schemaevo.promote_schema(%L::text[], %L)',
              array_agg(format('t%s', lpad(g::text, 5, '0')) ORDER BY g),
              'bench_event@2')
  FROM generate_series(0, :tenants - 1) g
 GROUP BY g / 2000 ORDER BY g / 2000 \gexec

-- Native columns: the source of every other representation.
SELECT setseed(0.4242);
CREATE TABLE ev_native AS
SELECT i AS id,
       i * 7 + 3 AS seq,
       timestamptz '2026-01-01 00:00:00+00'
         + (floor(random() * 3.1536e13)::bigint) * interval '1 microsecond' AS ts,
       round((random() * 10000)::numeric, 2)::float8 AS amount,
       floor(random() * 100)::int AS quantity,
       floor(random() * 256)::int2 AS flags,
       random() < 0.5 AS active,
       (ARRAY['new', 'paid', 'shipped'])[1 + floor(random() * 3)::int] AS status,
       md5(i::text)::uuid AS ref,
       'customer-' || lpad(floor(random() * 1e7)::int::text, 7, '0') AS customer,
       ARRAY['tag' || floor(random() * 10)::int,
             'grp' || floor(random() * 100)::int,
             'x' || floor(random() * 1000)::int] AS tags,
       'note ' || md5(random()::text) || ' ok' AS note
  FROM generate_series(1, :rows) i;

-- The same records in the JSON mapping of DESIGN.md (what decode_message
-- returns), encoded as v2 messages.
CREATE TEMP TABLE ev_src AS
SELECT id, doc, schemaevo.encode_message(doc, 'bench_event@2') AS payload
  FROM (SELECT id, jsonb_build_object(
                 'id', id, 'seq', seq,
                 'ts', to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                 'amount', amount, 'quantity', quantity, 'flags', flags,
                 'active', active, 'status', status, 'ref', ref,
                 'customer', customer, 'tags', tags, 'note', note) AS doc
          FROM ev_native) s;

CREATE TABLE ev_bin AS SELECT payload FROM ev_src ORDER BY id;
CREATE TABLE ev_jsonb AS SELECT doc FROM ev_src ORDER BY id;
CREATE TABLE ev_text AS SELECT doc::text AS txt FROM ev_src ORDER BY id;

-- Single: the shape of ev_mixed (a tenant column, then the payload) with
-- one tenant and one version, the baseline of the mixed measurements.
CREATE TABLE ev_single AS
SELECT 'acme'::text AS tenant, payload FROM ev_src ORDER BY id;

-- Mixed: every row another of :tenants tenants, versions 1, 2, 3 in turn
-- (decorrelated from the tenant), all read as v2.
CREATE TABLE ev_mixed AS
SELECT format('t%s', lpad((id % :tenants)::text, 5, '0')) AS tenant,
       CASE (id + id / :tenants) % 3
         WHEN 0 THEN schemaevo.encode_message(doc - 'note', 'bench_event@1')
         WHEN 1 THEN payload
         ELSE schemaevo.encode_message(doc || '{"region": "us-east-2"}', 'bench_event@3')
       END AS payload
  FROM ev_src ORDER BY id;

-- Correctness of what is timed: decode_message returns the source record.
SELECT count(*) AS mismatches
  FROM ev_src WHERE id <= 20000
   AND schemaevo.decode_message(payload, 'acme') IS DISTINCT FROM doc \gset
\if :mismatches
  \echo 'decode_message does not return the generated record'
  SELECT 1/0;
\endif

VACUUM (FREEZE, ANALYZE) ev_native, ev_bin, ev_jsonb, ev_text, ev_single, ev_mixed;
SELECT relname, pg_size_pretty(pg_relation_size(oid)) AS size
  FROM pg_class WHERE relname IN ('ev_native', 'ev_bin', 'ev_jsonb', 'ev_text', 'ev_single', 'ev_mixed')
 ORDER BY relname;
