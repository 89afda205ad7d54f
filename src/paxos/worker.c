/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The schemaevo log worker: proposer, learner and catch-up of the
 *	  Multi-Paxos log, one per node, in the database schemaevo.database.
 *
 * Protocol (docs/protocol.md has the full description):
 *	- Phase 1 runs once for every slot from the first one this node has not
 *	  applied: prepare(ballot, from) to all members.  With promises from a
 *	  majority the node is leader for that ballot; every value a promise
 *	  reported (highest ballot per slot) is proposed again in phase 2 under
 *	  the new ballot, and slots in between get a no-op.  Nothing is ever
 *	  decided from phase-1 replies alone.
 *	- Phase 2, one round per slot: accept(ballot, slot, value) to all; the
 *	  value is chosen when a majority accepted it in this ballot.  The
 *	  leader's own acceptance commits while the peers work; once chosen,
 *	  the slot is recorded and applied and the waiting backends answered.
 *	  The others learn the slot from the next accept (chosen_through), or
 *	  from learn(ballot, through) when the leader has been idle 2 ms.
 *	- A value is a batch: every request queued while the previous slot was
 *	  in flight goes into the next slot, and for up to batch_wait the
 *	  requests of the callers that slot answered (pw_batch_wait_ms).
 *	- Ballots are (round << 8 | node index); a new round is always above
 *	  every promise seen and the durable local promise, so a restart never
 *	  reuses a ballot.  A refused ballot, or a competing leader, makes the
 *	  node step down and retry after a randomized backoff.
 *	- Catch-up: every catchup_interval the worker asks every peer for its
 *	  status, fetches chosen entries it lacks, publishes cluster_status and
 *	  compares log digests at equal slots.
 *	- A node does not vote until it has caught up: after a restart of the
 *	  data directory that voted, with statuses from a majority; otherwise
 *	  (init_cluster, a wiped or restored data directory, a promoted
 *	  standby) only after fencing every other member (pw_try_recover).
 *
 * Every database access runs in a transaction of its own, so a promise or
 * acceptance is durable (synchronous_commit = on) before the worker acts on
 * it; only recording and applying chosen entries skips the flush (a
 * majority holds them already).  An error ends the worker; the postmaster
 * restarts it and requests it had taken are queued again (their request
 * ids make that safe).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/datetime.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "apply.h"
#include "paxos.h"
#include "paxos_int.h"
#include "query.h"
#include "rows.h"

PGDLLEXPORT void paxos_worker_main(Datum arg);

extern char *sevo_node_name;

typedef struct PendingRequest
{
	int			qslot;			/* index in paxos_shared->requests; -1 for
								 * a command another node forwarded */
	char	   *command;		/* jsonb text */
	char	   *request_id;		/* the command's request_id */
	int			caller;			/* the backend's pgprocno, or -1 */
	bool		done;
	TimestampTz forwarded_at;	/* when we handed it to the leader, or 0 */
} PendingRequest;

typedef enum Phase2Result
{
	P2_CHOSEN,
	P2_FAILED,
	P2_BEHIND					/* the slot is already chosen elsewhere */
} Phase2Result;

static PaxosMembership pw_m;
static PaxosPeer pw_peers[PAXOS_MAX_MEMBERS];
static int	pw_npeers = 0;
static int	pw_majority = 1;
static uint32 pw_member_gen = 0;
static bool pw_loaded = false;

static int64 pw_ballot = 0;		/* ours, valid while pw_leader */
static bool pw_leader = false;
static int64 pw_next_slot = 0;
static int64 pw_max_promise = 0;	/* highest ballot seen anywhere */
static int	pw_failures = 0;
static TimestampTz pw_backoff_until = 0;
static TimestampTz pw_next_status = 0;
static TimestampTz pw_last_progress = 0;
static int64 pw_applied = 0;
static int64 pw_peer_chosen_max = 0;	/* highest chosen slot a peer has */

static MemoryContext pw_cxt;	/* pending requests */
static MemoryContext pw_outer_cxt;	/* the caller's, around a transaction */
static List *pw_pending = NIL;
static bool pw_recheck = false;	/* entries applied that pw_answer did not see */
static int64 pw_learn_owed = 0;	/* chosen by us up to here in ... */
static int64 pw_learn_ballot = 0;	/* ... this ballot, not yet told */
static TimestampTz pw_learn_due = 0;	/* when to tell them, if no accept has */
static int	pw_batch_target = 0;	/* requests known when our last slot was */
static TimestampTz pw_chosen_at = 0;	/* ... chosen, and when that was */

/* how long the idle leader waits for a busy peer to take its learn */
#define PW_LEARN_WAIT_MS 50

/*
 * How long a chosen slot waits for the next accept to carry its learn
 * before a paxos_learn of its own goes out.  A client promoting in a loop
 * sends its next command well within this, so followers learn at no cost;
 * an idle leader's followers learn this much later.  A slot that holds a
 * command another node forwarded is learned at once: that node's client is
 * waiting for it.
 */
#define PW_LEARN_DELAY_MS 2

static bool pw_phase1(bool fence);
static void pw_backoff(void);

/* ---- transactions ---- */

/*
 * The extension whose tables this worker uses, and its node_state table:
 * a relcache invalidation of that table (or of every relation) is the
 * sign that the extension may have been dropped.
 */
static Oid	pw_extension_oid = InvalidOid;
static Oid	pw_watched_relid = InvalidOid;
static bool pw_extension_check = false;

static void
pw_relcache_changed(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == pw_watched_relid)
		pw_extension_check = true;
}

/*
 * Holds the extension for the current transaction.  DROP EXTENSION locks
 * the extension before its objects, so it waits for us instead of dropping
 * the tables under a statement of ours; a drop that committed before shows
 * in the invalidations the lock acquisition reads.  Then the log worker
 * restarts, to wait for the extension to be created again: its state (the
 * membership, the applied slot, the requests it took) belonged to the
 * dropped tables.
 */
static void
pw_hold_extension(void)
{
	LockDatabaseObject(ExtensionRelationId, pw_extension_oid, 0, AccessShareLock);
	if (!pw_extension_check)
		return;
	pw_extension_check = false;
	if (get_extension_name(pw_extension_oid) != NULL)
		return;
	ereport(LOG,
			(errmsg("schemaevo: extension \"schemaevo\" was dropped, the log worker restarts"),
			 errdetail("It waits for the extension to be created again in database \"%s\".",
					   get_database_name(MyDatabaseId))));
	proc_exit(1);
}

/*
 * A transaction of its own, connected to SPI.  pw_commit() returns to the
 * memory context that was current at pw_begin(); copy results out with
 * pw_copy() or pw_strdup() before committing.
 */
static void
pw_begin(void)
{
	pw_outer_cxt = CurrentMemoryContext;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (OidIsValid(pw_extension_oid))
		pw_hold_extension();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
pw_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(pw_outer_cxt);
}

/* Copies a jsonb out of the transaction, for use after pw_commit(). */
static Jsonb *
pw_copy(Jsonb *j)
{
	Jsonb	   *c = MemoryContextAlloc(pw_outer_cxt, VARSIZE(j));

	memcpy(c, j, VARSIZE(j));
	return c;
}

static Jsonb *
pw_parse(const char *text)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

static char *
pw_text(Jsonb *j)
{
	return JsonbToCString(NULL, &j->root, VARSIZE(j));
}

