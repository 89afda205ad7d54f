/* schemaevo--1.0.sql: tables, views and functions of schemaevo 1.0 */

\echo Use "CREATE EXTENSION schemaevo" to load this file. \quit

/*
 * The strings of a message are UTF-8 (docs/wire-format.md) and become text
 * and jsonb as they are: only a UTF8 database can hold them.
 */
DO $encoding$
BEGIN
    IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
        RAISE EXCEPTION 'schemaevo requires a database with encoding UTF8'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = pg_catalog.format('This database''s encoding is %s; the strings of schemaevo messages are UTF-8.',
                                             pg_catalog.getdatabaseencoding()),
                  HINT = 'Create the extension in a database created with ENCODING ''UTF8''.';
    END IF;
END
$encoding$;

/*
 * The replicated log.  Every registry change is a command; the log chooses
 * a value (a batch of commands) for each slot, and the apply step replays
 * chosen values in slot order.  The apply step is the only writer of the
 * registry tables below (schemas, active_schemas, promotions, requests).
 */
CREATE TABLE schemaevo.log (
    slot        bigint PRIMARY KEY CHECK (slot > 0),
    value       jsonb NOT NULL,         -- {"proposed_by", "proposed_at", "commands": [...]}
    proposed_by text NOT NULL,
    chosen_at   timestamptz NOT NULL,   -- the proposer's clock, part of the value
    outcome     jsonb,                  -- one outcome per command, set by apply
    digest      text                    -- hash chain of the applied log, set by apply
);
COMMENT ON TABLE schemaevo.log IS 'chosen entries of the replicated log, in slot order';

CREATE TABLE schemaevo.requests (
    request_id text PRIMARY KEY,
    slot       bigint NOT NULL,
    outcome    jsonb NOT NULL
);
COMMENT ON TABLE schemaevo.requests IS 'applied requests by id, so that a retried request is applied once';

CREATE TABLE schemaevo.node_state (
    singleton    bool PRIMARY KEY DEFAULT true CHECK (singleton),
    applied_slot bigint NOT NULL DEFAULT 0,
    digest       text NOT NULL DEFAULT ''
);
INSERT INTO schemaevo.node_state DEFAULT VALUES;
COMMENT ON TABLE schemaevo.node_state IS 'the last log slot applied on this node and the digest of the log up to it';

/*
 * Cluster membership, set by init_cluster() on every node; and the
 * acceptor's durable state.  Neither goes through the log.
 */
CREATE TABLE schemaevo.cluster_members (
    node_name  text PRIMARY KEY,
    conninfo   text NOT NULL,
    node_index int NOT NULL UNIQUE      -- 1-based, in name order; part of ballots
);

CREATE TABLE schemaevo.cluster_self (
    singleton bool PRIMARY KEY DEFAULT true CHECK (singleton),
    node_name text NOT NULL,
    digest    text NOT NULL,            -- of the membership, sent with every peer call
    voting    bool NOT NULL DEFAULT false,
    -- where the vote was cast: a data directory restored from a backup or
    -- snapshot, or a promoted standby, must rejoin as a new member
    system_identifier text,
    timeline  int
);

CREATE TABLE schemaevo.acceptor_state (
    singleton bool PRIMARY KEY DEFAULT true CHECK (singleton),
    promised  bigint NOT NULL DEFAULT 0 -- highest ballot promised, for every slot
);
INSERT INTO schemaevo.acceptor_state DEFAULT VALUES;

