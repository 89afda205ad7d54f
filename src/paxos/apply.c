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
 *	- An entry that changed the registry sends a relcache invalidation for
 *	  schemaevo.registry_changed, so backends drop their decode caches
 *	  (src/pg/cache.c) at their next transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "apply.h"
#include "paxos.h"
#include "query.h"
#include "rows.h"

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

#define ENTRY_QUERY(sql) {sql, 5, {JSONBOID, INT8OID, TIMESTAMPTZOID, TEXTOID, INT4OID}}

/* Runs `q`, an ENTRY_QUERY, with the parameters of `e`. */
static int
paxos_exec(const PaxosEntry *e, PaxosQuery *q)
{
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
	rc = paxos_query_run(q, values, false, 0);
	if (rc < 0)
		elog(ERROR, "schemaevo apply: SPI_execute failed: %s",
			 SPI_result_code_string(rc));
	return rc;
}

/* The same for a statement built at run time (rare commands only). */
static int
paxos_exec_dynamic(const PaxosEntry *e, const char *sql)
{
	PaxosQuery	q = ENTRY_QUERY(sql);
	int			rc;

	q.plan = SPI_prepare(sql, q.nargs, q.argtypes);
	if (q.plan == NULL)
		elog(ERROR, "schemaevo apply: could not prepare \"%s\"", sql);
	rc = paxos_exec(e, &q);
	SPI_freeplan(q.plan);
	return rc;
}

/*
 * What the entry being applied changed.  Backends drop their decode caches
 * on a relcache invalidation of schemaevo.registry_changed, sent once per
 * entry at its end.  (Invalidating schemas or active_schemas instead would
 * also discard the kept plans of the statements here that read them.)
 */
static bool paxos_changed_schemas;
static bool paxos_changed_active;

/* command->>key, or "" when the command has no such string. */
static char *
paxos_command_text(const PaxosEntry *e, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&e->command->root, key,
												 strlen(key), NULL);

	if (v == NULL || v->type != jbvString)
		return "";
	return pnstrdup(v->val.string.val, v->val.string.len);
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