/* Member `key` of an object; NULL when absent or `j` is not an object. */
static JsonbValue *
pw_get(Jsonb *j, const char *key)
{
	if (!JB_ROOT_IS_OBJECT(j))
		return NULL;
	return getKeyJsonValueFromContainer(&j->root, key, strlen(key), NULL);
}

/*
 * The log value in member "value" of an entry a peer sent (paxos_fetch,
 * a promise's acceptances).  A peer that sends none is not ignored: in a
 * promise, that value could be the chosen one.
 */
static Jsonb *
pw_get_log_value(Jsonb *entry)
{
	JsonbValue *v = pw_get(entry, "value");

	if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("schemaevo: a peer sent a log entry without a value"),
				 errdetail("The entry was: %s.", pw_text(entry))));
	return JsonbValueToJsonb(v);
}

static int64
pw_get_int(Jsonb *j, const char *key)
{
	JsonbValue *v = pw_get(j, key);

	if (v == NULL || v->type != jbvNumeric)
		return 0;
	return DatumGetInt64(DirectFunctionCall1(numeric_int8,
											 NumericGetDatum(v->val.numeric)));
}

static bool
pw_get_bool(Jsonb *j, const char *key)
{
	JsonbValue *v = pw_get(j, key);

	return v != NULL && v->type == jbvBool && v->val.boolean;
}

