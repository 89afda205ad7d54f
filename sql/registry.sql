-- Registration, promotion and the registry tables, on a node that is a
-- cluster of one.
SET client_min_messages = warning;

-- the DESIGN.md example
SELECT schemaevo.register_schema($${"name": "orders",
 "fields": [
   {"name": "id", "type": "int64"},
   {"name": "amount", "type": "decimal(12,2)"},
   {"name": "currency", "type": {"enum": ["EUR", "USD"]}, "default": "EUR"},
   {"name": "note", "type": "string", "nullable": true},
   {"name": "tags", "type": {"array": "string"}}]}$$);

SELECT schema_id, name, version, offset_map, fallback_offset_maps, log_slot
  FROM schemaevo.schemas;
SELECT layout->'fixed_length' AS fixed_length, layout->'field_count' AS field_count,
       jsonb_path_query_array(layout, '$.fields[*].name') AS fields
  FROM schemaevo.schemas WHERE schema_id = 'orders@1';

-- re-registering an identical definition returns the existing id
SELECT schemaevo.register_schema($${"name": "orders",
 "fields": [
   {"name": "id", "type": "int64"},
   {"name": "amount", "type": "decimal(12,2)"},
   {"name": "currency", "type": {"enum": ["EUR", "USD"]}, "default": "EUR"},
   {"name": "note", "type": "string", "nullable": true},
   {"name": "tags", "type": {"array": "string"}}]}$$);

-- the jsonb overload; an appended field makes version 2
SELECT schemaevo.register_schema($${"name": "orders",
 "fields": [
   {"name": "id", "type": "int64"},
   {"name": "amount", "type": "decimal(12,2)"},
   {"name": "currency", "type": {"enum": ["EUR", "USD"]}, "default": "EUR"},
   {"name": "note", "type": "string", "nullable": true},
   {"name": "tags", "type": {"array": "string"}},
   {"name": "priority", "type": "int16", "default": 3}]}$$::jsonb);
SELECT schema_id, offset_map, fallback_offset_maps FROM schemaevo.schemas ORDER BY version;

-- a stated version must be unused
SELECT schemaevo.register_schema('{"name": "orders", "version": 2, "fields": [{"name": "id", "type": "int32"}]}');
SELECT schemaevo.register_schema('{"name": "orders", "version": 7, "fields": [{"name": "id", "type": "int32"}]}');
-- a lower version registered later joins the fallback maps of higher ones
SELECT schemaevo.register_schema('{"name": "orders", "version": 5, "fields": [{"name": "id", "type": "int64"}]}');
SELECT schema_id, fallback_offset_maps ? '5' AS knows_v5 FROM schemaevo.schemas WHERE name = 'orders' ORDER BY version;

-- definition errors name the field path
SELECT schemaevo.register_schema('not json');
SELECT schemaevo.register_schema('{"fields": []}');
SELECT schemaevo.register_schema('{"name": "9bad", "fields": [{"name": "a", "type": "int8"}]}');
SELECT schemaevo.register_schema('{"name": "x", "fields": [{"name": "a", "type": "int128"}]}');
SELECT schemaevo.register_schema('{"name": "x", "fields": [{"name": "a", "type": "int8"}, {"name": "a", "type": "int8"}]}');
SELECT schemaevo.register_schema('{"name": "x", "fields": [{"name": "a", "type": "decimal(30,2)"}]}');
SELECT schemaevo.register_schema('{"name": "x", "fields": [{"name": "a", "type": "int8", "default": "seven"}]}');
SELECT schemaevo.register_schema('{"name": "x", "fields": [{"name": "r", "type": {"record": [{"name": "b", "type": "strin"}]}}]}');
SELECT schemaevo.register_schema('{"name": "x", "fields": [{"name": "e", "type": {"enum": []}}]}');
SELECT schemaevo.register_schema('{"name": "x", "fields": [{"name": "a", "type": "int8", "colour": "red"}]}');

-- get_schema / get_active_schema: a NULL row when unknown
SELECT schema_id, version FROM schemaevo.get_schema('orders@1');
SELECT schema_id IS NULL AS unknown FROM schemaevo.get_schema('orders@99');

-- promotions
CALL schemaevo.promote_schema('acme', 'orders@1');
CALL schemaevo.promote_schema(ARRAY['globex', 'initech', 'globex'], 'orders@2');
SELECT schema_id FROM schemaevo.get_active_schema('acme');
SELECT schema_id IS NULL AS none FROM schemaevo.get_active_schema('nobody');
CALL schemaevo.promote_schema('acme', 'orders@2');
SELECT tenant_id, schema_id, log_slot FROM schemaevo.active_schemas ORDER BY tenant_id;
SELECT slot, tenant_id, from_schema_id, to_schema_id, proposed_by
  FROM schemaevo.promotion_history;

-- promotion errors: nothing changes
CALL schemaevo.promote_schema('acme', 'orders@42');
CALL schemaevo.promote_schema(ARRAY['acme', 'hooli'], 'nosuch@1');
-- an id too long for the message shows its first 256 bytes
\set VERBOSITY sqlstate
CALL schemaevo.promote_schema('acme', repeat('x', 5000));
\set VERBOSITY default
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate, length(:'LAST_ERROR_MESSAGE'),
       left(:'LAST_ERROR_MESSAGE', 12);
CALL schemaevo.promote_schema(ARRAY[]::text[], 'orders@1');
CALL schemaevo.promote_schema(ARRAY['acme', NULL], 'orders@1');
CALL schemaevo.promote_schema(NULL::text, 'orders@1');
SELECT tenant_id, schema_id FROM schemaevo.active_schemas ORDER BY tenant_id;

-- the log: one entry per command, applied in order; a refused command
-- stays in the log with its error as outcome
SELECT slot, value->'commands'->0->>'op' AS op, outcome->0->>'schema_id' AS schema_id,
       outcome->0->>'sqlstate' AS error, proposed_by
  FROM schemaevo.log ORDER BY slot;
SELECT count(*) = (SELECT count(*) FROM schemaevo.log) AS one_request_per_entry
  FROM schemaevo.requests;
SELECT applied_slot = (SELECT max(slot) FROM schemaevo.log) AS caught_up
  FROM schemaevo.node_state;

-- a promotion commits through the log on its own: not inside a transaction block
BEGIN;
CALL schemaevo.promote_schema('acme', 'orders@1');
ROLLBACK;
SELECT schema_id FROM schemaevo.get_active_schema('acme');
-- and register_schema, too, is not undone by a rollback
BEGIN;
SELECT schemaevo.register_schema('{"name": "kept", "fields": [{"name": "a", "type": "int8"}]}');
ROLLBACK;
SELECT schema_id FROM schemaevo.schemas WHERE name = 'kept';
-- the view of the cluster: a cluster of one
SELECT node_name, reachable, role, lag_slots, voting FROM schemaevo.cluster_status;

-- name hashes must not collide across lineages (FNV-1a: "costarring"/"liquid")
SELECT schemaevo.register_schema('{"name": "costarring", "fields": [{"name": "a", "type": "int8"}]}');
SELECT schemaevo.register_schema('{"name": "liquid", "fields": [{"name": "a", "type": "int8"}]}');
