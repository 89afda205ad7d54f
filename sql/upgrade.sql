-- The upgrade harness: install the first release, fill it, update to the
-- current version, and check that nothing was lost.  Runs last: it drops
-- and recreates the extension.  While 1.0 is the only version the update
-- changes nothing; every later release ships an upgrade script
-- (schemaevo--A--B.sql), which this test then exercises, and the first
-- query below fails if a new default version has no path from 1.0.
SET client_min_messages = warning;
DROP EXTENSION schemaevo CASCADE;
CREATE EXTENSION schemaevo VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'schemaevo';

SELECT schemaevo.register_schema('{"name": "up", "fields": [{"name": "id", "type": "int64"}]}');
SELECT schemaevo.register_schema('{"name": "up", "fields": [{"name": "id", "type": "int64"}, {"name": "s", "type": "string", "default": ""}]}');
CALL schemaevo.promote_schema(ARRAY['a', 'b'], 'up@1');
CALL schemaevo.promote_schema('b', 'up@2');
CREATE TABLE upmsg AS SELECT schemaevo.encode_message('{"id": 1}', 'up@1') AS m;

CREATE TABLE before_update AS
SELECT (SELECT md5(string_agg(s::text, ',' ORDER BY schema_id)) FROM schemaevo.schemas s) AS schemas,
       (SELECT md5(string_agg(a::text, ',' ORDER BY tenant_id)) FROM schemaevo.active_schemas a) AS active,
       (SELECT md5(string_agg(l::text, ',' ORDER BY slot)) FROM schemaevo.log l) AS log,
       (SELECT md5(string_agg(p::text, ',' ORDER BY slot, tenant_id)) FROM schemaevo.promotion_history p) AS history;

SELECT v.default_version = '1.0'
       OR EXISTS (SELECT 1 FROM pg_extension_update_paths('schemaevo') p
                   WHERE p.source = '1.0' AND p.target = v.default_version
                     AND p.path IS NOT NULL) AS update_path_from_1_0
  FROM pg_available_extensions v WHERE v.name = 'schemaevo';
ALTER EXTENSION schemaevo UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'schemaevo') AS current
  FROM pg_extension WHERE extname = 'schemaevo';

SELECT b.schemas = (SELECT md5(string_agg(s::text, ',' ORDER BY schema_id)) FROM schemaevo.schemas s) AS schemas_intact,
       b.active = (SELECT md5(string_agg(a::text, ',' ORDER BY tenant_id)) FROM schemaevo.active_schemas a) AS active_intact,
       b.log = (SELECT md5(string_agg(l::text, ',' ORDER BY slot)) FROM schemaevo.log l) AS log_intact,
       b.history = (SELECT md5(string_agg(p::text, ',' ORDER BY slot, tenant_id)) FROM schemaevo.promotion_history p) AS history_intact
  FROM before_update b;
SELECT schemaevo.decode_message(m, 'a'), schemaevo.decode_message(m, 'b') FROM upmsg;