static char *
pw_get_string(Jsonb *j, const char *key)
{
	JsonbValue *v = pw_get(j, key);

	if (v == NULL || v->type != jbvString)
		return "";
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static void
pw_saw_promise(int64 promised)
{
	if (promised > pw_max_promise)
		pw_max_promise = promised;
}

/*
 * The request id of a command (jsonb text), copied into the current
 * context; the parse itself is left to the transaction the caller is in.
 */
static char *
pw_request_id(const char *command)
{
	MemoryContext keep = MemoryContextSwitchTo(TopTransactionContext);
	char	   *id = pw_get_string(pw_parse(command), "request_id");

	MemoryContextSwitchTo(keep);
	return pstrdup(id);
}

/* ---- membership and shared status ---- */

static void
pw_publish_members(void)
{
	int			i;

	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	paxos_shared->nmembers = pw_m.nmembers;
	for (i = 0; i < pw_m.nmembers; i++)
	{
		PaxosNodeStatus *st = &paxos_shared->nodes[i];
		char	   *display = paxos_strip_password(pw_m.members[i].conninfo);

		memset(st, 0, sizeof(*st));
		strlcpy(st->name, pw_m.members[i].name, NAMEDATALEN);
		strlcpy(st->conninfo, display, PAXOS_CONNINFO_LEN);
		st->is_self = pw_m.members[i].is_self;
		st->reachable = st->is_self;
	}
	strlcpy(paxos_shared->self_name, pw_m.self_name, NAMEDATALEN);
	LWLockRelease(paxos_shared->lock);
}

/*
 * Whether init_cluster() changed the membership: its wake-up can arrive
 * before its transaction commits, so the digest is also compared now and
 * then.
 */
static bool
pw_membership_changed(bool check_digest)
{
	uint32		gen;
	bool		changed;

	LWLockAcquire(paxos_shared->lock, LW_SHARED);
	gen = paxos_shared->membership_generation;
	LWLockRelease(paxos_shared->lock);
	if (!pw_loaded || gen != pw_member_gen)
		return true;
	if (!check_digest)
		return false;
	pw_begin();
	if (SPI_execute("SELECT digest FROM schemaevo.cluster_self", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not read cluster_self");
	changed = SPI_processed == 1
		? strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), pw_m.digest) != 0
		: pw_m.initialised;
	pw_commit();
	return changed;
}

static void
pw_load_membership(bool check_digest)
{
	int			i;
	uint32		gen;

	if (!pw_membership_changed(check_digest))
		return;
	LWLockAcquire(paxos_shared->lock, LW_SHARED);
	gen = paxos_shared->membership_generation;
	LWLockRelease(paxos_shared->lock);

	for (i = 0; i < pw_npeers; i++)
		paxos_disconnect(&pw_peers[i]);
	pw_begin();
	paxos_membership_load(&pw_m, sevo_node_name ? sevo_node_name : "local");
	pw_commit();

	pw_npeers = 0;
	memset(pw_peers, 0, sizeof(pw_peers));
	for (i = 0; i < pw_m.nmembers; i++)
		if (!pw_m.members[i].is_self)
			pw_peers[pw_npeers++].member = &pw_m.members[i];
	pw_majority = pw_m.nmembers / 2 + 1;
	pw_leader = false;
	pw_member_gen = gen;
	pw_loaded = true;

	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	paxos_shared->voting = false;
	LWLockRelease(paxos_shared->lock);
	pw_publish_members();
	elog(LOG, "schemaevo: log worker is node \"%s\" of %d", pw_m.self_name,
		 pw_m.nmembers);
}

static int
pw_node_slot(const char *name)
{
	int			i;

	for (i = 0; i < pw_m.nmembers; i++)
		if (strcmp(pw_m.members[i].name, name) == 0)
			return i;
	return -1;
}

/* ---- applying and answering ---- */

/* Publishes that this node has applied up to `applied`. */
static void
pw_note_applied(int64 applied)
{
	if (applied == pw_applied)
		return;
	pw_applied = applied;
	pw_last_progress = GetCurrentTimestamp();
	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	paxos_shared->applied_slot = applied;
	LWLockRelease(paxos_shared->lock);
}

/*
 * The current transaction records or applies chosen entries, which a
 * majority holds already: losing its commit in a crash loses nothing (the
 * log row, the registry change and the applied slot go back together, and
 * the entry is found and applied again), so it need not wait for the flush.
 */
static void
pw_skip_flush(void)
{
	(void) set_config_option("synchronous_commit", "off", PGC_SUSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
}

/* slots fetched from a peer at most per call (paxos_fetch) */
#define PW_FETCH_MAX 500

/*
 * The number of slots missing from our log after `applied`: up to `next`,
 * the next entry we have, or PW_FETCH_MAX (one fetch) when we have none
 * (next = 0).  An entry we hold but cannot apply yet is behind such a gap:
 * a peer that is slow to answer misses an accept when the leader's next
 * round starts first.
 */
static int
pw_gap(int64 applied, int64 next)
{
	return next == 0 ? PW_FETCH_MAX : (int) Min(next - applied - 1, PW_FETCH_MAX);
}

/*
 * The applied slot and the first log slot after it (0: none), in the
 * current transaction.
 */
static void
pw_read_progress(int64 *applied, int64 *next)
{
	PaxosRows	r;
	PaxosTable *node;
	PaxosTable *log;
	bool		isnull;

	paxos_rows_begin(&r);
	node = paxos_rows_open(&r, "node_state", false);
	log = paxos_rows_open(&r, "log", false);
	if (!paxos_rows_fetch_single(&r, node))
		elog(ERROR, "schemaevo: node_state is missing");
	*applied = DatumGetInt64(paxos_rows_get(node, 2, &isnull));
	*next = 0;
	if (paxos_rows_fetch_after(&r, log, *applied))
		*next = DatumGetInt64(paxos_rows_get(log, 1, &isnull));
	paxos_rows_end(&r);
}

/*
 * Applies every chosen entry that follows the applied slot, one transaction
 * each; each transaction also looks for the next entry, so applying one
 * slot takes one transaction.  Returns the gap after the applied slot
 * (pw_gap).
 */
static int
pw_apply_pending(void)
{
	int64		applied;
	int64		next;

	pw_begin();
	pw_skip_flush();
	pw_read_progress(&applied, &next);
	while (next == applied + 1)
	{
		applied = next;
		(void) paxos_apply(applied, &next);
		pw_recheck = true;
		pw_commit();
		pw_note_applied(applied);
		if (next != applied + 1)
			return pw_gap(applied, next);
		/* a long catch-up runs no statement that would check */
		CHECK_FOR_INTERRUPTS();
		pw_begin();
		pw_skip_flush();
	}
	pw_commit();
	pw_note_applied(applied);
	return pw_gap(applied, next);
}

/* Appends a pending request for queue slot `qslot` (-1: forwarded to us). */
static void
pw_add_pending(int qslot, const char *command, const char *request_id)
{
	MemoryContext old = MemoryContextSwitchTo(pw_cxt);
	PendingRequest *p = palloc(sizeof(PendingRequest));

	p->qslot = qslot;
	p->command = pstrdup(command);
	p->request_id = pstrdup(request_id);
	p->caller = qslot >= 0 ? paxos_shared->requests[qslot].procno : -1;
	p->done = false;
	p->forwarded_at = 0;
	pw_pending = lappend(pw_pending, p);
	MemoryContextSwitchTo(old);
}

/*
 * Moves queued requests of our database into the pending list: a short
 * command is copied from the queue slot, a long one out of its backend's
 * DSM segment.
 */
static void
pw_take_requests(void)
{
	int			i;
	int			taken[PAXOS_QUEUE_SIZE];
	dsm_handle	handles[PAXOS_QUEUE_SIZE];
	char		ids[PAXOS_QUEUE_SIZE][PAXOS_REQUEST_ID_LEN];
	int			ntaken = 0;

	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < PAXOS_QUEUE_SIZE; i++)
	{
		PaxosRequest *r = &paxos_shared->requests[i];

		if (r->state != PRQ_QUEUED || r->dbid != MyDatabaseId)
			continue;
		r->state = PRQ_TAKEN;
		if (r->command == DSM_HANDLE_INVALID)
			pw_add_pending(i, r->inline_command, r->request_id);
		else
		{
			taken[ntaken] = i;
			handles[ntaken] = r->command;
			strlcpy(ids[ntaken++], r->request_id, PAXOS_REQUEST_ID_LEN);
		}
	}
	LWLockRelease(paxos_shared->lock);
	if (ntaken == 0)
		return;

	/* attaching needs a resource owner: do it in a transaction */
	pw_begin();
	for (i = 0; i < ntaken; i++)
	{
		dsm_segment *seg = dsm_attach(handles[i]);

		if (seg == NULL)
		{
			/* the backend gave up and detached before we got here */
			LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
			paxos_shared->requests[taken[i]].state = PRQ_FREE;
			LWLockRelease(paxos_shared->lock);
			continue;
		}
		pw_add_pending(taken[i], dsm_segment_address(seg), ids[i]);
		dsm_detach(seg);
	}
	pw_commit();
}

/* Answers pending request `p` with its outcome (jsonb text) and slot. */
static void
pw_finish(PendingRequest *p, const char *outcome, int64 slot)
{
	PaxosRequest *r;

	p->done = true;
	if (p->qslot < 0)
		return;					/* forwarded: its backend waits on another node */
	r = &paxos_shared->requests[p->qslot];
	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	if (r->state == PRQ_TAKEN)
	{
		/* cut, the outcome would not parse: say so instead */
		if (strlcpy(r->outcome, outcome, PAXOS_MAX_OUTCOME) >= PAXOS_MAX_OUTCOME)
			strlcpy(r->outcome,
					"{\"ok\": false, \"sqlstate\": \"54000\", "
					"\"message\": \"the outcome of the request is too long to return\"}",
					PAXOS_MAX_OUTCOME);
		r->slot = slot;
		r->state = PRQ_DONE;
	}
	else if (r->state == PRQ_ABANDONED)
		r->state = PRQ_FREE;
	LWLockRelease(paxos_shared->lock);
	ConditionVariableBroadcast(&r->cv);
}

/* Drops answered requests from the pending list. */
static void
pw_forget_done(void)
{
	ListCell   *lc;

	foreach(lc, pw_pending)
	{
		PendingRequest *p = lfirst(lc);

		if (p->done)
		{
			pw_pending = foreach_delete_current(pw_pending, lc);
			pfree(p->command);
			pfree(p->request_id);
			pfree(p);
		}
	}
}

/*
 * Answers the pending requests among the commands of `value`, which we just
 * applied as `slot` with `outcomes` (one per command, in order): no need
 * to read them back from schemaevo.requests.
 */
static void
pw_answer(Jsonb *value, Jsonb *outcomes, int64 slot)
{
	JsonbValue *commands = pw_get(value, "commands");
	int			n;
	int			i;

	if (commands == NULL || commands->type != jbvBinary)
		return;
	n = JsonContainerSize(commands->val.binary.data);
	for (i = 0; i < n; i++)
	{
		Jsonb	   *cmd = JsonbValueToJsonb(getIthJsonbValueFromContainer(commands->val.binary.data, i));
		JsonbValue *outcome = getIthJsonbValueFromContainer(&outcomes->root, i);
		char	   *id = pw_get_string(cmd, "request_id");
		ListCell   *lc;

		if (outcome == NULL)
			continue;
		foreach(lc, pw_pending)
		{
			PendingRequest *p = lfirst(lc);

			if (!p->done && strcmp(p->request_id, id) == 0)
			{
				Jsonb	   *o = JsonbValueToJsonb(outcome);

				pw_finish(p, JsonbToCString(NULL, &o->root, VARSIZE(o)), slot);
			}
		}
	}
	pw_forget_done();
}

/*
 * Answers pending requests whose request id has been applied, reading
 * schemaevo.requests: after entries were applied that we did not choose
 * ourselves (learned, fetched), and for requests just taken (a retry after
 * a worker restart may already be applied).
 */
static void
pw_complete_requests(void)
{
	static PaxosQuery applied = {
		"SELECT request_id, outcome::text, slot FROM schemaevo.requests "
		" WHERE request_id = ANY ($1)",
	1, {TEXTARRAYOID}};
	ListCell   *lc;
	Datum	   *ids;
	int			n = 0;
	uint64		i;

	if (pw_pending == NIL || !pw_recheck)
		return;
	pw_recheck = false;
	ids = palloc(sizeof(Datum) * list_length(pw_pending));
	foreach(lc, pw_pending)
		ids[n++] = CStringGetTextDatum(((PendingRequest *) lfirst(lc))->request_id);

	/* one query for the whole queue: it runs after every chosen slot */
	pw_begin();
	if (paxos_query_run(&applied,
						(Datum[]) {PointerGetDatum(construct_array(ids, n, TEXTOID, -1, false, TYPALIGN_INT))},
						true, 0) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not read requests");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *id = SPI_getvalue(tup, desc, 1);

		foreach(lc, pw_pending)
		{
			PendingRequest *p = lfirst(lc);

			if (!p->done && strcmp(p->request_id, id) == 0)
				pw_finish(p, SPI_getvalue(tup, desc, 2),
						  strtoll(SPI_getvalue(tup, desc, 3), NULL, 10));
		}
	}
	pw_commit();
	pw_forget_done();
}

/* Drops pending requests whose backend gave up before we proposed them. */
static void
pw_drop_abandoned(void)
{
	ListCell   *lc;

	foreach(lc, pw_pending)
	{
		PendingRequest *p = lfirst(lc);
		PaxosRequest *r;
		bool		gone;

		if (p->qslot < 0)
			continue;
		r = &paxos_shared->requests[p->qslot];
		LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
		gone = r->state == PRQ_ABANDONED;
		if (gone)
			r->state = PRQ_FREE;
		LWLockRelease(paxos_shared->lock);
		if (gone)
		{
			pw_pending = foreach_delete_current(pw_pending, lc);
			pfree(p->command);
			pfree(p->request_id);
			pfree(p);
		}
	}
}

/* ---- catch-up ---- */

/* The gap after the applied slot, in a transaction of its own. */
static int
pw_missing(void)
{
	int64		applied;
	int64		next;

	pw_begin();
	pw_read_progress(&applied, &next);
	pw_commit();
	return pw_gap(applied, next);
}

/* Fetches the chosen entries we lack after our applied slot from `peer`, and applies them. */
static void
pw_fetch_from(PaxosPeer *peer)
{
	char		from[32];
	char		count[16];
	const char *params[3];
	Jsonb	   *entries;
	int			missing = pw_missing();
	int			n;
	int			i;

	if (missing <= 0)
	{
		pw_apply_pending();
		return;
	}
	snprintf(from, sizeof(from), INT64_FORMAT, pw_applied + 1);
	snprintf(count, sizeof(count), "%d", missing);
	params[0] = pw_m.digest;
	params[1] = from;
	params[2] = count;
	paxos_round_begin(peer, 1,
					  "SELECT schemaevo.paxos_fetch($1, $2::bigint, $3::int)",
					  3, params);
	if (paxos_round_wait(peer, 1, 1, paxos_peer_timeout) != 1 || peer->reply == NULL)
		return;
	entries = pw_parse(peer->reply);
	n = JB_ROOT_IS_ARRAY(entries) ? JB_ROOT_COUNT(entries) : 0;
	if (n == 0)
		return;
	pw_begin();
	for (i = 0; i < n; i++)
	{
		Jsonb	   *ej = JsonbValueToJsonb(getIthJsonbValueFromContainer(&entries->root, i));

		paxos_log_insert(pw_get_int(ej, "slot"), pw_get_log_value(ej));
	}
	pw_commit();
	pw_apply_pending();
}

/* Fetches from peers until our log reaches `target` or no peer helps. */
static void
pw_catch_up(int64 target)
{
	int			i;

	for (i = 0; i < pw_npeers && pw_applied < target; i++)
	{
		int64		before;

		do
		{
			before = pw_applied;
			pw_fetch_from(&pw_peers[i]);
		} while (pw_applied > before && pw_applied < target);
	}
}

/*
 * Asks every peer for its status: publishes it for cluster_status, catches
 * up when a peer is ahead, compares log digests.  Returns the number of
 * peers that answered, and the highest chosen slot, accepted slot and
 * promise they reported.
 */
static int
pw_status_round(int64 *chosen_max, int64 *accepted_max, int64 *promised_max)
{
	static int64 prev_chosen_max = 0;
	int64		target;
	const char *params[1] = {pw_m.digest};
	char	   *my_digest;
	int			answered = 0;
	int			i;

	*chosen_max = pw_applied;
	*accepted_max = 0;
	*promised_max = 0;
	if (pw_npeers == 0)
		return 0;

	paxos_round_begin(pw_peers, pw_npeers, "SELECT schemaevo.paxos_status($1)",
					  1, params);
	(void) paxos_round_wait(pw_peers, pw_npeers, pw_npeers, paxos_peer_timeout);

	pw_begin();
	if (SPI_execute("SELECT digest, applied_slot FROM schemaevo.node_state", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "schemaevo: could not read node_state");
	my_digest = MemoryContextStrdup(pw_outer_cxt, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	pw_commit();

	for (i = 0; i < pw_npeers; i++)
	{
		PaxosPeer  *p = &pw_peers[i];
		int			ns = pw_node_slot(p->member->name);
		PaxosNodeStatus *st = &paxos_shared->nodes[ns];
		bool		ok = p->ok && p->reply != NULL;
		Jsonb	   *s = ok ? pw_parse(p->reply) : NULL;
		bool		diverged = false;

		if (ok)
		{
			answered++;
			*chosen_max = Max(*chosen_max, pw_get_int(s, "chosen_max"));
			*accepted_max = Max(*accepted_max, pw_get_int(s, "accepted_max"));
			*promised_max = Max(*promised_max, pw_get_int(s, "promised"));
			pw_saw_promise(pw_get_int(s, "promised"));
			diverged = pw_get_int(s, "applied") == pw_applied &&
				strcmp(pw_get_string(s, "digest"), my_digest) != 0;
			if (diverged && !st->diverged)
				ereport(WARNING,
						(errmsg("schemaevo: node \"%s\" applied a different log up to slot " INT64_FORMAT,
								p->member->name, pw_applied),
						 errdetail("Log digests differ: %s here, %s there.",
								   my_digest, pw_get_string(s, "digest"))));
		}
		else if (p->error && strstr(p->error, "08P01") != NULL)
			ereport(WARNING,
					(errmsg("schemaevo: node \"%s\" refuses our membership digest",
							p->member->name),
					 errhint("Run schemaevo.init_cluster() with the same members on every node.")));

		LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
		st->reachable = ok;
		if (ok)
		{
			st->applied_slot = pw_get_int(s, "applied");
			st->promised = pw_get_int(s, "promised");
			st->voting = pw_get_bool(s, "voting");
			st->diverged = diverged;
			st->last_contact = GetCurrentTimestamp();
		}
		LWLockRelease(paxos_shared->lock);
	}
	pw_peer_chosen_max = *chosen_max;

	/*
	 * A voter fetches only what should have reached it by now: the slots a
	 * peer had chosen at the previous round.  The leader tells the others
	 * about a slot with its next accept, so a follower is usually a slot or
	 * two behind; fetching those would only copy and insert entries that
	 * are on their way.  A node that does not vote learns nothing that way
	 * (it accepts nothing) and must catch up with everything.
	 */
	pw_apply_pending();
	target = paxos_shared->voting ? Min(*chosen_max, prev_chosen_max) : *chosen_max;
	if (target > pw_applied)
		pw_catch_up(target);
	prev_chosen_max = *chosen_max;
	return answered;
}

/* Publishes this node's own row of cluster_status. */
static void
pw_publish_self(void)
{
	PaxosNodeStatus *st = &paxos_shared->nodes[pw_m.self];

	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	st->reachable = true;
	st->applied_slot = pw_applied;
	st->voting = paxos_shared->voting;
	st->promised = pw_max_promise;
	st->last_contact = GetCurrentTimestamp();
	paxos_shared->chosen_max = Max(pw_applied, pw_peer_chosen_max);
	paxos_shared->ballot = pw_leader ? pw_ballot : 0;
	paxos_shared->leader_ballot = pw_max_promise;
	LWLockRelease(paxos_shared->lock);
}

/*
 * Whether this data directory is the one that cast the node's votes: a
 * restored backup or snapshot taken before a crash on another timeline, or
 * a promoted standby, carries the voting flag but not the promises made
 * since, and must rejoin like a new member.
 */
static bool
pw_same_incarnation(const char *sysid, const char *tli)
{
	char		mine[32];

	if (sysid == NULL || tli == NULL)
		return false;
	snprintf(mine, sizeof(mine), UINT64_FORMAT, GetSystemIdentifier());
	return strcmp(sysid, mine) == 0 &&
		strtoul(tli, NULL, 10) == GetWALInsertionTimeLine();
}

/*
 * Becomes a voter once caught up.
 *
 * After a restart (durable voting flag, same data directory): once
 * statuses from a majority show nothing chosen that we lack.
 *
 * Otherwise (new member, wiped or restored data directory) the node may
 * have forgotten promises and acceptances, so it first fences every ballot
 * it could have voted in: phase 1 with a ballot above every promise seen,
 * granted by every other member, then phase 2 of every value those grants
 * reported, counting only the other members' acceptances.  No ballot below
 * ours can then gain an acceptance anywhere, every slot in flight is
 * chosen, and our own acceptor starts from our ballot.  (A status check
 * alone is not enough: an acceptance committing just after its node
 * answered would be missed.)
 */
static void
pw_try_recover(void)
{
	static bool warned_fsync = false;
	bool		was_voter = false;
	int64		chosen_max;
	int64		accepted_max;
	int64		promised_max;
	int			answered;

	if (GetCurrentTimestamp() < pw_backoff_until)
		return;
	if (pw_npeers > 0)
	{
		bool		voted;

		if (!enableFsync)
		{
			if (!warned_fsync)
				ereport(WARNING,
						(errmsg("schemaevo: node \"%s\" does not vote with fsync off",
								pw_m.self_name),
						 errdetail("A promise or acceptance must survive a crash before it is counted."),
						 errhint("Set fsync = on.")));
			warned_fsync = true;
			return;
		}
		warned_fsync = false;

		pw_begin();
		if (SPI_execute("SELECT c.voting, c.system_identifier, c.timeline, a.promised "
						"  FROM schemaevo.cluster_self c, schemaevo.acceptor_state a",
						true, 1) != SPI_OK_SELECT)
			elog(ERROR, "schemaevo: could not read cluster_self");
		if (SPI_processed == 1)
		{
			HeapTuple	t = SPI_tuptable->vals[0];
			TupleDesc	d = SPI_tuptable->tupdesc;

			voted = strcmp(SPI_getvalue(t, d, 1), "t") == 0;
			was_voter = voted && pw_same_incarnation(SPI_getvalue(t, d, 2),
													 SPI_getvalue(t, d, 3));
			if (voted && !was_voter)
				ereport(LOG,
						(errmsg("schemaevo: node \"%s\" rejoins as a new member",
								pw_m.self_name),
						 errdetail("Its votes were cast by another data directory (system identifier or timeline differ): a restored backup, a snapshot or a promoted standby.")));
			pw_saw_promise(strtoll(SPI_getvalue(t, d, 4), NULL, 10));
		}
		pw_commit();

		answered = pw_status_round(&chosen_max, &accepted_max, &promised_max);
		if (answered < (was_voter ? pw_majority - 1 : pw_npeers))
			return;
		if (pw_applied < chosen_max)
			return;				/* still catching up */
		if (!was_voter && !pw_phase1(true))
		{
			pw_backoff();
			return;
		}

		pw_begin();
		if (SPI_execute_with_args("UPDATE schemaevo.acceptor_state SET promised = greatest(promised, $1)",
								  1, (Oid[]) {INT8OID},
								  (Datum[]) {Int64GetDatum(Max(pw_max_promise, pw_leader ? pw_ballot : 0))},
								  NULL, false, 0) != SPI_OK_UPDATE ||
			SPI_execute_with_args("UPDATE schemaevo.cluster_self SET voting = true, "
								  "       system_identifier = $1, timeline = $2",
								  2, (Oid[]) {TEXTOID, INT4OID},
								  (Datum[]) {CStringGetTextDatum(psprintf(UINT64_FORMAT, GetSystemIdentifier())),
								  Int32GetDatum((int32) GetWALInsertionTimeLine())},
								  NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "schemaevo: could not record voting");
		pw_commit();

		/* a fence is no claim to lead: the node forwards like any other */
		pw_leader = false;
	}
	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	paxos_shared->voting = true;
	LWLockRelease(paxos_shared->lock);
	elog(LOG, "schemaevo: node \"%s\" votes from slot " INT64_FORMAT,
		 pw_m.self_name, pw_applied + 1);
}

/* ---- proposing ---- */

static void
pw_backoff(void)
{
	int			cap = Min(10 << Min(pw_failures, 7), 1000);

	pw_failures++;
	pw_leader = false;
	pw_backoff_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   5 + (int) pg_prng_uint64_range(&pg_global_prng_state, 0, cap));
}

/*
 * Tells every peer, without waiting for replies, which slots we had chosen
 * in our last ballot, when no accept of that ballot has told them yet.
 */
static void
pw_broadcast_learn(void)
{
	char		b[32];
	char		t[32];
	const char *params[3];

	if (pw_npeers == 0)
		pw_learn_owed = 0;		/* nobody to tell (the membership changed) */
	if (pw_learn_owed == 0 || GetCurrentTimestamp() < pw_learn_due)
		return;
	snprintf(b, sizeof(b), INT64_FORMAT, pw_learn_ballot);
	snprintf(t, sizeof(t), INT64_FORMAT, pw_learn_owed);
	pw_learn_owed = 0;
	params[0] = pw_m.digest;
	params[1] = b;
	params[2] = t;
	paxos_round_begin(pw_peers, pw_npeers,
					  "SELECT schemaevo.paxos_learn($1, $2::bigint, $3::bigint)",
					  3, params);

	/*
	 * A peer whose connection is still busy with its last accept (we did
	 * not need its vote) gets the learn only once that reply is in: wait
	 * for it, briefly, or that peer (often the one whose forwarded request
	 * this was) would learn the slot only by catch-up.
	 */
	(void) paxos_round_wait(pw_peers, pw_npeers, pw_npeers,
							Min(paxos_peer_timeout, PW_LEARN_WAIT_MS));
}

/*
 * Phase 2 for one slot under our ballot.
 *
 * Our own acceptance commits, flushed, while the peers work on theirs: the
 * two flushes overlap.  A node fencing its way back in (not voting yet)
 * counts only the others.  Once a majority accepted, the value is chosen
 * and durable on that majority, so recording and applying it need not wait
 * for a flush of their own: lost in a crash, the slot is found again in
 * our acceptor state (or a peer's) and chosen and applied again, as on a
 * follower (docs/protocol.md section 5).
 */
static Phase2Result
pw_phase2(int64 slot, Jsonb *value)
{
	char		b[32];
	char		s[32];
	char		t[32];
	char	   *vtext = pw_text(value);
	const char *params[6];
	bool		fence = !paxos_shared->voting;
	Jsonb	   *outcomes = NULL;
	int			accepted = 0;
	bool		behind = false;
	bool		chosen = false;
	int			i;

	snprintf(b, sizeof(b), INT64_FORMAT, pw_ballot);
	snprintf(s, sizeof(s), INT64_FORMAT, slot);
	/* the slots before this one in our ballot are chosen: peers learn them */
	snprintf(t, sizeof(t), INT64_FORMAT, slot - 1);
	params[0] = pw_m.digest;
	params[1] = b;
	params[2] = s;
	params[3] = vtext;
	params[4] = fence ? "true" : "false";
	params[5] = t;
	if (pw_npeers > 0)
		paxos_round_begin(pw_peers, pw_npeers,
						  "SELECT schemaevo.paxos_accept($1, $2::bigint, $3::bigint, $4::jsonb, $5::boolean, $6::bigint)",
						  6, params);
	if (pw_learn_ballot == pw_ballot)
		pw_learn_owed = 0;

	if (!fence)
	{
		Jsonb	   *local;

		pw_begin();
		/* when our log holds every earlier slot, there is nothing to learn */
		local = pw_copy(paxos_acceptor_accept(pw_ballot, slot, value,
											   slot == pw_applied + 1 ? 0 : slot - 1));
		pw_commit();
		accepted = pw_get_bool(local, "ok") ? 1 : 0;
		behind = pw_get_bool(local, "chosen");
		pw_saw_promise(pw_get_int(local, "promised"));
	}

	if (pw_npeers > 0)
	{
		(void) paxos_round_wait(pw_peers, pw_npeers, pw_majority - accepted,
								paxos_peer_timeout);
		for (i = 0; i < pw_npeers; i++)
		{
			Jsonb	   *r;

			if (!pw_peers[i].ok || pw_peers[i].reply == NULL)
				continue;
			r = pw_parse(pw_peers[i].reply);
			if (pw_get_bool(r, "ok"))
				accepted++;
			behind |= pw_get_bool(r, "chosen");
			pw_saw_promise(pw_get_int(r, "promised"));
			pw_peer_chosen_max = Max(pw_peer_chosen_max, pw_get_int(r, "chosen_max"));
		}
	}

	if (accepted >= pw_majority)
	{
		bool		applied;

		/* record and, when it is next in line, apply it */
		pw_begin();
		pw_skip_flush();
		paxos_log_insert(slot, value);
		/* pw_applied is the table's: only this process applies entries */
		applied = slot == pw_applied + 1;
		if (applied)
			outcomes = pw_copy(paxos_apply(slot, NULL));
		pw_commit();
		chosen = true;
		if (applied)
		{
			pw_note_applied(slot);
			pw_answer(value, outcomes, slot);
		}
		else
			pw_apply_pending();
	}
	if (!chosen)
		return behind ? P2_BEHIND : P2_FAILED;

	/* peers learn it with our next accept, or when we go idle */
	if (pw_npeers > 0)
		pw_learn_owed = slot;
	pw_learn_ballot = pw_ballot;
	pw_learn_due = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   PW_LEARN_DELAY_MS);
	pw_complete_requests();
	return P2_CHOSEN;
}

static Jsonb *
pw_value(List *commands)
{
	StringInfoData buf;
	ListCell   *lc;
	char		now[MAXDATELEN + 1];
	const int	utc = 0;

	/*
	 * ISO 8601 in UTC, as jsonb writes a timestamptz: every node reads the
	 * same instant back, whatever its DateStyle and TimeZone.
	 */
	JsonEncodeDateTime(now, TimestampTzGetDatum(GetCurrentTimestamp()),
					   TIMESTAMPTZOID, &utc);
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"proposed_by\": ");
	escape_json(&buf, pw_m.self_name);
	appendStringInfo(&buf, ", \"proposed_at\": \"%s\", \"commands\": [", now);
	foreach(lc, commands)
	{
		if (lc != list_head(commands))
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, (char *) lfirst(lc));
	}
	appendStringInfoString(&buf, "]}");
	return pw_parse(buf.data);
}

