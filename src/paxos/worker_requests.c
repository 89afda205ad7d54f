/*-------------------------------------------------------------------------
 *
 * worker_requests.c
 *	  The requests the log worker answers: taken from the shared queue or
 *	  forwarded by another node, handed to the leader when another node
 *	  leads, answered once applied.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "executor/spi.h"
#include "storage/condition_variable.h"
#include "storage/dsm.h"
#include "storage/lwlock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "paxos.h"
#include "paxos_int.h"
#include "query.h"
#include "worker_int.h"

static void
pw_add_pending(int qslot, const char *command, const char *request_id)
{
	MemoryContext old = MemoryContextSwitchTo(pw.cxt);
	PendingRequest *p = palloc(sizeof(PendingRequest));

	p->qslot = qslot;
	p->command = pstrdup(command);
	p->request_id = pstrdup(request_id);
	p->caller = qslot >= 0 ? paxos_shared->requests[qslot].procno : -1;
	p->done = false;
	p->forwarded_at = 0;
	pw.pending = lappend(pw.pending, p);
	MemoryContextSwitchTo(old);
}

/*
 * Moves queued requests of our database into the pending list: a short
 * command is copied from the queue slot, a long one out of its backend's
 * DSM segment.
 */
void
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

	foreach(lc, pw.pending)
	{
		PendingRequest *p = lfirst(lc);

		if (p->done)
		{
			pw.pending = foreach_delete_current(pw.pending, lc);
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
void
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
		foreach(lc, pw.pending)
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
void
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

	if (pw.pending == NIL || !pw.recheck)
		return;
	pw.recheck = false;
	ids = palloc(sizeof(Datum) * list_length(pw.pending));
	foreach(lc, pw.pending)
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

		foreach(lc, pw.pending)
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
void
pw_drop_abandoned(void)
{
	ListCell   *lc;

	foreach(lc, pw.pending)
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
			pw.pending = foreach_delete_current(pw.pending, lc);
			pfree(p->command);
			pfree(p->request_id);
			pfree(p);
		}
	}
}

/* ---- forwarding to the leader ---- */

/* Takes the commands other nodes forwarded to us into the pending list. */
void
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
	int			owner = PAXOS_BALLOT_NODE(pw.max_promise);
	int			i;

	if (pw.leader || owner == 0 || owner == pw.m.members[pw.m.self].index)
		return NULL;
	for (i = 0; i < pw.npeers; i++)
		if (pw.peers[i].member->index == owner)
			return paxos_shared->nodes[pw_node_slot(pw.peers[i].member->name)].reachable
				? &pw.peers[i] : NULL;
	return NULL;
}

/*
 * Hands our own pending requests to the leader instead of duelling with it.
 * Returns true while every pending request is in the leader's hands and not
 * overdue: we then wait to learn their slots.  A request the leader has not
 * had chosen within three peer timeouts is proposed by us (the leader may
 * have died); its request id makes a double proposal harmless.
 */
bool
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
	foreach(lc, pw.pending)
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
		const char *params[2] = {pw.m.digest, buf.data};

		paxos_round_begin(leader, 1, "SELECT schemaevo.paxos_forward($1, $2::jsonb)",
						  2, params);
		if (paxos_round_wait(leader, 1, 1, paxos_peer_timeout) != 1)
			return false;
		foreach(lc, pw.pending)
		{
			PendingRequest *p = lfirst(lc);

			if (p->qslot >= 0 && p->forwarded_at == 0)
				p->forwarded_at = now;
		}
	}
	foreach(lc, pw.pending)
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
int
pw_callers_away(const int *callers, int ncallers)
{
	int			away = 0;
	int			i;

	for (i = 0; i < ncallers; i++)
	{
		ListCell   *lc;
		bool		back = false;

		foreach(lc, pw.pending)
			back |= ((PendingRequest *) lfirst(lc))->caller == callers[i];
		away += back ? 0 : 1;
	}
	return away;
}

/* Proposes the pending requests (or, with `repair`, an empty batch). */

/*
 * How long the pending requests let us sleep: until the backoff ends, or,
 * when all of them wait on the leader, until the first is overdue (a learn
 * from the leader wakes us sooner).
 */
long
pw_pending_wait(TimestampTz now)
{
	TimestampTz until = 0;
	ListCell   *lc;

	foreach(lc, pw.pending)
	{
		PendingRequest *p = lfirst(lc);
		TimestampTz t;

		if (p->qslot < 0 || p->forwarded_at == 0)
			return TimestampDifferenceMilliseconds(now, pw.backoff_until);
		t = TimestampTzPlusMilliseconds(p->forwarded_at, 3 * paxos_peer_timeout);
		if (until == 0 || t < until)
			until = t;
	}
	return TimestampDifferenceMilliseconds(now, until);
}