/* Remembers a request's outcome, so that a retry is not applied again. */
static void
paxos_record_request(const PaxosEntry *e, Jsonb *outcome)
{
	static PaxosQuery q = {
		"INSERT INTO schemaevo.requests "
		"SELECT $1->>'request_id', $2, $3 "
		"WHERE $1->>'request_id' IS NOT NULL "
		"ON CONFLICT (request_id) DO NOTHING",
	3, {JSONBOID, INT8OID, JSONBOID}};

	if (paxos_query_run(&q, (Datum[]) {JsonbPGetDatum(e->command), Int64GetDatum(e->slot),
						JsonbPGetDatum(outcome)}, false, 0) != SPI_OK_INSERT)
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
 * How much of a user-supplied id an outcome's message shows: the outcome
 * goes back to the caller through a fixed-size buffer (PAXOS_MAX_OUTCOME).
 */
static int
paxos_shown_len(const char *id)
{
	return id ? pg_mbcliplen(id, (int) strlen(id), 256) : 0;
}

/*
 * register: {"op": "register", "name", "version" (null: next), "definition",
 * "offset_map", "layout", "fingerprint", "name_hash"}
 */
static Jsonb *
paxos_apply_register(const PaxosEntry *e)
{
	static PaxosQuery next_version = ENTRY_QUERY("SELECT coalesce(($1->>'version')::bigint, max(version)::bigint + 1, 1), "
					   "       coalesce(bool_or(version = ($1->>'version')::int), false) "
					   "  FROM schemaevo.schemas WHERE name = $1->>'name'");
	static PaxosQuery same_name_hash = ENTRY_QUERY("SELECT name FROM schemaevo.schemas "
					   " WHERE (layout->>'name_hash')::bigint = ($1->>'name_hash')::bigint "
					   "   AND name <> $1->>'name' LIMIT 1");
	static PaxosQuery same_definition = ENTRY_QUERY("SELECT schema_id FROM schemaevo.schemas "
					   " WHERE name = $1->>'name' AND fingerprint = $1->>'fingerprint' "
					   "   AND (jsonb_typeof($1->'version') = 'null' "
					   "        OR version = ($1->>'version')::int) "
					   " ORDER BY version DESC LIMIT 1");
	char	   *name;
	char	   *existing;
	char	   *other;
	char	   *version;
	char	   *schema_id;

	name = paxos_command_text(e, "name");

	/* an identical definition returns the existing id */
	paxos_exec(e, &same_definition);
	existing = paxos_first_value();
	if (existing)
		return paxos_outcome_ok("schema_id", existing);

	paxos_exec(e, &same_name_hash);
	other = paxos_first_value();
	if (other)
		return paxos_outcome_error(ERRCODE_DUPLICATE_OBJECT,
								   psprintf("schema name \"%s\" has the same name hash as registered schema \"%s\"",
											name, other),
								   "Messages carry a 32-bit hash of the schema name; choose another name.");

	paxos_exec(e, &next_version);
	version = paxos_first_value();
	if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2),
			   "t") == 0)
		return paxos_outcome_error(ERRCODE_DUPLICATE_OBJECT,
								   psprintf("version %s of schema \"%s\" is already registered with another definition",
											version, name),
								   "Leave \"version\" out of the definition to register the next version.");
	/*
	 * A refusal, not an error: the entry is chosen already, and an error
	 * here would stop every node at this slot, for good.
	 */
	if (strtoll(version, NULL, 10) > PG_INT32_MAX)
		return paxos_outcome_error(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
								   psprintf("schema \"%s\" has no version after 2147483647", name),
								   "Register the definition under another name.");
	version = pstrdup(version);

	paxos_exec_dynamic(e, psprintf(
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
	paxos_exec_dynamic(e, psprintf(
						   "UPDATE schemaevo.schemas "
						   "   SET fallback_offset_maps = fallback_offset_maps "
						   "       || jsonb_build_object('%s', $1->'offset_map') "
						   " WHERE name = $1->>'name' AND version > %s",
						   version, version));

	paxos_changed_schemas = true;
	return paxos_outcome_ok("schema_id", schema_id);
}

/* command->>key when it is a string, else NULL. */
static char *
paxos_json_string(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* A tenant the run of promotions being applied promoted. */
typedef struct PromotedTenant
{
	char	   *tenant_id;		/* hash key */
	char	   *schema_id;		/* where the run has it now */
	int			seq;			/* the command that last promoted it */
	bool		had_row;		/* in active_schemas before the run, ... */
	ItemPointerData tid;		/* ... as this row version */
} PromotedTenant;

static uint32
paxos_tenant_hash(const void *key, Size keysize)
{
	const char *s = *(char *const *) key;

	return hash_bytes((const unsigned char *) s, strlen(s));
}

static int
paxos_tenant_match(const void *a, const void *b, Size keysize)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The schema `pt`'s tenant is on before the run (NULL when none), from
 * active_schemas; remembers the row for the final update.
 */
static char *
paxos_active_schema(PaxosRows *r, PaxosTable *active, PromotedTenant *pt)
{
	bool		isnull;
	Datum		d;

	pt->had_row = paxos_rows_fetch(r, active, CStringGetTextDatum(pt->tenant_id));
	if (!pt->had_row)
		return NULL;
	pt->tid = active->found->tts_tid;
	d = paxos_rows_get(active, 2, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * Whether schema `sid` is registered.  A run names few schemas for many
 * commands, so the answers are kept for the run in `known`/`unknown`.
 */
static bool
paxos_schema_known(PaxosRows *r, PaxosTable *schemas, const char *sid,
				   List **known, List **unknown)
{
	ListCell   *lc;
	bool		found;

	if (sid == NULL)
		return false;
	foreach(lc, *known)
		if (strcmp(lfirst(lc), sid) == 0)
			return true;
	foreach(lc, *unknown)
		if (strcmp(lfirst(lc), sid) == 0)
			return false;
	found = paxos_rows_fetch(r, schemas, CStringGetTextDatum(sid));
	if (found)
		*known = lappend(*known, (char *) sid);
	else
		*unknown = lappend(*unknown, (char *) sid);
	return found;
}

/*
 * The length in bytes of the longest tenant id of a promotion's "tenants"
 * (0 when there are none).  Checked before any of the command's rows is
 * written: a command is applied whole or refused whole.
 */
static int
paxos_longest_tenant(JsonbValue *tenants)
{
	int			longest = 0;
	int			n;
	int			k;

	if (tenants == NULL || tenants->type != jbvBinary)
		return 0;
	n = JsonContainerSize(tenants->val.binary.data);
	for (k = 0; k < n; k++)
	{
		JsonbValue *t = getIthJsonbValueFromContainer(tenants->val.binary.data, k);

		if (t != NULL && t->type == jbvString)
			longest = Max(longest, t->val.string.len);
	}
	return longest;
}

/*
 * promote: {"op": "promote", "tenants": [...], "schema_id", "request_id",
 * "origin"}, all or nothing per command.  Applies commands first .. last
 * of the entry, all promotions, and appends their outcomes to `outcomes`.
 * Per command, in order: a request id applied before (in an earlier slot,
 * or earlier in this run) gets that outcome and changes nothing; an
 * unknown schema is refused; otherwise each tenant named gets a history
 * row with the schema it had before this command, and the active map ends
 * with each tenant's last promotion.  Returns whether a tenant moved.
 *
 * Rows are read and written directly (rows.c): one statement per run cost
 * more in executor start-up than all its writes.
 */
static bool
paxos_apply_promotions(const PaxosEntry *e, JsonbContainer *commands,
					   int first, int last, StringInfo outcomes)
{
	PaxosRows	r;
	PaxosTable *requests;
	PaxosTable *schemas;
	PaxosTable *active;
	PaxosTable *history;
	HASHCTL		ctl;
	HTAB	   *promoted;
	List	   *order = NIL;	/* PromotedTenant *, first promoted first */
	List	   *run_ids = NIL;	/* request ids applied by this run */
	List	   *known_ids = NIL;	/* schema ids found registered ... */
	List	   *unknown_ids = NIL;	/* ... and not */
	ListCell   *lc;
	int			i;

	paxos_rows_begin(&r);
	requests = paxos_rows_open(&r, "requests", true);
	schemas = paxos_rows_open(&r, "schemas", false);
	active = paxos_rows_open(&r, "active_schemas", true);
	history = paxos_rows_open(&r, "promotions", true);
	ctl.keysize = sizeof(char *);
	ctl.entrysize = sizeof(PromotedTenant);
	ctl.hash = paxos_tenant_hash;
	ctl.match = paxos_tenant_match;
	ctl.hcxt = CurrentMemoryContext;
	promoted = hash_create("schemaevo promoted tenants", 64, &ctl,
						   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);

	for (i = first; i <= last; i++)
	{
		JsonbContainer *cmd = getIthJsonbValueFromContainer(commands, i)->val.binary.data;
		char	   *rid = paxos_json_string(cmd, "request_id");
		char	   *sid = paxos_json_string(cmd, "schema_id");
		char	   *origin = paxos_json_string(cmd, "origin");
		JsonbValue *tenants = getKeyJsonValueFromContainer(cmd, "tenants", 7, NULL);
		Jsonb	   *outcome = NULL;
		bool		fresh = true;
		bool		known;
		int			toolong;
		bool		isnull;

		if (rid && paxos_rows_fetch(&r, requests, CStringGetTextDatum(rid)))
		{
			outcome = DatumGetJsonbPCopy(paxos_rows_get(requests, 3, &isnull));
			fresh = false;
		}
		else if (rid)
		{
			foreach(lc, run_ids)
				if (strcmp(lfirst(lc), rid) == 0)
					fresh = false;
		}
		known = paxos_schema_known(&r, schemas, sid, &known_ids, &unknown_ids);
		toolong = paxos_longest_tenant(tenants);
		if (outcome == NULL && toolong > PAXOS_MAX_TENANT_LEN)
			outcome = paxos_outcome_error(ERRCODE_PROGRAM_LIMIT_EXCEEDED,
										  psprintf("tenant id of %d bytes exceeds the limit of %d bytes",
												   toolong, PAXOS_MAX_TENANT_LEN),
										  NULL);
		else if (outcome == NULL)
			outcome = known
				? paxos_outcome_ok("schema_id", sid)
				: paxos_outcome_error(ERRCODE_UNDEFINED_OBJECT,
									  psprintf("schema \"%.*s\" does not exist",
											   paxos_shown_len(sid), sid ? sid : ""),
									  "Register it with schemaevo.register_schema() first.");
		if (toolong > PAXOS_MAX_TENANT_LEN)
			known = false;		/* refused, as an unknown schema is */

		if (fresh && known && tenants && tenants->type == jbvBinary)
		{
			int			n = JsonContainerSize(tenants->val.binary.data);
			int			k;

			for (k = 0; k < n; k++)
			{
				JsonbValue *t = getIthJsonbValueFromContainer(tenants->val.binary.data, k);
				char	   *tenant;
				PromotedTenant *pt;
				bool		seen;
				Datum		values[7];
				bool		nulls[7] = {false};

				if (t == NULL || t->type != jbvString)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("log slot " INT64_FORMAT " holds a promotion of a tenant that is not a string",
									e->slot)));
				tenant = pnstrdup(t->val.string.val, t->val.string.len);
				pt = hash_search(promoted, &tenant, HASH_ENTER, &seen);
				if (seen && pt->seq == i)
					continue;	/* named twice in one command */
				if (!seen)
				{
					pt->schema_id = paxos_active_schema(&r, active, pt);
					order = lappend(order, pt);
				}

				values[0] = Int64GetDatum(e->slot);
				values[1] = Int32GetDatum(i);
				values[2] = CStringGetTextDatum(tenant);
				nulls[3] = pt->schema_id == NULL;
				values[3] = nulls[3] ? (Datum) 0 : CStringGetTextDatum(pt->schema_id);
				values[4] = CStringGetTextDatum(sid);
				values[5] = TimestampTzGetDatum(e->chosen_at);
				values[6] = CStringGetTextDatum(origin ? origin : e->proposed_by);
				paxos_rows_insert(&r, history, values, nulls);
				pt->schema_id = sid;
				pt->seq = i;
			}
		}
		if (fresh && rid)
		{
			Datum		values[3];
			bool		nulls[3] = {false};

			values[0] = CStringGetTextDatum(rid);
			values[1] = Int64GetDatum(e->slot);
			values[2] = JsonbPGetDatum(outcome);
			paxos_rows_insert(&r, requests, values, nulls);
			run_ids = lappend(run_ids, rid);
		}
		if (i > first)
			appendStringInfoString(outcomes, ", ");
		appendStringInfoString(outcomes, JsonbToCString(NULL, &outcome->root, VARSIZE(outcome)));
	}

	foreach(lc, order)
	{
		PromotedTenant *pt = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false};

		values[0] = CStringGetTextDatum(pt->tenant_id);
		values[1] = CStringGetTextDatum(pt->schema_id);
		values[2] = TimestampTzGetDatum(e->chosen_at);
		values[3] = Int64GetDatum(e->slot);
		if (pt->had_row && paxos_rows_fetch_tid(&r, active, &pt->tid))
			paxos_rows_update(&r, active, values, nulls);
		else
			paxos_rows_insert(&r, active, values, nulls);
	}
	paxos_rows_end(&r);
	return order != NIL;
}

/* Whether command `i` of `commands` is a promotion. */
static bool
paxos_is_promotion(JsonbContainer *commands, int i)
{
	JsonbValue *cmd = getIthJsonbValueFromContainer(commands, i);
	JsonbValue *op;

	if (cmd == NULL || cmd->type != jbvBinary)
		return false;
	op = getKeyJsonValueFromContainer(cmd->val.binary.data, "op", 2, NULL);
	return op != NULL && op->type == jbvString &&
		op->val.string.len == 7 && memcmp(op->val.string.val, "promote", 7) == 0;
}

/* Applies one command of an entry; its outcome. */
static Jsonb *
paxos_apply_command(const PaxosEntry *e)
{
	static PaxosQuery earlier_outcome = ENTRY_QUERY("SELECT outcome FROM schemaevo.requests "
					   " WHERE request_id = $1->>'request_id'");
	char	   *op;

	/* a retried request gets the outcome of its first application */
	paxos_exec(e, &earlier_outcome);
	if (SPI_processed > 0)
		return paxos_jsonb_from_text(paxos_first_value());

	op = paxos_command_text(e, "op");
	if (strcmp(op, "register") == 0)
		return paxos_apply_register(e);
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
	PaxosRows	r;
	PaxosTable *log;
	Datum		values[PAXOS_LOG_NATTS];
	bool		nulls[PAXOS_LOG_NATTS];
	bool		isnull;
	bool		same;

	paxos_log_row(slot, JsonbPGetDatum(value), values, nulls);
	paxos_rows_begin(&r);
	log = paxos_rows_open(&r, "log", true);
	if (paxos_rows_insert_if_absent(&r, log, values, nulls))
	{
		paxos_rows_end(&r);
		return;
	}
	paxos_rows_end(&r);

	/*
	 * The row we conflicted with may have been committed by a concurrent
	 * transaction (a peer's learn racing the worker's catch-up) after the
	 * batch's snapshot was taken: the insertion waited for it, and a new
	 * batch's snapshot sees it.
	 */
	paxos_rows_begin(&r);
	log = paxos_rows_open(&r, "log", false);
	if (!paxos_rows_fetch_int8(&r, log, slot))
		elog(ERROR, "schemaevo: could not read log slot " INT64_FORMAT, slot);
	same = DatumGetBool(DirectFunctionCall2(jsonb_eq, paxos_rows_get(log, 2, &isnull),
											JsonbPGetDatum(value)));
	paxos_rows_end(&r);
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("two different values chosen for log slot " INT64_FORMAT, slot),
				 errdetail("The value learned now differs from the one in schemaevo.log."),
				 errhint("This is a safety violation of the replicated log; stop the node and report it.")));
}