/* A value a promise reported: accepted for `slot` under `ballot`. */
typedef struct PwAccepted
{
	int64		slot;
	int64		ballot;
	Jsonb	   *value;
} PwAccepted;

/* Every value the granted promises among `replies` reported. */
static List *
pw_granted_values(Jsonb **replies, int nreplies)
{
	List	   *values = NIL;
	int			i;

	for (i = 0; i < nreplies; i++)
	{
		JsonbValue *acc;
		int			k;

		if (!pw_get_bool(replies[i], "ok"))
			continue;
		acc = pw_get(replies[i], "accepted");
		if (acc == NULL || acc->type != jbvBinary ||
			!JsonContainerIsArray(acc->val.binary.data))
			continue;
		for (k = 0; k < (int) JsonContainerSize(acc->val.binary.data); k++)
		{
			Jsonb	   *e = JsonbValueToJsonb(getIthJsonbValueFromContainer(acc->val.binary.data, k));
			PwAccepted *a = palloc(sizeof(PwAccepted));

			a->slot = pw_get_int(e, "slot");
			a->ballot = pw_get_int(e, "ballot");
			a->value = pw_get_log_value(e);
			values = lappend(values, a);
		}
	}
	return values;
}

/*
 * Phase 1 for every slot from the one after our applied slot; on success we
 * lead, and every value a promise reported has been chosen again under our
 * ballot (no-ops fill the gaps).  With `fence` (a node rejoining with a
 * memory it cannot trust, see pw_try_recover) our own acceptor takes no
 * part and every other member must grant.
 */
