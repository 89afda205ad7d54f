-- Roles: only schemaevo_admin may register and promote, schemaevo_reader
-- may decode, schemaevo_peer may only call the Paxos functions, and nobody
-- writes the registry tables directly.
SET client_min_messages = warning;
\set VERBOSITY terse
CREATE ROLE sevo_plain;
CREATE ROLE sevo_reader IN ROLE schemaevo_reader;
CREATE ROLE sevo_admin IN ROLE schemaevo_admin;
CREATE ROLE sevo_peer IN ROLE schemaevo_peer;

SELECT schemaevo.register_schema('{"name": "priv", "fields": [{"name": "id", "type": "int64"}]}');
CALL schemaevo.promote_schema('pt', 'priv@1');
CREATE TABLE privmsg AS SELECT schemaevo.encode_message('{"id": 5}', 'priv@1') AS m;
GRANT SELECT ON privmsg TO PUBLIC;

-- a plain user: nothing
SET ROLE sevo_plain;
SELECT schemaevo.register_schema('{"name": "priv2", "fields": [{"name": "id", "type": "int64"}]}');
CALL schemaevo.promote_schema('pt', 'priv@1');
SELECT schemaevo.decode_message(m, 'pt') FROM privmsg;
SELECT count(*) FROM schemaevo.schemas;
INSERT INTO schemaevo.active_schemas VALUES ('pt', 'priv@1', now(), 0);
SELECT schemaevo.paxos_status('x');
SELECT schemaevo.init_cluster('n1', '{"n1": "host=localhost"}');
RESET ROLE;

-- a reader: decodes and reads the registry, changes nothing
SET ROLE sevo_reader;
SELECT schemaevo.decode_message(m, 'pt') FROM privmsg;
SELECT schemaevo.decode_field_int8(m, 'pt', 'id') FROM privmsg;
SELECT schema_id FROM schemaevo.get_active_schema('pt');
SELECT count(*) > 0 AS sees_history FROM schemaevo.promotion_history;
SELECT schemaevo.register_schema('{"name": "priv2", "fields": [{"name": "id", "type": "int64"}]}');
CALL schemaevo.promote_schema('pt', 'priv@1');
UPDATE schemaevo.schemas SET version = 9;
DELETE FROM schemaevo.log;
SELECT schemaevo.paxos_accept('x', 1, 1, '{}', false, 0);
RESET ROLE;

-- an admin: registers and promotes through the functions only
SET ROLE sevo_admin;
SELECT schemaevo.register_schema('{"name": "priv2", "fields": [{"name": "id", "type": "int64"}]}');
CALL schemaevo.promote_schema('pt2', 'priv2@1');
SELECT schema_id FROM schemaevo.get_active_schema('pt2');
INSERT INTO schemaevo.active_schemas VALUES ('pt3', 'priv2@1', now(), 0);
UPDATE schemaevo.active_schemas SET schema_id = 'priv@1';
SELECT schemaevo.paxos_prepare('x', 1, 1, false);
RESET ROLE;

-- a peer: the Paxos functions and nothing else
SET ROLE sevo_peer;
SELECT schemaevo.paxos_status('not-the-digest');
SELECT schemaevo.decode_message(m, 'pt') FROM privmsg;
SELECT count(*) FROM schemaevo.log;
CALL schemaevo.promote_schema('pt', 'priv@1');
RESET ROLE;

DROP TABLE privmsg;
DROP ROLE sevo_plain, sevo_reader, sevo_admin, sevo_peer;
