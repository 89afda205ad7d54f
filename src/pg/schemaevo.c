/*-------------------------------------------------------------------------
 *
 * schemaevo.c
 *	  Module entry point: _PG_init calls one initialiser per part.
 *
 * The library works without shared_preload_libraries (counters are then
 * per backend); preloading adds the shared counters and, with a cluster,
 * the background worker.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "../paxos/paxos.h"

#include "fmgr.h"
#include "miscadmin.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Lets a query over a huge message be cancelled (codec.h). */
static void
sevo_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

void
_PG_init(void)
{
	sevo_define_gucs();
	codec_interrupt_hook = sevo_check_interrupts;
	sevo_cache_register_callbacks();
	sevo_stats_register_callbacks();

	if (process_shared_preload_libraries_in_progress)
	{
		sevo_stats_shmem_request();
		paxos_shmem_request();
		paxos_register_worker();
	}
}
