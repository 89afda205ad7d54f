-- Every malformed-input case of DESIGN.md: 22P03 with the byte offset and
-- field, never a crash, never a read past the buffer.
SET client_min_messages = warning;

SELECT schemaevo.register_schema($${"name": "mal", "fields": [
  {"name": "a", "type": "int16"},
  {"name": "s", "type": "string"},
  {"name": "e", "type": {"enum": ["x", "y"]}},
  {"name": "b", "type": "bool"},
  {"name": "n", "type": "int32", "nullable": true},
  {"name": "arr", "type": {"array": "int32"}}]}$$);
CALL schemaevo.promote_schema('m', 'mal@1');

-- header 0-15, bitmap 16, fixed area 17-25 (a@0 e@2 b@4 n@5), then
-- s: length 26-29, bytes 30-31; arr: length 32-35, count 36-39, items 40-47
CREATE TABLE good AS
  SELECT schemaevo.encode_message('{"a": 1, "s": "hi", "e": "y", "b": true, "n": null, "arr": [1, 2]}', 'mal@1') AS m;
SELECT m, length(m), schemaevo.decode_message(m, 'm') FROM good;

\set VERBOSITY default
SELECT schemaevo.decode_message('', 'm');
SELECT schemaevo.decode_message(substring(m from 1 for 10), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 0, 0), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 1, 1), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 2, 5), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 12, 8), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 12, 200), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 26, 200), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 30, 255), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 19, 9), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 21, 2), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 16, 1), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 16, 144), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 22, 1), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(m, 36, 255), 'm') FROM good;
SELECT schemaevo.decode_message(set_byte(set_byte(m, 36, 255), 39, 255), 'm') FROM good;
SELECT schemaevo.decode_message(m || '\x00'::bytea, 'm') FROM good;
SELECT schemaevo.decode_message(substring(m from 1 for length(m) - 1), 'm') FROM good;
SELECT schemaevo.message_version('\xe5'::bytea);
SELECT schemaevo.decode_with_schema(set_byte(m, 0, 0), 'mal@1') FROM good;
SELECT schemaevo.decode_field(set_byte(m, 26, 200), 'm', 's') FROM good;
\set VERBOSITY terse

-- every prefix of a good message is refused cleanly
SELECT count(*) AS prefixes, count(schemaevo.try_decode_message(substring(m from 1 for k), 'm')) AS decoded
  FROM good, generate_series(0, length(m) - 1) k;
-- every single-byte corruption either decodes or is refused; none crashes
-- (the counts read the result, so that every call is made)
SELECT count(*) AS variants, count(d.r) AS decoded, count(*) - count(d.r) AS refused
  FROM good, generate_series(0, length(m) - 1) i, generate_series(0, 255, 51) v,
       LATERAL (SELECT schemaevo.try_decode_message(set_byte(m, i, v), 'm') AS r) d;

-- try_decode_message: NULL for exactly the corrupt rows
CREATE TABLE mixed AS
  SELECT i, CASE WHEN i % 3 = 0 THEN set_byte(m, 0, 0) ELSE m END AS m
    FROM good, generate_series(1, 12) i;
SELECT i, schemaevo.try_decode_message(m, 'm') IS NULL AS refused, i % 3 = 0 AS corrupt
  FROM mixed ORDER BY i;
