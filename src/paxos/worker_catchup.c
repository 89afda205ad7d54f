/*-------------------------------------------------------------------------
 *
 * worker_catchup.c
 *	  Applying chosen entries, catching up from peers, the status round,
 *	  and becoming a voter (after a restart, or by fencing).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "apply.h"
#include "paxos.h"
#include "paxos_int.h"
#include "rows.h"
#include "worker_int.h"

/* ---- applying chosen entries ---- */

/* Publishes that this node has applied up to `applied`. */
void
pw_note_applied(int64 applied)
{
	if (applied == pw.applied)
		return;
	pw.applied = applied;
	pw.last_progress = GetCurrentTimestamp();
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
void
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
int
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
		pw.recheck = true;
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
	snprintf(from, sizeof(from), INT64_FORMAT, pw.applied + 1);
	snprintf(count, sizeof(count), "%d", missing);
	params[0] = pw.m.digest;
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
void
pw_catch_up(int64 target)
{
	int			i;

	for (i = 0; i < pw.npeers && pw.applied < target; i++)
	{
		int64		before;

		do
		{
			before = pw.applied;
			pw_fetch_from(&pw.peers[i]);
		} while (pw.applied > before && pw.applied < target);
	}
}

/*
 * Asks every peer for its status: publishes it for cluster_status, catches
 * up when a peer is ahead, compares log digests.  Returns the number of
 * peers that answered, and the highest chosen slot, accepted slot and
 * promise they reported.
 */
int
pw_status_round(int64 *chosen_max, int64 *accepted_max, int64 *promised_max)
{
	static int64 prev_chosen_max = 0;
	int64		target;
	const char *params[1] = {pw.m.digest};
	char	   *my_digest;
	int			answered = 0;
	int			i;

	*chosen_max = pw.applied;
	*accepted_max = 0;
	*promised_max = 0;
	if (pw.npeers == 0)
		return 0;

	paxos_round_begin(pw.peers, pw.npeers, "SELECT schemaevo.paxos_status($1)",
					  1, params);
	(void) paxos_round_wait(pw.peers, pw.npeers, pw.npeers, paxos_peer_timeout);

	pw_begin();
	if (SPI_execute("SELECT digest, applied_slot FROM schemaevo.node_state", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "schemaevo: could not read node_state");
	my_digest = pw_strdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	pw_commit();

	for (i = 0; i < pw.npeers; i++)
	{
		PaxosPeer  *p = &pw.peers[i];
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
			diverged = pw_get_int(s, "applied") == pw.applied &&
				strcmp(pw_get_string(s, "digest"), my_digest) != 0;
			if (diverged && !st->diverged)
				ereport(WARNING,
						(errmsg("schemaevo: node \"%s\" applied a different log up to slot " INT64_FORMAT,
								p->member->name, pw.applied),
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
	pw.peer_chosen_max = *chosen_max;

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
	if (target > pw.applied)
		pw_catch_up(target);
	prev_chosen_max = *chosen_max;
	return answered;
}

/* Publishes this node's own row of cluster_status. */


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
void
pw_try_recover(void)
{
	static bool warned_fsync = false;
	bool		was_voter = false;
	int64		chosen_max;
	int64		accepted_max;
	int64		promised_max;
	int			answered;

	if (GetCurrentTimestamp() < pw.backoff_until)
		return;
	if (pw.npeers > 0)
	{
		bool		voted;

		if (!enableFsync)
		{
			if (!warned_fsync)
				ereport(WARNING,
						(errmsg("schemaevo: node \"%s\" does not vote with fsync off",
								pw.m.self_name),
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
								pw.m.self_name),
						 errdetail("Its votes were cast by another data directory (system identifier or timeline differ): a restored backup, a snapshot or a promoted standby.")));
			pw_saw_promise(strtoll(SPI_getvalue(t, d, 4), NULL, 10));
		}
		pw_commit();

		answered = pw_status_round(&chosen_max, &accepted_max, &promised_max);
		if (answered < (was_voter ? pw.majority - 1 : pw.npeers))
			return;
		if (pw.applied < chosen_max)
			return;				/* still catching up */
		if (!was_voter && !pw_phase1(true))
		{
			pw_backoff();
			return;
		}

		pw_begin();
		if (SPI_execute_with_args("UPDATE schemaevo.acceptor_state SET promised = greatest(promised, $1)",
								  1, (Oid[]) {INT8OID},
								  (Datum[]) {Int64GetDatum(Max(pw.max_promise, pw.leader ? pw.ballot : 0))},
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
		pw.leader = false;
	}
	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	paxos_shared->voting = true;
	LWLockRelease(paxos_shared->lock);
	elog(LOG, "schemaevo: node \"%s\" votes from slot " INT64_FORMAT,
		 pw.m.self_name, pw.applied + 1);
}
