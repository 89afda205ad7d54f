/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  The state machine of the replicated log: the one writer of the
 *	  registry tables (schemaevo.schemas, active_schemas, promotions).
 *
 * Invariants:
 *	- Entries are applied strictly in slot order; applied_slot and the
 *	  registry change commit in the same transaction.
 *	- The result depends only on the command, its slot, proposer and chosen
 *	  time, and the registry as left by the previous slots: no now(), no
 *	  random, no node-local setting.  Every node applying the same log gets
 *	  identical tables.
 *	- A command the registry refuses (unknown schema, version taken, name
 *	  hash taken) is checked before anything is written and becomes a no-op
 *	  whose outcome carries the error; any other error is not swallowed.
 *	- Every change sends a relcache invalidation for the changed tables, so
 *	  backends drop their decode caches (src/pg/cache.c) at their next
 *	  transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "apply.h"

/*
 * One command of a chosen entry, the parameters of every query the apply
 * step runs: $1 command, $2 slot, $3 chosen time, $4 proposer, $5 the
 * command's place in the entry (so two commands of one entry may promote
 * the same tenant and keep their order in the history).
 */
typedef struct PaxosEntry
{
	int64		slot;
	Jsonb	   *command;
	const char *proposed_by;
	TimestampTz chosen_at;
	int			seq;
} PaxosEntry;

static int
paxos_exec(const PaxosEntry *e, const char *sql)
{
	Oid			types[5] = {JSONBOID, INT8OID, TIMESTAMPTZOID, TEXTOID, INT4OID};
	Datum		values[5];
	int			rc;

	values[0] = JsonbPGetDatum(e->command);
	values[1] = Int64GetDatum(e->slot);
	values[2] = TimestampTzGetDatum(e->chosen_at);
	values[3] = CStringGetTextDatum(e->proposed_by);
	values[4] = Int32GetDatum(e->seq);
	/*
	 * Never read_only: each statement must see what earlier commands of the
	 * same entry (and the caller's log insert) wrote in this transaction.
	 */
	rc = SPI_execute_with_args(sql, 5, types, values, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "schemaevo apply: SPI_execute failed: %s",
			 SPI_result_code_string(rc));
	return rc;
}

/* The first column of the first row of the last query, or NULL. */
static char *
paxos_first_value(void)
{
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

static Jsonb *
paxos_jsonb_from_text(const char *s)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s)));
}

/* value->key as a jsonb document (key must exist and be a container). */
static Jsonb *
paxos_member(Jsonb *value, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&value->root, key,
												 strlen(key), NULL);

	if (v == NULL || v->type != jbvBinary)
		elog(ERROR, "schemaevo apply: log value lacks \"%s\"", key);
	return JsonbValueToJsonb(v);
}

/* Remembers a request's outcome, so that a retry is not applied again. */
static void
paxos_record_request(const PaxosEntry *e, Jsonb *outcome)
{
	Oid			types[3] = {JSONBOID, INT8OID, JSONBOID};
	Datum		values[3];

	values[0] = JsonbPGetDatum(e->command);
	values[1] = Int64GetDatum(e->slot);
	values[2] = JsonbPGetDatum(outcome);
	if (SPI_execute_with_args("INSERT INTO schemaevo.requests "
							  "SELECT $1->>'request_id', $2, $3 "
							  "WHERE $1->>'request_id' IS NOT NULL "
							  "ON CONFLICT (request_id) DO NOTHING",
							  3, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "schemaevo apply: could not record request");
}

static Jsonb *
paxos_outcome_ok(const char *key, const char *value)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"ok\": true, ");
	escape_json(&buf, key);
	appendStringInfoString(&buf, ": ");
	escape_json(&buf, value);
	appendStringInfoChar(&buf, '}');
	return paxos_jsonb_from_text(buf.data);
}

