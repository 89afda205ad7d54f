/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  Shared memory of the replicated log (the request queue and the node
 *	  status the worker publishes) and the worker's registration.
 *
 * The locking protocol is described in paxos_int.h.  Everything here
 * exists only when schemaevo is in shared_preload_libraries; without it
 * paxos_shared stays NULL and the log runs inline as a cluster of one
 * (submit.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "paxos.h"
#include "paxos_int.h"

PaxosShared *paxos_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
paxos_shmem_request_hook(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(PaxosShared)));
	RequestNamedLWLockTranche("schemaevo", 1);
}

static void
paxos_shmem_startup_hook(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	paxos_shared = ShmemInitStruct("schemaevo paxos", sizeof(PaxosShared),
								   &found);
	if (!found)
	{
		int			i;

		memset(paxos_shared, 0, sizeof(PaxosShared));
		paxos_shared->lock = &(GetNamedLWLockTranche("schemaevo"))->lock;
		pg_atomic_init_u64(&paxos_shared->learned, 0);
		pg_atomic_init_u64(&paxos_shared->forwarded, 0);
		for (i = 0; i < PAXOS_QUEUE_SIZE; i++)
			ConditionVariableInit(&paxos_shared->requests[i].cv);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Installs the shared-memory hooks; only while preloading. */
void
paxos_shmem_request(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = paxos_shmem_request_hook;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = paxos_shmem_startup_hook;
}

/* Registers the background worker; only while preloading. */
void
paxos_register_worker(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	/* never on a hot standby: it only decodes */
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 1;
	strlcpy(worker.bgw_library_name, "schemaevo", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "paxos_worker_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "schemaevo log worker", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "schemaevo log worker", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/* Wakes the worker (new request, learned entry, new membership). */
void
paxos_wake_worker(void)
{
	Latch	   *latch;

	if (paxos_shared == NULL)
		return;
	LWLockAcquire(paxos_shared->lock, LW_SHARED);
	latch = paxos_shared->worker_latch;
	LWLockRelease(paxos_shared->lock);
	if (latch)
		SetLatch(latch);
}

static int	paxos_wake_at_commit = 0;
static bool paxos_wake_callback_registered = false;

static void
paxos_wake_xact_callback(XactEvent event, void *arg)
{
	if (paxos_wake_at_commit == 0)
		return;
	if (event == XACT_EVENT_COMMIT && paxos_shared != NULL)
	{
		/* committed, so visible to the worker's next snapshot */
		if (paxos_wake_at_commit & PAXOS_WAKE_LEARNED)
			pg_atomic_fetch_add_u64(&paxos_shared->learned, 1);
		if (paxos_wake_at_commit & PAXOS_WAKE_FORWARDED)
			pg_atomic_fetch_add_u64(&paxos_shared->forwarded, 1);
		paxos_wake_worker();
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT)
		paxos_wake_at_commit = 0;
}

/*
 * Wakes the worker once the current transaction commits, so that it finds
 * what this transaction wrote (`what`: PAXOS_WAKE_*).
 */
void
paxos_wake_worker_at_commit(int what)
{
	if (!paxos_wake_callback_registered)
	{
		RegisterXactCallback(paxos_wake_xact_callback, NULL);
		paxos_wake_callback_registered = true;
	}
	paxos_wake_at_commit |= what;
}
