-- The main job in a few statements: register two versions of a message
-- schema, move tenants onto them, and decode messages of both versions.
\set QUIET on
\pset footer off
CREATE EXTENSION schemaevo;
\set QUIET off
\echo '--- register version 1 and version 2 (v2 appends "channel")'
SELECT schemaevo.register_schema($${"name": "orders", "fields": [
   {"name": "id", "type": "int64"},
   {"name": "amount", "type": "decimal(12,2)"},
   {"name": "currency", "type": {"enum": ["EUR", "USD"]}, "default": "EUR"},
   {"name": "note", "type": "string", "nullable": true},
   {"name": "tags", "type": {"array": "string"}}]}$$) AS v1;
SELECT schemaevo.register_schema($${"name": "orders", "fields": [
   {"name": "id", "type": "int64"},
   {"name": "amount", "type": "decimal(12,2)"},
   {"name": "currency", "type": {"enum": ["EUR", "USD"]}, "default": "EUR"},
   {"name": "note", "type": "string", "nullable": true},
   {"name": "tags", "type": {"array": "string"}},
   {"name": "channel", "type": "string", "default": "web"}]}$$) AS v2;
SELECT schema_id, offset_map FROM schemaevo.schemas ORDER BY version;

\echo '--- promote: acme stays on v1, globex and initech move to v2'
CALL schemaevo.promote_schema('acme', 'orders@1');
CALL schemaevo.promote_schema(ARRAY['globex', 'initech'], 'orders@2');
SELECT tenant_id, from_schema_id, to_schema_id FROM schemaevo.promotion_history;

\echo '--- an outbox holding messages of both versions'
CREATE TABLE outbox (id serial, tenant text, payload bytea);
INSERT INTO outbox (tenant, payload) VALUES
  ('acme',   schemaevo.encode_message('{"id": 1, "amount": 10.50, "currency": "USD", "note": null, "tags": ["new"]}', 'orders@1')),
  ('globex', schemaevo.encode_message('{"id": 2, "amount": 99.99, "tags": [], "channel": "api"}', 'orders@2')),
  ('globex', schemaevo.encode_message('{"id": 3, "amount": 5.00, "note": "old producer", "tags": ["x", "y"]}', 'orders@1'));
SELECT id, tenant, schemaevo.message_version(payload) AS v, length(payload) AS bytes,
       schemaevo.decode_message(payload, tenant) AS decoded
  FROM outbox ORDER BY id;

\echo '--- one field, without decoding the rest'
SELECT id, schemaevo.decode_field_float8(payload, tenant, 'amount') AS amount,
       schemaevo.decode_field_text(payload, tenant, 'currency') AS currency
  FROM outbox ORDER BY id;
SELECT * FROM schemaevo.decode_stats;
