-- Every documented limit is enforced with a clear error (54000 for
-- program limits, 22P03 for messages that claim more than they hold).
SET client_min_messages = warning;
\set VERBOSITY terse

-- definition size (1 MiB), field count (1024), nesting depth (16),
-- enum symbols (65535), fixed(N) size (65536), name length (63)
SELECT schemaevo.register_schema('{"name": "big", "doc": "' || repeat('x', 1100000) || '", "fields": [{"name": "a", "type": "int8"}]}');
SELECT schemaevo.register_schema('{"name": "wide", "fields": [' ||
  (SELECT string_agg(format('{"name": "f%s", "type": "int8"}', i), ',') FROM generate_series(1, 1025) i) || ']}');
SELECT schemaevo.register_schema('{"name": "deep", "fields": [{"name": "a", "type": ' ||
  repeat('{"array": ', 17) || '"int8"' || repeat('}', 17) || '}]}');
SELECT schemaevo.register_schema('{"name": "manyenum", "fields": [{"name": "e", "type": {"enum": [' ||
  (SELECT string_agg(format('"s%s"', i), ',') FROM generate_series(1, 65536) i) || ']}}]}');
SELECT schemaevo.register_schema('{"name": "bigfixed", "fields": [{"name": "a", "type": "fixed(65537)"}]}');
SELECT schemaevo.register_schema('{"name": "' || repeat('n', 64) || '", "fields": [{"name": "a", "type": "int8"}]}');
SELECT schemaevo.register_schema('{"name": "longfield", "fields": [{"name": "' || repeat('f', 64) || '", "type": "int8"}]}');
-- exactly at the limits is fine
SELECT schemaevo.register_schema('{"name": "wide", "fields": [' ||
  (SELECT string_agg(format('{"name": "f%s", "type": "int8"}', i), ',') FROM generate_series(1, 1024) i) || ']}');
SELECT schemaevo.register_schema('{"name": "deep", "fields": [{"name": "a", "type": ' ||
  repeat('{"array": ', 15) || '"int8"' || repeat('}', 15) || '}]}');

-- messages: an array count beyond 64M elements, a count times element
-- size past the buffer, a length past the end, refused before any
-- allocation sized by them
SELECT schemaevo.register_schema('{"name": "arr", "fields": [{"name": "xs", "type": {"array": "int64"}}, {"name": "s", "type": "string"}]}');
CALL schemaevo.promote_schema('lim', 'arr@1');
CREATE TABLE limmsg AS SELECT schemaevo.encode_message('{"xs": [1, 2], "s": "ab"}', 'arr@1') AS m;
-- header 16 + bitmap 1 + no fixed area: xs length at 17, count at 21
SELECT schemaevo.decode_message(set_byte(set_byte(set_byte(set_byte(m, 21, 255), 22, 255), 23, 255), 24, 127), 'lim') FROM limmsg;
SELECT schemaevo.decode_message(set_byte(set_byte(m, 21, 0), 23, 1), 'lim') FROM limmsg;
SELECT schemaevo.decode_message(set_byte(set_byte(set_byte(m, 17, 255), 18, 255), 20, 255), 'lim') FROM limmsg;
SELECT schemaevo.decode_field(set_byte(m, 41, 255), 'lim', 's') FROM limmsg;
-- encoding stops at the same array limit only when reached; small arrays pass
SELECT length(schemaevo.encode_message(jsonb_build_object('xs', (SELECT jsonb_agg(i) FROM generate_series(1, 10000) i), 's', ''), 'arr@1'));

-- a chosen entry must always apply, or every node stops at its slot: the
-- apply step refuses what would fail to be written, with an outcome
-- the version after 2147483647
SELECT schemaevo.register_schema('{"name": "lastv", "version": 2147483647, "fields": [{"name": "a", "type": "int8"}]}');
SELECT schemaevo.register_schema('{"name": "lastv", "fields": [{"name": "a", "type": "int8"}, {"name": "b", "type": "int8"}]}');
-- tenant ids: 1024 bytes (incompressible) are fine, 1025 are refused
SELECT string_agg(md5(i::text), '') AS t1024 FROM generate_series(1, 32) i \gset
CALL schemaevo.promote_schema(:'t1024', 'lastv@2147483647');
CALL schemaevo.promote_schema(:'t1024' || 'x', 'lastv@2147483647');
CALL schemaevo.promote_schema(ARRAY['ok', :'t1024' || 'x'], 'lastv@2147483647');
SELECT length(tenant_id) FROM schemaevo.active_schemas WHERE schema_id = 'lastv@2147483647';
-- a command that skipped that check (one forwarded by a peer) is refused
-- by the apply step; the log goes on
INSERT INTO schemaevo.forwarded VALUES ('limits-long-tenant',
  jsonb_build_object('op', 'promote', 'tenants', jsonb_build_array(:'t1024' || 'x'),
                     'schema_id', 'lastv@2147483647', 'request_id', 'limits-long-tenant',
                     'origin', 'test'), now());
DO $$
BEGIN
  FOR i IN 1 .. 600 LOOP
    EXIT WHEN EXISTS (SELECT FROM schemaevo.requests WHERE request_id = 'limits-long-tenant');
    PERFORM pg_sleep(0.1);
  END LOOP;
END
$$;
SELECT outcome FROM schemaevo.requests WHERE request_id = 'limits-long-tenant';
CALL schemaevo.promote_schema('after', 'lastv@2147483647');
SELECT tenant_id FROM schemaevo.active_schemas WHERE tenant_id = 'after';
