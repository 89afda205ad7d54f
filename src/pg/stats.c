/*-------------------------------------------------------------------------
 *
 * stats.c
 *	  Decode counters behind the schemaevo.decode_stats view.
 *
 * Counting happens once per decoded row, so the hot path only bumps a
 * backend-local array (sevo_count in sevo.h).  The local counts are added
 * to shared atomics at the end of every transaction, committed or not, so a
 * malformed message that raised an error is still counted.  Without
 * shared_preload_libraries there is no shared memory and the view shows
 * this backend's counts, with scope = 'backend'.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"

typedef struct SevoSharedStats
{
	pg_atomic_uint64 counters[SEVO_NUM_STATS];
} SevoSharedStats;

uint64		sevo_local_stats[SEVO_NUM_STATS];
bool		sevo_local_stats_dirty = false;

static SevoSharedStats *sevo_shared_stats = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

PG_FUNCTION_INFO_V1(sevo_decode_stats);
PG_FUNCTION_INFO_V1(sevo_reset_decode_stats);

static void
sevo_stats_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(SevoSharedStats)));
}

static void
sevo_stats_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	sevo_shared_stats = ShmemInitStruct("schemaevo decode stats",
										sizeof(SevoSharedStats), &found);
	if (!found)
	{
		int			i;

		for (i = 0; i < SEVO_NUM_STATS; i++)
			pg_atomic_init_u64(&sevo_shared_stats->counters[i], 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Installs the shared-memory hooks; only while preloading. */
void
sevo_stats_shmem_request(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = sevo_stats_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = sevo_stats_startup;
}

/* Adds the local counts to the shared ones, if there are shared ones. */
static void
sevo_stats_flush(void)
{
	int			i;

	if (!sevo_local_stats_dirty || sevo_shared_stats == NULL)
		return;
	for (i = 0; i < SEVO_NUM_STATS; i++)
	{
		if (sevo_local_stats[i] != 0)
			pg_atomic_fetch_add_u64(&sevo_shared_stats->counters[i],
									(int64) sevo_local_stats[i]);
		sevo_local_stats[i] = 0;
	}
	sevo_local_stats_dirty = false;
}

static void
sevo_stats_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			sevo_stats_flush();
			break;
		default:
			break;
	}
}

void
sevo_stats_register_callbacks(void)
{
	RegisterXactCallback(sevo_stats_xact_callback, NULL);
}

/* SQL: schemaevo.decode_stats_internal() */
Datum
sevo_decode_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[SEVO_NUM_STATS + 1];
	bool		nulls[SEVO_NUM_STATS + 1] = {0};
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	sevo_stats_flush();
	for (i = 0; i < SEVO_NUM_STATS; i++)
	{
		uint64		v;

		if (sevo_shared_stats)
			v = pg_atomic_read_u64(&sevo_shared_stats->counters[i]);
		else
			v = sevo_local_stats[i];
		values[i] = Int64GetDatum((int64) v);
	}
	values[SEVO_NUM_STATS] =
		CStringGetTextDatum(sevo_shared_stats ? "shared" : "backend");

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* SQL: schemaevo.reset_decode_stats() */
Datum
sevo_reset_decode_stats(PG_FUNCTION_ARGS)
{
	int			i;

	for (i = 0; i < SEVO_NUM_STATS; i++)
	{
		sevo_local_stats[i] = 0;
		if (sevo_shared_stats)
			pg_atomic_write_u64(&sevo_shared_stats->counters[i], 0);
	}
	sevo_local_stats_dirty = false;
	PG_RETURN_VOID();
}