static Jsonb *
paxos_outcome_error(int sqlerrcode, const char *message, const char *hint)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"ok\": false, \"sqlstate\": \"%s\", \"message\": ",
					 unpack_sql_state(sqlerrcode));
	escape_json(&buf, message);
	if (hint)
	{
		appendStringInfoString(&buf, ", \"hint\": ");
		escape_json(&buf, hint);
	}
	appendStringInfoChar(&buf, '}');
	return paxos_jsonb_from_text(buf.data);
}

/*
 * register: {"op": "register", "name", "version" (null: next), "definition",
 * "offset_map", "layout", "fingerprint", "name_hash"}
 */
static Jsonb *
paxos_apply_register(const PaxosEntry *e)
{
	char	   *name;
	char	   *existing;
	char	   *other;
	char	   *version;
	char	   *schema_id;

	paxos_exec(e, "SELECT $1->>'name'");
	name = pstrdup(paxos_first_value());

	/* an identical definition returns the existing id */
	paxos_exec(e,
			   "SELECT schema_id FROM schemaevo.schemas "
			   " WHERE name = $1->>'name' AND fingerprint = $1->>'fingerprint' "
			   "   AND (jsonb_typeof($1->'version') = 'null' "
			   "        OR version = ($1->>'version')::int) "
			   " ORDER BY version DESC LIMIT 1");
	existing = paxos_first_value();
	if (existing)
		return paxos_outcome_ok("schema_id", existing);

	paxos_exec(e,
			   "SELECT name FROM schemaevo.schemas "
			   " WHERE (layout->>'name_hash')::bigint = ($1->>'name_hash')::bigint "
			   "   AND name <> $1->>'name' LIMIT 1");
	other = paxos_first_value();
	if (other)
		return paxos_outcome_error(ERRCODE_DUPLICATE_OBJECT,
								   psprintf("schema name \"%s\" has the same name hash as registered schema \"%s\"",
											name, other),
								   "Messages carry a 32-bit hash of the schema name; choose another name.");

	paxos_exec(e,
			   "SELECT coalesce(($1->>'version')::int, max(version) + 1, 1), "
			   "       coalesce(bool_or(version = ($1->>'version')::int), false) "
			   "  FROM schemaevo.schemas WHERE name = $1->>'name'");
	version = paxos_first_value();
	if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2),
			   "t") == 0)
		return paxos_outcome_error(ERRCODE_DUPLICATE_OBJECT,
								   psprintf("version %s of schema \"%s\" is already registered with another definition",
											version, name),
								   "Leave \"version\" out of the definition to register the next version.");
	version = pstrdup(version);

	paxos_exec(e, psprintf(
						   "WITH v(version) AS (SELECT %s) "
						   "INSERT INTO schemaevo.schemas "
						   "SELECT ($1->>'name') || '@' || v.version, $1->>'name', v.version, "
						   "       jsonb_set($1->'definition', '{version}', to_jsonb(v.version)), "
						   "       $1->'offset_map', "
						   "       coalesce((SELECT jsonb_object_agg(s.version::text, s.offset_map ORDER BY s.version) "
						   "                   FROM schemaevo.schemas s "
						   "                  WHERE s.name = $1->>'name' AND s.version < v.version), '{}'), "
						   "       jsonb_set($1->'layout', '{version}', to_jsonb(v.version)), "
						   "       $1->>'fingerprint', $3, $2 "
						   "  FROM v RETURNING schema_id", version));
	schema_id = pstrdup(paxos_first_value());

	/* a version registered below existing ones joins their fallback maps */
	paxos_exec(e, psprintf(
						   "UPDATE schemaevo.schemas "
						   "   SET fallback_offset_maps = fallback_offset_maps "
						   "       || jsonb_build_object('%s', $1->'offset_map') "
						   " WHERE name = $1->>'name' AND version > %s",
						   version, version));

	CacheInvalidateRelcacheByRelid(get_relname_relid("schemas",
													 get_namespace_oid("schemaevo", false)));
	return paxos_outcome_ok("schema_id", schema_id);
}

