/*-------------------------------------------------------------------------
 *
 * acceptor.c
 *	  The Paxos acceptor, and the other SQL functions peers call: prepare
 *	  (phase 1), accept (phase 2), learn, fetch (catch-up), status and
 *	  forward.
 *
 * Invariants:
 *	- One promise covers every slot (Multi-Paxos): acceptor_state.promised
 *	  only grows.  A prepare is granted for ballot > promised, an accept for
 *	  ballot >= promised; both raise promised to the ballot.
 *	- Every prepare and accept locks the acceptor_state row, so concurrent
 *	  callers (peers and this node's own worker) are serialised.
 *	- A reply leaves only after its transaction committed durably: the
 *	  functions force synchronous_commit = on for their transaction (a SET
 *	  clause would be undone before commit) and refuse when fsync is off.
 *	  Peers read results until PQgetResult returns NULL, which is after the
 *	  commit, and count no reply that carried an error.
 *	- Only a voting node acts as acceptor for leaders; a node that does not
 *	  vote yet grants only fences (a rejoining node's prepare and accept,
 *	  worker_catchup.c pw_try_recover), which are safe for any node to grant.
 *	- Learning (paxos_learn, and the start of every accept) moves into the
 *	  log only what this acceptor accepted in the ballot of the leader that
 *	  says it is chosen.
 *	- Every call carries the caller's membership digest; a mismatch is
 *	  refused (08P01).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "apply.h"
#include "query.h"
#include "rows.h"
#include "paxos.h"
#include "paxos_int.h"

PG_FUNCTION_INFO_V1(paxos_sql_prepare);
PG_FUNCTION_INFO_V1(paxos_sql_accept);
PG_FUNCTION_INFO_V1(paxos_sql_learn);
PG_FUNCTION_INFO_V1(paxos_sql_fetch);
PG_FUNCTION_INFO_V1(paxos_sql_status);
PG_FUNCTION_INFO_V1(paxos_sql_forward);

static Jsonb *
paxos_query_jsonb(PaxosQuery *q, Datum *values, bool read_only)
{
	bool		isnull;
	Datum		d;

	if (paxos_query_run(q, values, read_only, 1) < 0 || SPI_processed != 1)
		elog(ERROR, "schemaevo acceptor: query failed: %s", q->sql);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "schemaevo acceptor: query returned null: %s", q->sql);
	return DatumGetJsonbPCopy(d);
}

/*
 * Locks the acceptor's state for the rest of the transaction.  The lookups
 * and statements that follow take their snapshot after it, so they see
 * every acceptance committed before we got the lock.
 */
static void
paxos_lock_acceptor(void)
{
	PaxosRows	r;
	PaxosTable *state;

	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the Paxos acceptor must run at READ COMMITTED isolation")));
	paxos_rows_begin(&r);
	state = paxos_rows_open(&r, "acceptor_state", false);
	if (!paxos_rows_fetch_single(&r, state) || !paxos_rows_lock(&r, state))
		elog(ERROR, "schemaevo acceptor: acceptor_state is missing");
	paxos_rows_end(&r);
}

/* Phase 1: promise `ballot` for every slot; report values accepted from `from_slot` on. */
Jsonb *
paxos_acceptor_prepare(int64 ballot, int64 from_slot)
{
	static PaxosQuery q = {
		"WITH s AS (SELECT promised FROM schemaevo.acceptor_state), "
		"     u AS (UPDATE schemaevo.acceptor_state SET promised = $1 "
		"            WHERE promised < $1 RETURNING promised) "
		"SELECT jsonb_build_object("
		"  'ok', EXISTS (SELECT 1 FROM u), "
		"  'promised', greatest((SELECT promised FROM s), (SELECT promised FROM u)), "
		"  'accepted', (SELECT coalesce(jsonb_agg(jsonb_build_object("
		"                 'slot', slot, 'ballot', ballot, 'value', value) ORDER BY slot), '[]') "
		"                FROM schemaevo.acceptor_slots WHERE slot >= $2), "
		"  'chosen_max', (SELECT coalesce(max(slot), 0) FROM schemaevo.log), "
		"  'applied', (SELECT applied_slot FROM schemaevo.node_state))",
	2, {INT8OID, INT8OID}};

	paxos_lock_acceptor();
	return paxos_query_jsonb(&q, (Datum[]) {Int64GetDatum(ballot), Int64GetDatum(from_slot)},
							 false);
}