static bool
pw_phase1(bool fence)
{
	int64		from = pw_applied + 1;
	int64		round;
	int64		ballot;
	char		b[32];
	char		f[32];
	const char *params[4];
	Jsonb	   *replies[PAXOS_MAX_MEMBERS + 1];
	int			nreplies = 0;
	int			granted = 0;
	int64		top = from - 1;
	int64		slot;
	int			i;
	List	   *accepted;
	ListCell   *lc;

	/*
	 * A fence ballot names no node (index 0), so that nobody takes its
	 * owner for the leader and forwards to it: a fence is no claim to lead.
	 * Two fences of one round cannot both succeed: each needs a grant from
	 * every other member, strictly above its promise.
	 */
	round = PAXOS_BALLOT_ROUND(pw_max_promise) + 1;
	ballot = PAXOS_BALLOT(round, fence ? 0 : pw_m.members[pw_m.self].index);
	snprintf(b, sizeof(b), INT64_FORMAT, ballot);
	snprintf(f, sizeof(f), INT64_FORMAT, from);
	params[0] = pw_m.digest;
	params[1] = b;
	params[2] = f;
	params[3] = fence ? "true" : "false";
	if (pw_npeers > 0)
		paxos_round_begin(pw_peers, pw_npeers,
						  "SELECT schemaevo.paxos_prepare($1, $2::bigint, $3::bigint, $4::boolean)",
						  4, params);

	if (!fence)
	{
		pw_begin();
		replies[nreplies++] = pw_copy(paxos_acceptor_prepare(ballot, from));
		pw_commit();
	}

	if (pw_npeers > 0)
	{
		(void) paxos_round_wait(pw_peers, pw_npeers, pw_npeers, paxos_peer_timeout);
		for (i = 0; i < pw_npeers; i++)
			if (pw_peers[i].ok && pw_peers[i].reply != NULL)
				replies[nreplies++] = pw_parse(pw_peers[i].reply);
	}

	for (i = 0; i < nreplies; i++)
	{
		pw_saw_promise(pw_get_int(replies[i], "promised"));
		pw_peer_chosen_max = Max(pw_peer_chosen_max, pw_get_int(replies[i], "chosen_max"));
		if (pw_get_bool(replies[i], "ok"))
			granted++;
	}
	if (pw_peer_chosen_max >= from)
	{
		pw_catch_up(pw_peer_chosen_max);
		return false;
	}
	if (granted < (fence ? pw_npeers : pw_majority))
		return false;

	pw_ballot = ballot;
	pw_leader = true;
	pw_next_slot = from;

	/*
	 * Per slot, the value of the highest ballot any granted promise
	 * reported; propose each again under our ballot.
	 */
	accepted = pw_granted_values(replies, nreplies);
	foreach(lc, accepted)
		top = Max(top, ((PwAccepted *) lfirst(lc))->slot);

	for (slot = from; slot <= top; slot++)
	{
		Jsonb	   *best = NULL;
		int64		best_ballot = -1;

		foreach(lc, accepted)
		{
			PwAccepted *a = lfirst(lc);

			if (a->slot == slot && a->ballot > best_ballot)
			{
				best_ballot = a->ballot;
				best = a->value;
			}
		}
		if (best == NULL)
			best = pw_value(NIL);
		if (pw_phase2(slot, best) != P2_CHOSEN)
		{
			pw_leader = false;
			return false;
		}
		pw_next_slot = slot + 1;
	}
	elog(DEBUG1, "schemaevo: node \"%s\" leads with ballot " INT64_FORMAT " from slot " INT64_FORMAT,
		 pw_m.self_name, ballot, from);
	return true;
}

