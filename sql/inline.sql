-- Without shared_preload_libraries there is no log worker: the log runs
-- inline as a cluster of one, inside the caller's transaction.  Run by
-- `make installcheck-inline` against a server that does not preload
-- schemaevo.
SET client_min_messages = warning;
SELECT schemaevo.register_schema('{"name": "inl", "fields": [{"name": "id", "type": "int64"}, {"name": "s", "type": "string", "nullable": true}]}');
CALL schemaevo.promote_schema('t', 'inl@1');
SELECT schemaevo.decode_message(schemaevo.encode_message('{"id": 1, "s": "x"}', 'inl@1'), 't');

-- the registry change is part of the caller's transaction
BEGIN;
SELECT schemaevo.register_schema('{"name": "inl", "fields": [{"name": "id", "type": "int64"}, {"name": "s", "type": "string", "nullable": true}, {"name": "n", "type": "int8", "default": 0}]}');
CALL schemaevo.promote_schema('t', 'inl@2');
SELECT schema_id FROM schemaevo.get_active_schema('t');
ROLLBACK;
SELECT schema_id FROM schemaevo.get_active_schema('t');
SELECT count(*) FROM schemaevo.schemas WHERE name = 'inl';
SELECT slot, value->'commands'->0->>'op' AS op FROM schemaevo.log ORDER BY slot;

-- a refused command rolls back with the caller: no log entry
CALL schemaevo.promote_schema('t', 'inl@9');
SELECT count(*) FROM schemaevo.log;

-- counters are per backend; the cluster is this node
SELECT decoded, scope FROM schemaevo.decode_stats;
SELECT node_name, reachable, role, voting FROM schemaevo.cluster_status;

-- a member of a cluster of several never chooses alone, even without
-- its log worker (the members are inserted by hand here; init_cluster
-- would want to reach them)
BEGIN;
INSERT INTO schemaevo.cluster_members VALUES
  ('n1', 'host=127.0.0.1 port=1', 1), ('n2', 'host=127.0.0.1 port=2', 2);
CALL schemaevo.promote_schema('t', 'inl@1');
ROLLBACK;
CALL schemaevo.promote_schema('t2', 'inl@1');
SELECT count(*) FROM schemaevo.log;