/*
 * Learning: the leader of `ballot` says it had every slot up to `through`
 * that it proposed chosen.  What this acceptor accepted in that ballot is
 * therefore chosen: one value per slot per ballot.  Only the slots that
 * follow the last one in the log without a gap are taken, up to the first
 * this acceptor did not accept in that ballot; the rest come by catch-up
 * or by the next leader's phase 1.  No entry of the log is read, compared
 * or waited for.  Returns how many entries joined the log.
 *
 * Why no gap: the log's last slot is what this node reports as chosen_max,
 * and proposers neither repair nor re-propose slots at or below a peer's
 * chosen_max, they fetch them.  A slot skipped here that only the
 * acceptors hold (the leader gone) would then be fetched from nobody, for
 * ever.
 */
int
paxos_acceptor_learn(int64 ballot, int64 through)
{
	PaxosRows	r;
	PaxosTable *slots;
	PaxosTable *log;
	int64		after = 0;
	int			learned = 0;
	bool		gap = false;
	bool		isnull;

	if (through <= 0)
		return 0;
	paxos_rows_begin(&r);
	slots = paxos_rows_open(&r, "acceptor_slots", false);
	log = paxos_rows_open(&r, "log", true);
	if (paxos_rows_fetch_last(&r, log))
		after = DatumGetInt64(paxos_rows_get(log, 1, &isnull));
	while (after < through && paxos_rows_fetch_after(&r, slots, after))
	{
		int64		slot = DatumGetInt64(paxos_rows_get(slots, 1, &isnull));
		Datum		values[PAXOS_LOG_NATTS];
		bool		nulls[PAXOS_LOG_NATTS];

		if (slot > through)
			break;
		if (slot != after + 1 ||
			DatumGetInt64(paxos_rows_get(slots, 2, &isnull)) != ballot)
		{
			gap = true;
			break;
		}
		after = slot;
		paxos_log_row(slot, paxos_rows_get(slots, 3, &isnull), values, nulls);
		/* a concurrent catch-up may be writing the same entry: it wins */
		if (paxos_rows_insert_if_absent(&r, log, values, nulls))
			learned++;
	}
	paxos_rows_end(&r);
	/* a gap: the worker's catch-up fetches it from a peer's log at once */
	if (learned > 0 || gap)
		paxos_wake_worker_at_commit(PAXOS_WAKE_LEARNED);
	return learned;
}

/*
 * Phase 2: accept `value` for `slot` under `ballot` unless promised higher
 * or the slot is chosen already; first learn what the same leader had
 * chosen up to `chosen_through`.  The rows are read and written directly
 * (rows.c): on every node, for every slot, through SQL this cost more in
 * executor start-up than its two writes.
 */
Jsonb *
paxos_acceptor_accept(int64 ballot, int64 slot, Jsonb *value, int64 chosen_through)
{
	PaxosRows	r;
	PaxosTable *state;
	PaxosTable *slots;
	PaxosTable *log;
	PaxosTable *node;
	int64		promised;
	int64		chosen_max = 0;
	int64		applied;
	bool		chosen;
	bool		ok;
	bool		isnull;
	char	   *reply;

	paxos_lock_acceptor();
	(void) paxos_acceptor_learn(ballot, Min(chosen_through, slot - 1));

	/* after the lock and the learn: sees every acceptance and entry before us */
	paxos_rows_begin(&r);
	state = paxos_rows_open(&r, "acceptor_state", true);
	slots = paxos_rows_open(&r, "acceptor_slots", true);
	log = paxos_rows_open(&r, "log", false);
	node = paxos_rows_open(&r, "node_state", false);
	if (!paxos_rows_fetch_single(&r, state) || !paxos_rows_fetch_single(&r, node))
		elog(ERROR, "schemaevo acceptor: acceptor_state or node_state is missing");
	promised = DatumGetInt64(paxos_rows_get(state, 2, &isnull));
	applied = DatumGetInt64(paxos_rows_get(node, 2, &isnull));
	chosen = paxos_rows_fetch_int8(&r, log, slot);
	ok = promised <= ballot && !chosen;
	if (ok && paxos_rows_fetch_int8(&r, slots, slot) && !paxos_rows_lock(&r, slots))
	{
		/*
		 * Accepted before, and dropped since our snapshot: only the apply
		 * step drops acceptances, of slots it applied, so this one is
		 * chosen.
		 */
		ok = false;
		chosen = true;
	}
	if (ok && promised < ballot)
		paxos_rows_update(&r, state, (Datum[]) {BoolGetDatum(true), Int64GetDatum(ballot)},
						  (bool[]) {false, false});
	if (ok)
	{
		Datum		values[3] = {Int64GetDatum(slot), Int64GetDatum(ballot), JsonbPGetDatum(value)};
		bool		nulls[3] = {false, false, false};

		/* a slot accepted before, in a lower ballot, takes the new value */
		if (!TTS_EMPTY(slots->found))
			paxos_rows_update(&r, slots, values, nulls);
		else
			paxos_rows_insert(&r, slots, values, nulls);
	}
	if (paxos_rows_fetch_last(&r, log))
		chosen_max = DatumGetInt64(paxos_rows_get(log, 1, &isnull));
	paxos_rows_end(&r);

	reply = psprintf("{\"ok\": %s, \"promised\": " INT64_FORMAT ", \"chosen\": %s, "
					 "\"chosen_max\": " INT64_FORMAT ", \"applied\": " INT64_FORMAT "}",
					 ok ? "true" : "false", ok ? ballot : promised, chosen ? "true" : "false",
					 chosen_max, applied);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(reply)));
}

