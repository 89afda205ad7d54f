-- decode_stats counts every case.  It resets the counters first and runs
-- alone in its session, so what it reads is its own work (with the
-- library preloaded the counters are the server's).
SET client_min_messages = warning;
SELECT schemaevo.reset_decode_stats();

SELECT schemaevo.register_schema('{"name": "st", "fields": [{"name": "id", "type": "int64"}, {"name": "s", "type": "string"}, {"name": "t", "type": "string", "nullable": true}]}');
SELECT schemaevo.register_schema('{"name": "st", "fields": [{"name": "id", "type": "int64"}, {"name": "s", "type": "string"}, {"name": "t", "type": "string", "nullable": true}, {"name": "z", "type": "int8", "default": 0}]}');
CALL schemaevo.promote_schema('st1', 'st@1');
CALL schemaevo.promote_schema('st2', 'st@2');
CREATE TABLE stmsgs AS
  SELECT v, schemaevo.encode_message('{"id": 1, "s": "x"}', 'st@' || v) AS m FROM generate_series(1, 2) v;

SELECT count(schemaevo.decode_message(m, 'st1')) FROM stmsgs;          -- exact + upward (dynamic offsets for t)
SELECT count(schemaevo.decode_message(m, 'st2')) FROM stmsgs;          -- downward + exact
SELECT schemaevo.decode_field_int8(m, 'st1', 'id') FROM stmsgs WHERE v = 1;  -- exact, fixed
SELECT schemaevo.decode_field_text(m, 'st1', 's') FROM stmsgs WHERE v = 1;   -- exact, first variable field: no walk
SELECT schemaevo.decode_field_text(m, 'st1', 't') FROM stmsgs WHERE v = 1;   -- exact, dynamic offset
SELECT schemaevo.try_decode_message(set_byte(m, 0, 1), 'st1') FROM stmsgs WHERE v = 1;  -- malformed
SET schemaevo.version_mismatch = reject;
SELECT schemaevo.try_decode_message(m, 'st1') FROM stmsgs WHERE v = 2;  -- rejected
RESET schemaevo.version_mismatch;

SELECT decoded, exact_version, upward, downward, dynamic_offset, rejected, malformed
  FROM schemaevo.decode_stats;
