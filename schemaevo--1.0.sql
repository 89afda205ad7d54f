/* schemaevo--1.0.sql: tables, views and functions of schemaevo 1.0 */

\echo Use "CREATE EXTENSION schemaevo" to load this file. \quit

/*
 * The replicated log.  Every registry change is a command chosen for one
 * slot; the apply step replays chosen commands in slot order and is the only
 * writer of the registry tables below.
 */
CREATE TABLE schemaevo.log (
    slot        bigint PRIMARY KEY CHECK (slot > 0),
    request_id  text NOT NULL UNIQUE,
    command     jsonb NOT NULL,
    proposed_by text NOT NULL,
    chosen_at   timestamptz NOT NULL,
    outcome     jsonb                   -- set by the apply step
);
COMMENT ON TABLE schemaevo.log IS 'chosen entries of the replicated log, in slot order';

CREATE TABLE schemaevo.node_state (
    singleton    bool PRIMARY KEY DEFAULT true CHECK (singleton),
    applied_slot bigint NOT NULL DEFAULT 0
);
INSERT INTO schemaevo.node_state DEFAULT VALUES;
COMMENT ON TABLE schemaevo.node_state IS 'the last log slot applied on this node';

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

CREATE TABLE schemaevo.promotions (
    slot           bigint NOT NULL,
    tenant_id      text NOT NULL,
    from_schema_id text,
    to_schema_id   text NOT NULL,
    promoted_at    timestamptz NOT NULL,
    proposed_by    text NOT NULL,
    PRIMARY KEY (slot, tenant_id)
);

CREATE VIEW schemaevo.promotion_history AS
    SELECT slot, tenant_id, from_schema_id, to_schema_id, promoted_at, proposed_by
      FROM schemaevo.promotions
     ORDER BY slot, tenant_id;
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

/* Registry tables are changed only through the functions above. */
REVOKE ALL ON schemaevo.log, schemaevo.node_state, schemaevo.schemas,
    schemaevo.active_schemas, schemaevo.promotions FROM PUBLIC;
GRANT USAGE ON SCHEMA schemaevo TO PUBLIC;
GRANT SELECT ON schemaevo.schemas, schemaevo.active_schemas,
    schemaevo.promotion_history, schemaevo.decode_stats TO PUBLIC;