/* What a peer needs to know of this node: progress, promise, digest. */
Jsonb *
paxos_acceptor_status(void)
{
	static PaxosQuery q = {
		"SELECT jsonb_build_object("
		"  'applied', n.applied_slot, 'digest', n.digest, "
		"  'chosen_max', (SELECT coalesce(max(slot), 0) FROM schemaevo.log), "
		"  'accepted_max', (SELECT coalesce(max(slot), 0) FROM schemaevo.acceptor_slots), "
		"  'promised', (SELECT promised FROM schemaevo.acceptor_state), "
		"  'voting', $1) "
		"  FROM schemaevo.node_state n",
	1, {BOOLOID}};

	return paxos_query_jsonb(&q, (Datum[]) {BoolGetDatum(paxos_shared != NULL && paxos_shared->voting)},
							 true);
}

/* Chosen entries from `from_slot` on, at most `max_entries`, in slot order. */
Jsonb *
paxos_fetch_entries(int64 from_slot, int max_entries)
{
	static PaxosQuery q = {
		"SELECT coalesce(jsonb_agg(jsonb_build_object('slot', slot, 'value', value) "
		"                          ORDER BY slot), '[]') "
		"  FROM (SELECT slot, value FROM schemaevo.log "
		"         WHERE slot >= $1 ORDER BY slot LIMIT $2) e",
	2, {INT8OID, INT4OID}};

	return paxos_query_jsonb(&q, (Datum[]) {Int64GetDatum(from_slot), Int32GetDatum(max_entries)},
							 true);
}

static int	paxos_peer_nest = -1;

/* What a peer call may do, for the checks every call starts with. */
typedef enum PeerCall
{
	PEER_READ,					/* status, fetch, learn, forward */
	PEER_ACCEPTOR,				/* prepare or accept of a leader */
	PEER_FENCE					/* prepare or accept of a node rejoining */
} PeerCall;

/* Checks common to every peer call; pins search_path, connects to SPI. */
static void
paxos_peer_call_begin(FunctionCallInfo fcinfo, PeerCall call)
{
	char	   *digest = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("a hot standby is not a member of the cluster")));
	if (call != PEER_READ)
		/* durable before the reply leaves: local to this transaction */
		(void) set_config_option("synchronous_commit", "on", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	paxos_peer_nest = paxos_pin_search_path();
	SPI_connect();
	paxos_check_digest(digest);
	if (call == PEER_READ)
		return;
	if (!enableFsync)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this node refuses to act as a Paxos acceptor with fsync off"),
				 errdetail("A promise or acceptance must survive a crash before it is reported.")));

	/*
	 * A node that does not vote yet may have lost its memory (a wiped data
	 * directory), so it takes part in no leader's ballot.  Raising its
	 * promise for a node that fences its way back in is safe all the same,
	 * and needed: a cluster whose every member ran init_cluster has no
	 * voter to start from.
	 */
	if (call == PEER_ACCEPTOR && (paxos_shared == NULL || !paxos_shared->voting))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this node does not vote yet"),
				 errdetail("It is catching up with the log, or its schemaevo worker is not running.")));

	/*
	 * The node's acceptor state is the one in its log worker's database.
	 * The extension in another database of the server (a member conninfo
	 * naming the wrong database, init_cluster run there too) would be a
	 * second acceptor of the same node, with promises the worker never
	 * sees: two quorums could then choose different values for a slot.
	 */
	if (paxos_shared == NULL || paxos_shared->dbid != MyDatabaseId)
	{
		char	   *mine = get_database_name(MyDatabaseId);

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this database is not the one the schemaevo log worker of this node runs in"),
				 errdetail("schemaevo.database is \"%s\"; this is \"%s\".",
						   paxos_database ? paxos_database : "", mine ? mine : "?"),
				 errhint("Name database \"%s\" in this node's conninfo in the cluster membership.",
						 paxos_database ? paxos_database : "")));
	}
}