/*
 * A new row of schemaevo.log for `value` chosen in `slot`: proposed_by and
 * chosen_at are its proposer and proposal time ('' and the epoch when it
 * does not say); outcome and digest stay null until it is applied.
 */
void
paxos_log_row(int64 slot, Datum value, Datum *values, bool *nulls)
{
	Jsonb	   *v = DatumGetJsonbP(value);
	char	   *by = paxos_json_string(&v->root, "proposed_by");
	char	   *at = paxos_json_string(&v->root, "proposed_at");

	values[0] = Int64GetDatum(slot);
	values[1] = value;
	values[2] = CStringGetTextDatum(by ? by : "");
	values[3] = DirectFunctionCall3(timestamptz_in, CStringGetDatum(at ? at : "epoch"),
									ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	memset(nulls, false, PAXOS_LOG_NATTS * sizeof(bool));
	nulls[4] = nulls[5] = true;
}

/*
 * Locks node_state (one applier at a time, strictly in order) and reads
 * the entry of `slot`, which must be the next one, into `e`; its value.
 */
static Jsonb *
paxos_read_entry(int64 slot, PaxosEntry *e)
{
	PaxosRows	r;
	PaxosTable *node;
	PaxosTable *log;
	int64		applied;
	bool		isnull;
	Jsonb	   *value;

	paxos_rows_begin(&r);
	node = paxos_rows_open(&r, "node_state", false);
	log = paxos_rows_open(&r, "log", false);
	if (!paxos_rows_fetch_single(&r, node) || !paxos_rows_lock(&r, node))
		elog(ERROR, "schemaevo: node_state is missing");
	applied = DatumGetInt64(paxos_rows_get(node, 2, &isnull));
	if (applied != slot - 1)
		elog(ERROR, "schemaevo apply: slot " INT64_FORMAT " out of order (applied slot " INT64_FORMAT ")",
			 slot, applied);
	if (!paxos_rows_fetch_int8(&r, log, slot))
		elog(ERROR, "schemaevo apply: slot " INT64_FORMAT " is not in the log", slot);
	value = DatumGetJsonbPCopy(paxos_rows_get(log, 2, &isnull));
	e->slot = slot;
	e->seq = 0;
	e->proposed_by = TextDatumGetCString(paxos_rows_get(log, 3, &isnull));
	e->chosen_at = DatumGetTimestampTz(paxos_rows_get(log, 4, &isnull));
	paxos_rows_end(&r);
	return value;
}

/* The commands of log value `value`: an array, or NULL when it has none. */
static Jsonb *
paxos_entry_commands(int64 slot, Jsonb *value)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&value->root, "commands", 8, NULL);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("log slot " INT64_FORMAT " holds commands that are not an array",
						slot)));
	return JsonbValueToJsonb(v);
}