/* promote: {"op": "promote", "tenants": [...], "schema_id"}, all or nothing */
static Jsonb *
paxos_apply_promote(const PaxosEntry *e)
{
	paxos_exec(e,
			   "SELECT 1 FROM schemaevo.schemas WHERE schema_id = $1->>'schema_id'");
	if (SPI_processed == 0)
	{
		paxos_exec(e, "SELECT $1->>'schema_id'");
		return paxos_outcome_error(ERRCODE_UNDEFINED_OBJECT,
								   psprintf("schema \"%s\" does not exist",
											paxos_first_value()),
								   "Register it with schemaevo.register_schema() first.");
	}

	paxos_exec(e,
			   "WITH t AS (SELECT DISTINCT x AS tenant_id "
			   "             FROM jsonb_array_elements_text($1->'tenants') x), "
			   "     h AS (INSERT INTO schemaevo.promotions "
			   "           SELECT $2, $5, t.tenant_id, a.schema_id, $1->>'schema_id', $3, "
			   "                  coalesce($1->>'origin', $4) "
			   "             FROM t LEFT JOIN schemaevo.active_schemas a USING (tenant_id)) "
			   "INSERT INTO schemaevo.active_schemas "
			   "SELECT t.tenant_id, $1->>'schema_id', $3, $2 FROM t "
			   "ON CONFLICT (tenant_id) DO UPDATE "
			   "   SET schema_id = excluded.schema_id, "
			   "       promoted_at = excluded.promoted_at, "
			   "       log_slot = excluded.log_slot");

	CacheInvalidateRelcacheByRelid(get_relname_relid("active_schemas",
													 get_namespace_oid("schemaevo", false)));
	paxos_exec(e, "SELECT $1->>'schema_id'");
	return paxos_outcome_ok("schema_id", paxos_first_value());
}

/* Applies one command of an entry; its outcome. */
static Jsonb *
paxos_apply_command(const PaxosEntry *e)
{
	char	   *op;

	/* a retried request gets the outcome of its first application */
	paxos_exec(e, "SELECT outcome FROM schemaevo.requests "
			   " WHERE request_id = $1->>'request_id'");
	if (SPI_processed > 0)
		return paxos_jsonb_from_text(paxos_first_value());

	paxos_exec(e, "SELECT $1->>'op'");
	op = paxos_first_value() ? pstrdup(paxos_first_value()) : "";
	if (strcmp(op, "register") == 0)
		return paxos_apply_register(e);
	if (strcmp(op, "promote") == 0)
		return paxos_apply_promote(e);
	return paxos_outcome_error(ERRCODE_FEATURE_NOT_SUPPORTED,
							   psprintf("unknown log command \"%s\"", op),
							   "A newer schemaevo wrote this entry; upgrade this node.");
}

/*
 * Inserts the value chosen for `slot` into the log.  A slot chosen twice
 * must have the same value: anything else means the protocol is broken, and
 * we stop rather than apply a second history.
 */