static Datum
paxos_peer_call_end(Jsonb *reply)
{
	Jsonb	   *copy;

	copy = (Jsonb *) SPI_palloc(VARSIZE(reply));
	memcpy(copy, reply, VARSIZE(reply));
	SPI_finish();
	paxos_unpin_search_path(paxos_peer_nest);
	PG_RETURN_JSONB_P(copy);
}

/* SQL: paxos_prepare(digest text, ballot bigint, from_slot bigint, fence boolean) → jsonb */
Datum
paxos_sql_prepare(PG_FUNCTION_ARGS)
{
	paxos_peer_call_begin(fcinfo, PG_GETARG_BOOL(3) ? PEER_FENCE : PEER_ACCEPTOR);
	return paxos_peer_call_end(paxos_acceptor_prepare(PG_GETARG_INT64(1),
													  PG_GETARG_INT64(2)));
}

/*
 * SQL: paxos_accept(digest text, ballot bigint, slot bigint, value jsonb,
 *                   fence boolean, chosen_through bigint) → jsonb
 */
Datum
paxos_sql_accept(PG_FUNCTION_ARGS)
{
	paxos_peer_call_begin(fcinfo, PG_GETARG_BOOL(4) ? PEER_FENCE : PEER_ACCEPTOR);
	return paxos_peer_call_end(paxos_acceptor_accept(PG_GETARG_INT64(1),
													 PG_GETARG_INT64(2),
													 PG_GETARG_JSONB_P(3),
													 PG_GETARG_INT64(5)));
}

/* SQL: paxos_learn(digest text, ballot bigint, chosen_through bigint) → jsonb */
Datum
paxos_sql_learn(PG_FUNCTION_ARGS)
{
	int			learned;

	paxos_peer_call_begin(fcinfo, PEER_READ);

	/*
	 * No need to wait for the flush: a learned entry lost in a crash is
	 * fetched again by catch-up.
	 */
	(void) set_config_option("synchronous_commit", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	learned = paxos_acceptor_learn(PG_GETARG_INT64(1), PG_GETARG_INT64(2));
	return paxos_peer_call_end(DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																  CStringGetDatum(psprintf("{\"learned\": %d}", learned)))));
}

/* SQL: paxos_fetch(digest text, from_slot bigint, max_entries int) → jsonb */
Datum
paxos_sql_fetch(PG_FUNCTION_ARGS)
{
	paxos_peer_call_begin(fcinfo, PEER_READ);
	return paxos_peer_call_end(paxos_fetch_entries(PG_GETARG_INT64(1),
												   PG_GETARG_INT32(2)));
}

/* SQL: paxos_status(digest text) → jsonb */
Datum
paxos_sql_status(PG_FUNCTION_ARGS)
{
	paxos_peer_call_begin(fcinfo, PEER_READ);
	return paxos_peer_call_end(paxos_acceptor_status());
}

/*
 * SQL: paxos_forward(digest text, commands jsonb) → jsonb
 * A follower hands this node, which it believes leads, commands to propose.
 * They wait in schemaevo.forwarded until the worker takes them; the
 * follower learns their outcome from the log like any other entry, and
 * proposes them itself if they are not chosen in time (request ids make
 * that safe).
 */
Datum
paxos_sql_forward(PG_FUNCTION_ARGS)
{
	Oid			types[1] = {JSONBOID};
	Datum		values[1];

	paxos_peer_call_begin(fcinfo, PEER_READ);
	/* the follower resends what is lost: no need to wait for the flush */
	(void) set_config_option("synchronous_commit", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	values[0] = JsonbPGetDatum(PG_GETARG_JSONB_P(1));
	if (SPI_execute_with_args("INSERT INTO schemaevo.forwarded (request_id, command) "
							  "SELECT c->>'request_id', c FROM jsonb_array_elements($1) c "
							  " WHERE c->>'request_id' IS NOT NULL "
							  "ON CONFLICT (request_id) DO NOTHING",
							  1, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "schemaevo: could not queue forwarded commands");
	paxos_wake_worker_at_commit(PAXOS_WAKE_FORWARDED);
	return paxos_peer_call_end(paxos_acceptor_status());
}