/*
 * Records that `slot` is applied, with `outcomes`: the log row's outcome
 * and digest, node_state's applied slot and digest (the chain: md5 of the
 * previous digest, the slot and the value's text), and drops the
 * acceptances up to `slot`, no longer needed.  Returns the first log slot
 * after `slot`, 0 when there is none.
 */
static int64
paxos_record_applied(int64 slot, Jsonb *outcomes)
{
	PaxosRows	r;
	PaxosTable *node;
	PaxosTable *log;
	PaxosTable *slots;
	Datum		values[PAXOS_LOG_NATTS];
	bool		nulls[PAXOS_LOG_NATTS];
	bool		isnull;
	Jsonb	   *value;
	char	   *chain;
	char		digest[33];
	const char *errstr = NULL;
	int64		after = PG_INT64_MIN;
	int64		next = 0;

	paxos_rows_begin(&r);
	node = paxos_rows_open(&r, "node_state", true);
	log = paxos_rows_open(&r, "log", true);
	slots = paxos_rows_open(&r, "acceptor_slots", true);
	if (!paxos_rows_fetch_single(&r, node) || !paxos_rows_fetch_int8(&r, log, slot))
		elog(ERROR, "schemaevo apply: could not record slot " INT64_FORMAT, slot);
	slot_getallattrs(log->found);
	value = DatumGetJsonbP(log->found->tts_values[1]);
	chain = psprintf("%s:" INT64_FORMAT ":%s",
					 TextDatumGetCString(paxos_rows_get(node, 3, &isnull)), slot,
					 JsonbToCString(NULL, &value->root, VARSIZE(value)));
	if (!pg_md5_hash(chain, strlen(chain), digest, &errstr))
		elog(ERROR, "schemaevo apply: could not compute the log digest: %s", errstr);

	memcpy(values, log->found->tts_values, sizeof(values));
	memcpy(nulls, log->found->tts_isnull, sizeof(nulls));
	values[4] = JsonbPGetDatum(outcomes);
	values[5] = CStringGetTextDatum(digest);
	nulls[4] = nulls[5] = false;
	paxos_rows_update(&r, log, values, nulls);

	paxos_rows_update(&r, node, (Datum[]) {BoolGetDatum(true), Int64GetDatum(slot),
						  CStringGetTextDatum(digest)}, (bool[]) {false, false, false});

	/* our deletions stay visible to the batch: walk the keys, do not rescan */
	while (paxos_rows_fetch_after(&r, slots, after))
	{
		after = DatumGetInt64(paxos_rows_get(slots, 1, &isnull));
		if (after > slot)
			break;
		/* an acceptance taken again meanwhile is dropped by the next apply */
		(void) paxos_rows_delete_unless_changed(&r, slots);
	}

	if (paxos_rows_fetch_after(&r, log, slot))
		next = DatumGetInt64(paxos_rows_get(log, 1, &isnull));
	paxos_rows_end(&r);
	return next;
}