void
paxos_log_insert(int64 slot, Jsonb *value)
{
	Oid			types[2] = {INT8OID, JSONBOID};
	Datum		values[2];
	char	   *same;

	values[0] = Int64GetDatum(slot);
	values[1] = JsonbPGetDatum(value);
	if (SPI_execute_with_args("INSERT INTO schemaevo.log (slot, value, proposed_by, chosen_at) "
							  "VALUES ($1, $2, coalesce($2->>'proposed_by', ''), "
							  "        coalesce(($2->>'proposed_at')::timestamptz, 'epoch')) "
							  "ON CONFLICT (slot) DO NOTHING",
							  2, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "schemaevo: could not insert log slot " INT64_FORMAT, slot);
	if (SPI_processed == 1)
		return;

	/*
	 * The row we conflicted with may have been committed by a concurrent
	 * transaction (a peer's learn racing the worker's catch-up) after the
	 * caller's snapshot was taken: ON CONFLICT waited for it, but a
	 * read-only query would still run in the old snapshot and find no row.
	 * read_only = false takes a fresh snapshot (READ COMMITTED).
	 */
	if (SPI_execute_with_args("SELECT value = $2 FROM schemaevo.log WHERE slot = $1",
							  2, types, values, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "schemaevo: could not read log slot " INT64_FORMAT, slot);
	same = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (strcmp(same, "t") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("two different values chosen for log slot " INT64_FORMAT, slot),
				 errdetail("The value learned now differs from the one in schemaevo.log."),
				 errhint("This is a safety violation of the replicated log; stop the node and report it.")));
}

/* The slot applied on this node. */
int64
paxos_applied_slot(void)
{
	if (SPI_execute("SELECT applied_slot FROM schemaevo.node_state", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "schemaevo: node_state is missing");
	return strtoll(paxos_first_value(), NULL, 10);
}

Jsonb *
paxos_apply(int64 slot)
{
	PaxosEntry	e;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	bool		isnull;
	Jsonb	   *value;
	int			ncommands;
	int			i;
	StringInfoData outcomes;
	Jsonb	   *result;
	char	   *applied;

	/* lock node_state: one applier at a time, strictly in order */
	if (SPI_execute("SELECT applied_slot FROM schemaevo.node_state FOR UPDATE",
					false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "schemaevo: node_state is missing");
	applied = paxos_first_value();
	if (strtoll(applied, NULL, 10) != slot - 1)
		elog(ERROR, "schemaevo apply: slot " INT64_FORMAT " out of order (applied slot %s)",
			 slot, applied);

	values[0] = Int64GetDatum(slot);
	if (SPI_execute_with_args("SELECT value, chosen_at, proposed_by, "
							  "       jsonb_array_length(value->'commands') "
							  "  FROM schemaevo.log WHERE slot = $1",
							  1, types, values, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "schemaevo apply: slot " INT64_FORMAT " is not in the log", slot);
	value = DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1, &isnull));
	e.slot = slot;
	e.seq = 0;
	e.chosen_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 2, &isnull));
	e.proposed_by = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	ncommands = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 4, &isnull));
	if (isnull)
		ncommands = 0;

	initStringInfo(&outcomes);
	appendStringInfoChar(&outcomes, '[');
	for (i = 0; i < ncommands; i++)
	{
		JsonbValue *cmd = getIthJsonbValueFromContainer(
			&paxos_member(value, "commands")->root, i);
		Jsonb	   *outcome;

		e.command = JsonbValueToJsonb(cmd);
		e.seq = i;
		outcome = paxos_apply_command(&e);
		paxos_record_request(&e, outcome);
		if (i > 0)
			appendStringInfoString(&outcomes, ", ");
		appendStringInfoString(&outcomes,
							   JsonbToCString(NULL, &outcome->root, VARSIZE(outcome)));
	}
	appendStringInfoChar(&outcomes, ']');
	result = paxos_jsonb_from_text(outcomes.data);

	{
		Oid			t2[2] = {INT8OID, JSONBOID};
		Datum		v2[2];

		v2[0] = Int64GetDatum(slot);
		v2[1] = JsonbPGetDatum(result);
		if (SPI_execute_with_args(
								  "WITH d AS (SELECT md5(n.digest || ':' || l.slot || ':' || l.value::text) AS digest "
								  "             FROM schemaevo.node_state n, schemaevo.log l WHERE l.slot = $1), "
								  "     l AS (UPDATE schemaevo.log SET outcome = $2, digest = d.digest "
								  "             FROM d WHERE slot = $1) "
								  "UPDATE schemaevo.node_state SET applied_slot = $1, digest = d.digest FROM d",
								  2, t2, v2, NULL, false, 0) != SPI_OK_UPDATE ||
			SPI_execute_with_args("DELETE FROM schemaevo.acceptor_slots WHERE slot <= $1",
								  1, t2, v2, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "schemaevo apply: could not record slot " INT64_FORMAT, slot);
	}
	return result;
}