CREATE TABLE schemaevo.forwarded (
    request_id  text PRIMARY KEY,
    command     jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE schemaevo.forwarded IS 'commands other nodes forwarded to this node while it leads, until its worker takes them';

CREATE TABLE schemaevo.acceptor_slots (
    slot     bigint PRIMARY KEY,
    ballot   bigint NOT NULL,
    value    jsonb NOT NULL
);
COMMENT ON TABLE schemaevo.acceptor_slots IS 'values accepted for slots not yet applied here';

CREATE TABLE schemaevo.schemas (
    schema_id            text PRIMARY KEY,
    name                 text NOT NULL,
    version              int NOT NULL CHECK (version > 0),
    definition           jsonb NOT NULL,
    offset_map           jsonb NOT NULL,
    fallback_offset_maps jsonb NOT NULL,
    layout               jsonb NOT NULL,
    fingerprint          text NOT NULL,
    created_at           timestamptz NOT NULL,
    log_slot             bigint NOT NULL,
    UNIQUE (name, version)
);
COMMENT ON TABLE schemaevo.schemas IS 'registered schema versions with their compiled offset maps';

CREATE TABLE schemaevo.active_schemas (
    tenant_id   text PRIMARY KEY,
    schema_id   text NOT NULL REFERENCES schemaevo.schemas,
    promoted_at timestamptz NOT NULL,
    log_slot    bigint NOT NULL
);
COMMENT ON TABLE schemaevo.active_schemas IS 'the schema version each tenant is on';

-- Never holds a row: the apply step sends a relcache invalidation for it
-- whenever it changes the registry, and every backend then drops its
-- decode cache (src/pg/cache.c).  Invalidating schemas or active_schemas
-- themselves would also discard the log's kept plans that read them, to be
-- planned again at every slot.
CREATE TABLE schemaevo.registry_changed ();
COMMENT ON TABLE schemaevo.registry_changed IS 'empty: its relcache invalidation signals a registry change to the decode caches';

CREATE TABLE schemaevo.promotions (
    slot           bigint NOT NULL,
    seq            int NOT NULL,           -- the command's place in its log entry
    tenant_id      text NOT NULL,
    from_schema_id text,
    to_schema_id   text NOT NULL,
    promoted_at    timestamptz NOT NULL,
    proposed_by    text NOT NULL,          -- the node the promotion was submitted on
    PRIMARY KEY (slot, seq, tenant_id)
);

CREATE VIEW schemaevo.promotion_history AS
    SELECT slot, tenant_id, from_schema_id, to_schema_id, promoted_at, proposed_by
      FROM schemaevo.promotions
     ORDER BY slot, seq, tenant_id;
COMMENT ON VIEW schemaevo.promotion_history IS 'every promotion ever chosen, in log order';

/* Registry and promotion */

CREATE FUNCTION schemaevo.register_schema(definition text) RETURNS text
    AS 'MODULE_PATHNAME', 'sevo_register_schema_text'
    LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION schemaevo.register_schema(definition jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'sevo_register_schema_jsonb'
    LANGUAGE C STRICT VOLATILE;

CREATE PROCEDURE schemaevo.promote_schema(tenant text, schema_id text)
    AS 'MODULE_PATHNAME', 'sevo_promote_schema'
    LANGUAGE C;
CREATE PROCEDURE schemaevo.promote_schema(tenants text[], schema_id text)
    AS 'MODULE_PATHNAME', 'sevo_promote_schema_many'
    LANGUAGE C;

/* NULL row (every column NULL) when unknown; see README */
CREATE FUNCTION schemaevo.get_schema(schema_id text) RETURNS schemaevo.schemas
    LANGUAGE sql STABLE STRICT
    BEGIN ATOMIC
        SELECT s.* FROM schemaevo.schemas s WHERE s.schema_id = get_schema.schema_id;
    END;

CREATE FUNCTION schemaevo.get_active_schema(tenant text) RETURNS schemaevo.schemas
    LANGUAGE sql STABLE STRICT
    BEGIN ATOMIC
        SELECT s.* FROM schemaevo.schemas s
          JOIN schemaevo.active_schemas a USING (schema_id)
         WHERE a.tenant_id = get_active_schema.tenant;
    END;

/* Decoding and encoding */

CREATE FUNCTION schemaevo.decode_message(payload bytea, tenant text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sevo_decode_message'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION schemaevo.try_decode_message(payload bytea, tenant text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sevo_try_decode_message'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION schemaevo.decode_with_schema(payload bytea, schema_id text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sevo_decode_with_schema'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION schemaevo.decode_field(payload bytea, tenant text, field text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sevo_decode_field'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION schemaevo.decode_field_int8(payload bytea, tenant text, field text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'sevo_decode_field_int8'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION schemaevo.decode_field_float8(payload bytea, tenant text, field text) RETURNS double precision
    AS 'MODULE_PATHNAME', 'sevo_decode_field_float8'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION schemaevo.decode_field_text(payload bytea, tenant text, field text) RETURNS text
    AS 'MODULE_PATHNAME', 'sevo_decode_field_text'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION schemaevo.decode_field_bool(payload bytea, tenant text, field text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'sevo_decode_field_bool'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION schemaevo.decode_field_timestamptz(payload bytea, tenant text, field text) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'sevo_decode_field_timestamptz'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION schemaevo.encode_message(doc jsonb, schema_id text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'sevo_encode_message'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION schemaevo.message_version(payload bytea) RETURNS int
    AS 'MODULE_PATHNAME', 'sevo_message_version'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

/* The cluster: set-up, status, and the functions peers call */

CREATE FUNCTION schemaevo.init_cluster(self text, members jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'paxos_init_cluster'
    LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION schemaevo.cluster_status_internal(
    OUT node_name text, OUT conninfo text, OUT reachable bool,
    OUT applied_slot bigint, OUT role text, OUT lag_slots bigint,
    OUT voting bool, OUT diverged bool)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'paxos_cluster_status'
    LANGUAGE C STRICT VOLATILE;

CREATE VIEW schemaevo.cluster_status AS
    SELECT * FROM schemaevo.cluster_status_internal();
COMMENT ON VIEW schemaevo.cluster_status IS 'each member of the cluster as this node last saw it';

CREATE FUNCTION schemaevo.paxos_prepare(digest text, ballot bigint, from_slot bigint, fence boolean) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'paxos_sql_prepare'
    LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION schemaevo.paxos_accept(digest text, ballot bigint, slot bigint, value jsonb,
                                       fence boolean, chosen_through bigint) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'paxos_sql_accept'
    LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION schemaevo.paxos_learn(digest text, ballot bigint, chosen_through bigint) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'paxos_sql_learn'
    LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION schemaevo.paxos_fetch(digest text, from_slot bigint, max_entries int) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'paxos_sql_fetch'
    LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION schemaevo.paxos_forward(digest text, commands jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'paxos_sql_forward'
    LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION schemaevo.paxos_status(digest text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'paxos_sql_status'
    LANGUAGE C STRICT VOLATILE;

/* Monitoring */

CREATE FUNCTION schemaevo.decode_stats_internal(
    OUT decoded bigint, OUT exact_version bigint, OUT upward bigint,
    OUT downward bigint, OUT dynamic_offset bigint, OUT rejected bigint,
    OUT malformed bigint, OUT scope text)
    AS 'MODULE_PATHNAME', 'sevo_decode_stats'
    LANGUAGE C STRICT VOLATILE;

CREATE VIEW schemaevo.decode_stats AS
    SELECT * FROM schemaevo.decode_stats_internal();
COMMENT ON VIEW schemaevo.decode_stats IS 'decode counters since server start (shared) or backend start';

CREATE FUNCTION schemaevo.reset_decode_stats() RETURNS void
    AS 'MODULE_PATHNAME', 'sevo_reset_decode_stats'
    LANGUAGE C STRICT VOLATILE;

/*
 * Privileges.  Three roles, created once per server:
 *   schemaevo_reader  may read the registry and decode
 *   schemaevo_admin   may also register schemas and promote tenants
 *   schemaevo_peer    may only call the Paxos functions (for peer nodes)
 * Nobody but the extension's own functions writes a registry table: the
 * functions that change the registry are SECURITY DEFINER and pin
 * search_path in C (a SET clause would also undo the acceptor's
 * transaction-local synchronous_commit = on before commit).
 */
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'schemaevo_reader') THEN
        CREATE ROLE schemaevo_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'schemaevo_admin') THEN
        CREATE ROLE schemaevo_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'schemaevo_peer') THEN
        CREATE ROLE schemaevo_peer NOLOGIN;
    END IF;
END
$roles$;
GRANT schemaevo_reader TO schemaevo_admin;

REVOKE ALL ON ALL TABLES IN SCHEMA schemaevo FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA schemaevo FROM PUBLIC;
REVOKE ALL ON ALL PROCEDURES IN SCHEMA schemaevo FROM PUBLIC;
GRANT USAGE ON SCHEMA schemaevo TO schemaevo_reader, schemaevo_peer;

GRANT SELECT ON schemaevo.schemas, schemaevo.active_schemas, schemaevo.promotions,
    schemaevo.promotion_history, schemaevo.log, schemaevo.node_state,
    schemaevo.decode_stats, schemaevo.cluster_status TO schemaevo_reader;
GRANT EXECUTE ON FUNCTION
    schemaevo.get_schema(text), schemaevo.get_active_schema(text),
    schemaevo.decode_message(bytea, text), schemaevo.try_decode_message(bytea, text),
    schemaevo.decode_with_schema(bytea, text), schemaevo.decode_field(bytea, text, text),
    schemaevo.decode_field_int8(bytea, text, text), schemaevo.decode_field_float8(bytea, text, text),
    schemaevo.decode_field_text(bytea, text, text), schemaevo.decode_field_bool(bytea, text, text),
    schemaevo.decode_field_timestamptz(bytea, text, text),
    schemaevo.encode_message(jsonb, text), schemaevo.message_version(bytea),
    schemaevo.decode_stats_internal(), schemaevo.cluster_status_internal()
    TO schemaevo_reader;

ALTER FUNCTION schemaevo.register_schema(text) SECURITY DEFINER;
ALTER FUNCTION schemaevo.register_schema(jsonb) SECURITY DEFINER;
ALTER PROCEDURE schemaevo.promote_schema(text, text) SECURITY DEFINER;
ALTER PROCEDURE schemaevo.promote_schema(text[], text) SECURITY DEFINER;
GRANT EXECUTE ON FUNCTION schemaevo.register_schema(text), schemaevo.register_schema(jsonb)
    TO schemaevo_admin;
GRANT EXECUTE ON PROCEDURE schemaevo.promote_schema(text, text),
    schemaevo.promote_schema(text[], text) TO schemaevo_admin;

ALTER FUNCTION schemaevo.paxos_prepare(text, bigint, bigint, boolean) SECURITY DEFINER;
ALTER FUNCTION schemaevo.paxos_accept(text, bigint, bigint, jsonb, boolean, bigint) SECURITY DEFINER;
ALTER FUNCTION schemaevo.paxos_learn(text, bigint, bigint) SECURITY DEFINER;
ALTER FUNCTION schemaevo.paxos_fetch(text, bigint, int) SECURITY DEFINER;
ALTER FUNCTION schemaevo.paxos_forward(text, jsonb) SECURITY DEFINER;
ALTER FUNCTION schemaevo.paxos_status(text) SECURITY DEFINER;
GRANT EXECUTE ON FUNCTION
    schemaevo.paxos_prepare(text, bigint, bigint, boolean), schemaevo.paxos_accept(text, bigint, bigint, jsonb, boolean, bigint),
    schemaevo.paxos_learn(text, bigint, bigint), schemaevo.paxos_fetch(text, bigint, int),
    schemaevo.paxos_forward(text, jsonb), schemaevo.paxos_status(text)
    TO schemaevo_peer;

-- init_cluster and reset_decode_stats stay with the extension's owner.