Jsonb *
paxos_apply(int64 slot, int64 *next_slot)
{
	PaxosEntry	e;
	Jsonb	   *value;
	int			ncommands;
	Jsonb	   *commands;
	int			i;
	StringInfoData outcomes;
	Jsonb	   *result;
	int64		next;

	value = paxos_read_entry(slot, &e);
	commands = paxos_entry_commands(slot, value);
	ncommands = commands ? JsonContainerSize(&commands->root) : 0;

	paxos_changed_schemas = false;
	paxos_changed_active = false;
	initStringInfo(&outcomes);
	appendStringInfoChar(&outcomes, '[');
	for (i = 0; i < ncommands;)
	{
		if (i > 0)
			appendStringInfoString(&outcomes, ", ");
		if (paxos_is_promotion(&commands->root, i))
		{
			/* a run of promotions, applied together */
			int			last = i;

			while (last + 1 < ncommands && paxos_is_promotion(&commands->root, last + 1))
				last++;
			paxos_changed_active |= paxos_apply_promotions(&e, &commands->root, i, last,
														   &outcomes);
			i = last + 1;
		}
		else
		{
			Jsonb	   *outcome;

			e.command = JsonbValueToJsonb(getIthJsonbValueFromContainer(&commands->root, i));
			e.seq = i;
			outcome = paxos_apply_command(&e);
			paxos_record_request(&e, outcome);
			appendStringInfoString(&outcomes,
								   JsonbToCString(NULL, &outcome->root, VARSIZE(outcome)));
			i++;
		}
	}
	appendStringInfoChar(&outcomes, ']');
	result = paxos_jsonb_from_text(outcomes.data);
	if (paxos_changed_schemas || paxos_changed_active)
		CacheInvalidateRelcacheByRelid(get_relname_relid("registry_changed",
														 get_namespace_oid("schemaevo", false)));

	next = paxos_record_applied(slot, result);
	if (next_slot)
		*next_slot = next;
	return result;
}