/* ---- forwarding to the leader ---- */

/* Takes the commands other nodes forwarded to us into the pending list. */
static void
pw_take_forwarded(void)
{
	static PaxosQuery take = {"DELETE FROM schemaevo.forwarded RETURNING command::text", 0};
	uint64		i;

	pw_begin();
	if (paxos_query_run(&take, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "schemaevo: could not read forwarded commands");
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *command = SPI_getvalue(SPI_tuptable->vals[i],
										   SPI_tuptable->tupdesc, 1);

		pw_add_pending(-1, command, pw_request_id(command));
	}
	pw_commit();
}

/*
 * The peer that owns the highest ballot seen, when that is not us and it
 * answered our last status round: the leader to forward to.
 */
static PaxosPeer *
pw_leader_peer(void)
{
	int			owner = PAXOS_BALLOT_NODE(pw_max_promise);
	int			i;

	if (pw_leader || owner == 0 || owner == pw_m.members[pw_m.self].index)
		return NULL;
	for (i = 0; i < pw_npeers; i++)
		if (pw_peers[i].member->index == owner)
			return paxos_shared->nodes[pw_node_slot(pw_peers[i].member->name)].reachable
				? &pw_peers[i] : NULL;
	return NULL;
}

/*
 * Hands our own pending requests to the leader instead of duelling with it.
 * Returns true while every pending request is in the leader's hands and not
 * overdue: we then wait to learn their slots.  A request the leader has not
 * had chosen within three peer timeouts is proposed by us (the leader may
 * have died); its request id makes a double proposal harmless.
 */
