-- The log's settings: documented defaults, set only in postgresql.conf
-- (sighup), ranges enforced (README, "Settings"; docs/cluster.md).
\set VERBOSITY terse

SELECT name, setting, unit, context, min_val, max_val
  FROM pg_settings
 WHERE name IN ('schemaevo.batch_size', 'schemaevo.batch_wait',
                'schemaevo.peer_timeout', 'schemaevo.connect_timeout',
                'schemaevo.catchup_interval')
 ORDER BY name;

-- a sighup setting cannot be changed by a session (55P02)
\set VERBOSITY sqlstate
SET schemaevo.batch_wait = 0;
SET schemaevo.batch_size = 8;
\set VERBOSITY terse
SET schemaevo.batch_wait = 0;

-- values out of range are refused
ALTER SYSTEM SET schemaevo.batch_wait = 101;
ALTER SYSTEM SET schemaevo.batch_wait = -1;
ALTER SYSTEM SET schemaevo.batch_size = 65;
