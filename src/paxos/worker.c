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
 * This file holds the main loop; worker_int.h lists the files that hold
 * the rest, and the state they share.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "paxos.h"
#include "paxos_int.h"
#include "worker_int.h"

PGDLLEXPORT void paxos_worker_main(Datum arg);

PaxosWorker pw = {.majority = 1};

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

/*
 * Slots one step proposes at most.  Under steady load the queue never
 * empties; the main loop must still get to reset the step's memory, reload
 * the configuration and run the status rounds and forwarded requests.
 */
#define PW_SLOTS_PER_STEP 32

/*
 * One pass of the worker's duties.  Returns true when it stopped with
 * slots left to propose, so that the caller comes back at once.
 */
static bool
pw_step(void)
{
	static uint64 pw_seen_learned = PG_UINT64_MAX;
	static uint64 pw_seen_forwarded = PG_UINT64_MAX;
	TimestampTz now;
	bool		full;
	uint64		learned;
	uint64		forwarded;
	int			slots = 0;
	bool		again = false;

	now = GetCurrentTimestamp();
	full = now >= pw.next_status;
	pw_load_membership(full);

	/*
	 * Look at the log when a peer call learned something since we last
	 * did, at a status round, and before proposing: what the learns
	 * recorded is applied first, so pw.applied is the table's.  (A drop of
	 * the extension restarts the worker: pw_hold_extension.)  Other
	 * wake-ups, most of a follower's, skip the transaction.
	 */
	pw_take_requests();
	learned = pg_atomic_read_u64(&paxos_shared->learned);
	if (full || learned != pw_seen_learned || pw.pending != NIL)
	{
		pw_seen_learned = learned;
		if (pw_apply_pending() < PW_FETCH_MAX)
			pw_catch_up(pw.applied + 1);	/* fill a gap now, not at the next status round */
	}
	pw_complete_requests();
	pw_drop_abandoned();

	now = GetCurrentTimestamp();
	if (!paxos_shared->voting)
		pw_try_recover();
	else if (now >= pw.next_status)
	{
		int64		c,
					a,
					p;

		(void) pw_status_round(&c, &a, &p);
		pw.next_status = TimestampTzPlusMilliseconds(now, paxos_catchup_interval);
		if (pw.pending == NIL && pw_needs_repair() && now >= pw.backoff_until)
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
	while (paxos_shared->voting && pw.pending != NIL &&
		   GetCurrentTimestamp() >= pw.backoff_until)
	{
		int64		before = pw.applied;

		if (slots++ == PW_SLOTS_PER_STEP)
		{
			again = true;
			break;
		}
		pw_take_requests();
		if (pw_forward() || pw_batch_wait_ms(GetCurrentTimestamp()) > 0)
			break;
		pw_propose(false);
		pw_complete_requests();
		pw_drop_abandoned();
		if (pw.applied == before)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	pw_broadcast_learn();
	pw_publish_self();
	return again;
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
	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	paxos_shared->worker_pid = MyProcPid;
	paxos_shared->worker_latch = MyLatch;
	paxos_shared->dbid = MyDatabaseId;
	paxos_shared->voting = false;
	LWLockRelease(paxos_shared->lock);

	pw.cxt = AllocSetContextCreate(TopMemoryContext, "schemaevo worker",
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
	pw.last_progress = GetCurrentTimestamp();

	for (;;)
	{
		long		timeout;
		TimestampTz now;
		bool		again;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextSwitchTo(loop_cxt);
		paxos_latch_seen = false;
		again = pw_step();
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(loop_cxt);
		pgstat_report_stat(false);

		if (again || paxos_latch_seen)
			continue;			/* more to propose, or a request arrived while we worked */

		now = GetCurrentTimestamp();
		timeout = paxos_shared->voting
			? TimestampDifferenceMilliseconds(now, pw.next_status)
			: Min(paxos_catchup_interval, 200);
		/* a node that does not vote cannot propose: its recovery interval stands */
		if (pw.pending != NIL && paxos_shared->voting)
			timeout = Min(timeout, pw_pending_wait(now));
		if (pw.pending != NIL && pw_batch_wait_ms(now) > 0)
			timeout = Min(timeout, pw_batch_wait_ms(now));
		if (pw.learn_owed != 0)
			timeout = Min(timeout, TimestampDifferenceMilliseconds(now, pw.learn_due));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(timeout, 1), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
