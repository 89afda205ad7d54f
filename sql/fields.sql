-- Single-field extraction: decode_field and the typed decode_field_*.
SET client_min_messages = warning;

SELECT schemaevo.register_schema($${"name": "pay", "fields": [
  {"name": "id", "type": "int64"},
  {"name": "amount", "type": "float64"},
  {"name": "qty", "type": "int32"},
  {"name": "price", "type": "decimal(8,2)"},
  {"name": "ok", "type": "bool"},
  {"name": "at", "type": "timestamp"},
  {"name": "day", "type": "date"},
  {"name": "who", "type": "string"},
  {"name": "note", "type": "string", "nullable": true},
  {"name": "tags", "type": {"array": "string"}},
  {"name": "cur", "type": {"enum": ["EUR", "USD"]}},
  {"name": "addr", "type": {"record": [{"name": "city", "type": "string"}]}}]}$$);
SELECT schemaevo.register_schema($${"name": "pay", "fields": [
  {"name": "id", "type": "int64"},
  {"name": "amount", "type": "float64"},
  {"name": "qty", "type": "int32"},
  {"name": "price", "type": "decimal(8,2)"},
  {"name": "ok", "type": "bool"},
  {"name": "at", "type": "timestamp"},
  {"name": "day", "type": "date"},
  {"name": "who", "type": "string"},
  {"name": "note", "type": "string", "nullable": true},
  {"name": "tags", "type": {"array": "string"}},
  {"name": "cur", "type": {"enum": ["EUR", "USD"]}},
  {"name": "addr", "type": {"record": [{"name": "city", "type": "string"}]}},
  {"name": "channel", "type": "string", "default": "web"},
  {"name": "score", "type": "int16", "default": 7},
  {"name": "extra", "type": "int32", "nullable": true}]}$$);
CALL schemaevo.promote_schema('p', 'pay@2');

CREATE TABLE payments AS
SELECT 1 AS n, schemaevo.encode_message($${"id": 10, "amount": 12.5, "qty": 3, "price": 19.99,
  "ok": true, "at": "2026-01-02T03:04:05.000006Z", "day": "2026-01-02", "who": "ann",
  "note": null, "tags": ["a", "b"], "cur": "USD", "addr": {"city": "Oslo"}}$$, 'pay@1') AS m
UNION ALL
SELECT 2, schemaevo.encode_message($${"id": 11, "amount": -0.25, "qty": -1, "price": -0.01,
  "ok": false, "at": "1960-06-30T12:00:00Z", "day": "1960-06-30", "who": "björn",
  "note": "n", "tags": [], "cur": "EUR", "addr": {"city": ""}, "channel": "api",
  "score": 9, "extra": 5}$$, 'pay@2');

SELECT n, f, schemaevo.decode_field(m, 'p', f)
  FROM payments, unnest(ARRAY['id', 'amount', 'qty', 'price', 'ok', 'at', 'day', 'who',
                              'note', 'tags', 'cur', 'addr', 'channel', 'score', 'extra']) f
 ORDER BY n, f;

SELECT n,
       schemaevo.decode_field_int8(m, 'p', 'id') AS id,
       schemaevo.decode_field_int8(m, 'p', 'qty') AS qty,
       schemaevo.decode_field_int8(m, 'p', 'score') AS score,
       schemaevo.decode_field_int8(m, 'p', 'extra') AS extra,
       schemaevo.decode_field_float8(m, 'p', 'amount') AS amount,
       schemaevo.decode_field_float8(m, 'p', 'price') AS price,
       schemaevo.decode_field_float8(m, 'p', 'qty') AS qty_f
  FROM payments ORDER BY n;

SET timezone = 'UTC';
SELECT n,
       schemaevo.decode_field_text(m, 'p', 'who') AS who,
       schemaevo.decode_field_text(m, 'p', 'note') AS note,
       schemaevo.decode_field_text(m, 'p', 'cur') AS cur,
       schemaevo.decode_field_text(m, 'p', 'price') AS price_text,
       schemaevo.decode_field_text(m, 'p', 'tags') AS tags,
       schemaevo.decode_field_text(m, 'p', 'channel') AS channel,
       schemaevo.decode_field_bool(m, 'p', 'ok') AS ok,
       schemaevo.decode_field_timestamptz(m, 'p', 'at') AS at,
       schemaevo.decode_field_timestamptz(m, 'p', 'day') AS day
  FROM payments ORDER BY n;

-- a single field agrees with the whole decode, for every field and row
SELECT count(*) AS checked,
       count(*) FILTER (WHERE schemaevo.decode_field(m, 'p', k) IS DISTINCT FROM d -> k) AS different
  FROM payments, LATERAL (SELECT schemaevo.decode_message(m, 'p') AS d) x,
       LATERAL jsonb_object_keys(d) k;

-- errors
SELECT schemaevo.decode_field(m, 'p', 'nosuch') FROM payments WHERE n = 1;
SELECT schemaevo.decode_field_int8(m, 'p', 'who') FROM payments WHERE n = 1;
SELECT schemaevo.decode_field_bool(m, 'p', 'id') FROM payments WHERE n = 1;
SELECT schemaevo.decode_field_timestamptz(m, 'p', 'amount') FROM payments WHERE n = 1;
SELECT schemaevo.decode_field_float8(m, 'p', 'tags') FROM payments WHERE n = 1;
SELECT schemaevo.decode_field(m, 'nobody', 'id') FROM payments WHERE n = 1;
