-- encode_message: the JSON mapping accepted exactly, with clear errors.
SET client_min_messages = warning;

SELECT schemaevo.register_schema($${"name": "enc", "fields": [
  {"name": "i", "type": "int16"},
  {"name": "d", "type": "decimal(6,2)"},
  {"name": "f", "type": "float32"},
  {"name": "t", "type": "timestamp"},
  {"name": "u", "type": "uuid", "nullable": true},
  {"name": "x", "type": "fixed(2)", "nullable": true},
  {"name": "e", "type": {"enum": ["on", "off"]}, "default": "off"},
  {"name": "s", "type": "string", "default": "dflt"},
  {"name": "r", "type": {"record": [{"name": "q", "type": "int8"}]}, "nullable": true}]}$$);

-- defaults and nulls fill absent members
SELECT schemaevo.decode_with_schema(
  schemaevo.encode_message('{"i": 1, "d": 1.5, "f": 0.1, "t": "2000-01-01T00:00:00Z"}', 'enc@1'), 'enc@1');
-- time zone offsets are converted to UTC; decimals keep their scale
SELECT schemaevo.decode_with_schema(
  schemaevo.encode_message('{"i": -1, "d": -9999.99, "f": 3.4e38, "t": "2026-11-24 07:23:09.5+01:00", "r": {"q": 5}}', 'enc@1'), 'enc@1');

-- errors name the field
SELECT schemaevo.encode_message('[1]', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1}', 'enc@9');
SELECT schemaevo.encode_message('{"d": 1, "f": 1, "t": "2000-01-01T00:00:00Z"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 40000, "d": 1, "f": 1, "t": "2000-01-01T00:00:00Z"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1.5, "d": 1, "f": 1, "t": "2000-01-01T00:00:00Z"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1.234, "f": 1, "t": "2000-01-01T00:00:00Z"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 10000, "f": 1, "t": "2000-01-01T00:00:00Z"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": 1e39, "t": "2000-01-01T00:00:00Z"}', 'enc@1');
-- a float given a value that is neither number nor string
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": true, "t": "2000-01-01T00:00:00Z"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": [1], "t": "2000-01-01T00:00:00Z"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": {"v": 1}, "t": "2000-01-01T00:00:00Z"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": 1, "t": "yesterday"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": 1, "t": "2000-01-01T00:00:00Z", "u": "not-a-uuid"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": 1, "t": "2000-01-01T00:00:00Z", "x": "AAAA"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": 1, "t": "2000-01-01T00:00:00Z", "x": "A"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": 1, "t": "2000-01-01T00:00:00Z", "e": "maybe"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": 1, "t": "2000-01-01T00:00:00Z", "s": 5}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": 1, "t": "2000-01-01T00:00:00Z", "r": {"q": 500}}', 'enc@1');
SELECT schemaevo.encode_message('{"i": null, "d": 1, "f": 1, "t": "2000-01-01T00:00:00Z"}', 'enc@1');
SELECT schemaevo.encode_message('{"i": 1, "d": 1, "f": 1, "t": "2000-01-01T00:00:00Z", "zzz": 1}', 'enc@1');

-- a quoted text is cut at a character boundary: the message stays valid
-- UTF-8 (convert_to would refuse a cut character), and so does a quoted
-- schema text
SELECT schemaevo.register_schema('{"name": "enc_utf8", "fields": [{"name": "t", "type": "timestamp"}]}');
SET client_min_messages = notice;
DO $$
DECLARE
    msg text;
    state text;
BEGIN
    PERFORM schemaevo.encode_message(jsonb_build_object('t', 'a' || repeat(U&'\00e9', 30)), 'enc_utf8@1');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
    RAISE NOTICE '%: % (% bytes)', state, msg, length(convert_to(msg, 'UTF8'));
END $$;
DO $$
DECLARE
    msg text;
    state text;
BEGIN
    PERFORM schemaevo.register_schema('{"name": "u", "fields": [{"name": "a", "type": "a' || repeat(U&'\00e9', 40) || '"}]}');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
    RAISE NOTICE '%: % (% bytes)', state, msg, length(convert_to(msg, 'UTF8'));
END $$;
SET client_min_messages = warning;