static bool
pw_forward(void)
{
	PaxosPeer  *leader = pw_leader_peer();
	TimestampTz now = GetCurrentTimestamp();
	StringInfoData buf;
	ListCell   *lc;
	int			n = 0;

	if (leader == NULL)
		return false;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, pw_pending)
	{
		PendingRequest *p = lfirst(lc);

		if (p->qslot < 0 || p->forwarded_at != 0)
			continue;
		if (n++ > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, p->command);
	}
	appendStringInfoChar(&buf, ']');
	if (n > 0)
	{
		const char *params[2] = {pw_m.digest, buf.data};

		paxos_round_begin(leader, 1, "SELECT schemaevo.paxos_forward($1, $2::jsonb)",
						  2, params);
		if (paxos_round_wait(leader, 1, 1, paxos_peer_timeout) != 1)
			return false;
		foreach(lc, pw_pending)
		{
			PendingRequest *p = lfirst(lc);

			if (p->qslot >= 0 && p->forwarded_at == 0)
				p->forwarded_at = now;
		}
	}
	foreach(lc, pw_pending)
	{
		PendingRequest *p = lfirst(lc);

		if (p->qslot < 0 || p->forwarded_at == 0 ||
			TimestampDifferenceExceeds(p->forwarded_at, now, 3 * paxos_peer_timeout))
			return false;
	}
	return true;
}

/*
 * How many of the backends we just answered have not queued their next
 * request yet: the requests to expect soon (see pw_batch_wait_ms).
 */
static int
pw_callers_away(const int *callers, int ncallers)
{
	int			away = 0;
	int			i;

	for (i = 0; i < ncallers; i++)
	{
		ListCell   *lc;
		bool		back = false;

		foreach(lc, pw_pending)
			back |= ((PendingRequest *) lfirst(lc))->caller == callers[i];
		away += back ? 0 : 1;
	}
	return away;
}

/* Proposes the pending requests (or, with `repair`, an empty batch). */
static void
pw_propose(bool repair)
{
	List	   *commands = NIL;
	ListCell   *lc;
	Phase2Result r;
	bool		forwarded = false;
	int			callers[PAXOS_BATCH_MAX];
	int			ncallers = 0;

	if (!pw_leader || pw_next_slot != pw_applied + 1)
	{
		pw_leader = false;
		if (!pw_phase1(false))
		{
			pw_backoff();
			return;
		}
		pw_complete_requests();
	}
	foreach(lc, pw_pending)
	{
		PendingRequest *p = lfirst(lc);

		if (list_length(commands) >= paxos_batch_size)
			break;
		/* two promotions of one tenant may share a slot: see apply.c */
		commands = lappend(commands, p->command);
		forwarded |= p->qslot < 0;
		if (p->caller >= 0)
			callers[ncallers++] = p->caller;
	}
	if (commands == NIL && !repair)
		return;

	r = pw_phase2(pw_next_slot, pw_value(commands));
	if (r == P2_CHOSEN)
	{
		if (forwarded)
			pw_learn_due = 0;
		pw_next_slot++;
		pw_failures = 0;
		/* what the next slot can expect: see pw_batch_wait_ms() */
		pw_take_requests();
		pw_batch_target = Min(list_length(pw_pending) +
							  pw_callers_away(callers, ncallers),
							  paxos_batch_size);
		pw_chosen_at = GetCurrentTimestamp();
		return;
	}
	if (r == P2_BEHIND)
		pw_catch_up(Max(pw_peer_chosen_max, pw_next_slot));
	pw_backoff();
}

/*
 * How long to wait for a fuller batch before proposing (0: now).  Slots are
 * proposed one at a time, so under load the callers answered by one slot
 * send their next request while the rest wait for the next slot: proposed
 * at once, the batches alternate between the two groups, and each caller
 * waits for two slots.  Waiting up to batch_wait after a slot until the
 * requests queued when it was chosen are joined by those of its callers
 * merges the groups again.  A lone caller is its own target, so it waits
 * for nothing.
 */
static long
pw_batch_wait_ms(TimestampTz now)
{
	int64		left_us;

	if (paxos_batch_wait == 0 || list_length(pw_pending) >= pw_batch_target)
		return 0;
	left_us = (int64) paxos_batch_wait * 1000 - (now - pw_chosen_at);
	return left_us > 0 ? (long) ((left_us + 999) / 1000) : 0;
}

/*
 * Whether our acceptor holds a value for a slot nobody has finished: the
 * same unapplied slot seen at two status rounds in a row, with no progress
 * in between.  (A single sighting is normal: the leader's learn may simply
 * not have arrived yet, and repairing then would only steal leadership.)
 */
static bool
pw_needs_repair(void)
{
	static int64 last_seen = 0;
	int64		slot = 0;

	if (TimestampDifferenceMilliseconds(pw_last_progress, GetCurrentTimestamp()) <
		2 * paxos_catchup_interval)
	{
		last_seen = 0;
		return false;
	}
	pw_begin();
	if (SPI_execute("SELECT min(s.slot) FROM schemaevo.acceptor_slots s, schemaevo.node_state n "
					" WHERE s.slot > n.applied_slot", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not read acceptor_slots");
	if (SPI_processed == 1 && SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1))
		slot = strtoll(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), NULL, 10);
	pw_commit();
	if (slot == 0 || slot != last_seen)
	{
		last_seen = slot;
		return false;
	}

	/*
	 * A peer has it chosen: we missed the learn (a busy connection drops
	 * it) and catch-up fetches it; repairing would only take the lead.
	 */
	if (slot <= pw_peer_chosen_max)
	{
		pw_catch_up(pw_peer_chosen_max);
		return false;
	}
	return true;
}

/* ---- main loop ---- */

/*
 * How long the pending requests let us sleep: until the backoff ends, or,
 * when all of them wait on the leader, until the first is overdue (a learn
 * from the leader wakes us sooner).
 */
static long
pw_pending_wait(TimestampTz now)
{
	TimestampTz until = 0;
	ListCell   *lc;

	foreach(lc, pw_pending)
	{
		PendingRequest *p = lfirst(lc);
		TimestampTz t;

		if (p->qslot < 0 || p->forwarded_at == 0)
			return TimestampDifferenceMilliseconds(now, pw_backoff_until);
		t = TimestampTzPlusMilliseconds(p->forwarded_at, 3 * paxos_peer_timeout);
		if (until == 0 || t < until)
			until = t;
	}
	return TimestampDifferenceMilliseconds(now, until);
}

static void
pw_on_exit(int code, Datum arg)
{
	int			i;

	if (paxos_shared == NULL)
		return;
	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	paxos_shared->worker_latch = NULL;
	paxos_shared->worker_pid = 0;
	paxos_shared->dbid = InvalidOid;
	paxos_shared->voting = false;
	paxos_shared->ballot = 0;
	paxos_shared->self_name[0] = '\0';
	/* requests we had taken are queued again for our successor */
	for (i = 0; i < PAXOS_QUEUE_SIZE; i++)
		if (paxos_shared->requests[i].state == PRQ_TAKEN)
			paxos_shared->requests[i].state = PRQ_QUEUED;
		else if (paxos_shared->requests[i].state == PRQ_ABANDONED)
			paxos_shared->requests[i].state = PRQ_FREE;
	LWLockRelease(paxos_shared->lock);
}

/* Whether the extension exists; if so, starts watching it (pw_hold_extension). */
static bool
pw_extension_ready(void)
{
	Oid			ext;
	Oid			nsp;

	pw_begin();
	ext = get_extension_oid("schemaevo", true);
	/* schemaevo.control fixes the schema */
	nsp = OidIsValid(ext) ? get_namespace_oid("schemaevo", true) : InvalidOid;
	if (OidIsValid(nsp))
	{
		pw_watched_relid = get_relname_relid("node_state", nsp);
		pw_extension_oid = ext;
	}
	pw_commit();
	return OidIsValid(pw_extension_oid);
}

static void
pw_step(void)
{
	static uint64 pw_seen_learned = PG_UINT64_MAX;
	static uint64 pw_seen_forwarded = PG_UINT64_MAX;
	TimestampTz now;
	bool		full;
	uint64		learned;
	uint64		forwarded;

	now = GetCurrentTimestamp();
	full = now >= pw_next_status;
	pw_load_membership(full);

	/*
	 * Look at the log when a peer call learned something since we last
	 * did, at a status round, and before proposing: what the learns
	 * recorded is applied first, so pw_applied is the table's.  (A drop of
	 * the extension restarts the worker: pw_hold_extension.)  Other
	 * wake-ups, most of a follower's, skip the transaction.
	 */
	pw_take_requests();
	learned = pg_atomic_read_u64(&paxos_shared->learned);
	if (full || learned != pw_seen_learned || pw_pending != NIL)
	{
		pw_seen_learned = learned;
		if (pw_apply_pending() < PW_FETCH_MAX)
			pw_catch_up(pw_applied + 1);	/* fill a gap now, not at the next status round */
	}
	pw_complete_requests();
	pw_drop_abandoned();

	now = GetCurrentTimestamp();
	if (!paxos_shared->voting)
		pw_try_recover();
	else if (now >= pw_next_status)
	{
		int64		c,
					a,
					p;

		(void) pw_status_round(&c, &a, &p);
		pw_next_status = TimestampTzPlusMilliseconds(now, paxos_catchup_interval);
		if (pw_pending == NIL && pw_needs_repair() && now >= pw_backoff_until)
			pw_propose(true);
	}

	forwarded = pg_atomic_read_u64(&paxos_shared->forwarded);
	if (paxos_shared->voting && (full || forwarded != pw_seen_forwarded))
	{
		pw_seen_forwarded = forwarded;
		pw_take_forwarded();
	}

	/*
	 * Propose until the queue is empty or we must back off; while another
	 * node leads, hand it our requests instead.
	 */
	while (paxos_shared->voting && pw_pending != NIL &&
		   GetCurrentTimestamp() >= pw_backoff_until)
	{
		int64		before = pw_applied;

		pw_take_requests();
		if (pw_forward() || pw_batch_wait_ms(GetCurrentTimestamp()) > 0)
			break;
		pw_propose(false);
		pw_complete_requests();
		pw_drop_abandoned();
		if (pw_applied == before)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	pw_broadcast_learn();
	pw_publish_self();
}

void
paxos_worker_main(Datum arg)
{
	MemoryContext loop_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(paxos_database, NULL, 0);
	SetConfigOption("synchronous_commit", "on", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("application_name", "schemaevo log worker", PGC_USERSET, PGC_S_OVERRIDE);
	pgstat_report_appname("schemaevo log worker");

	before_shmem_exit(pw_on_exit, (Datum) 0);
	CacheRegisterRelcacheCallback(pw_relcache_changed, (Datum) 0);
	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	paxos_shared->worker_pid = MyProcPid;
	paxos_shared->worker_latch = MyLatch;
	paxos_shared->dbid = MyDatabaseId;
	paxos_shared->voting = false;
	LWLockRelease(paxos_shared->lock);

	pw_cxt = AllocSetContextCreate(TopMemoryContext, "schemaevo worker",
								   ALLOCSET_DEFAULT_SIZES);
	loop_cxt = AllocSetContextCreate(TopMemoryContext, "schemaevo worker loop",
									 ALLOCSET_DEFAULT_SIZES);

	while (!pw_extension_ready())
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	pw_last_progress = GetCurrentTimestamp();

	for (;;)
	{
		long		timeout;
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextSwitchTo(loop_cxt);
		paxos_latch_seen = false;
		pw_step();
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(loop_cxt);
		pgstat_report_stat(false);

		if (paxos_latch_seen)
			continue;			/* a request arrived while we worked */

		now = GetCurrentTimestamp();
		timeout = paxos_shared->voting
			? TimestampDifferenceMilliseconds(now, pw_next_status)
			: Min(paxos_catchup_interval, 200);
		if (pw_pending != NIL)
			timeout = Min(timeout, pw_pending_wait(now));
		if (pw_pending != NIL && pw_batch_wait_ms(now) > 0)
			timeout = Min(timeout, pw_batch_wait_ms(now));
		if (pw_learn_owed != 0)
			timeout = Min(timeout, TimestampDifferenceMilliseconds(now, pw_learn_due));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(timeout, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
