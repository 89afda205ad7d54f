/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Every configuration parameter of schemaevo, in one place.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "../paxos/paxos.h"

#include <limits.h>

#include "miscadmin.h"

#include "utils/guc.h"

int			sevo_version_mismatch = SEVO_MISMATCH_AUTO;
int			sevo_tenant_cache_size = 100000;
char	   *sevo_node_name = NULL;

static const struct config_enum_entry sevo_mismatch_options[] = {
	{"auto", SEVO_MISMATCH_AUTO, false},
	{"upward", SEVO_MISMATCH_UPWARD, false},
	{"downward", SEVO_MISMATCH_DOWNWARD, false},
	{"reject", SEVO_MISMATCH_REJECT, false},
	{NULL, 0, false}
};

/*
 * Defines the GUCs.  Called once from _PG_init, whether or not the library
 * is preloaded.
 */
void
sevo_define_gucs(void)
{
	DefineCustomEnumVariable("schemaevo.version_mismatch",
							 "Sets how a message whose version differs from the tenant's active version is decoded.",
							 "auto reads older messages through their own offset map and newer ones through the active map; "
							 "upward accepts only newer messages, downward only older ones, reject neither.",
							 &sevo_version_mismatch,
							 SEVO_MISMATCH_AUTO,
							 sevo_mismatch_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("schemaevo.tenant_cache_size",
							"Sets the maximum number of tenants whose active schema a backend caches.",
							"When the cache is full it is emptied, so backend memory stays bounded whatever the number of tenants.",
							&sevo_tenant_cache_size,
							100000,
							16,
							INT_MAX / 2,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("schemaevo.node_name",
							   "Sets the name this node records as the proposer of log entries.",
							   NULL,
							   &sevo_node_name,
							   "local",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);

	/* a postmaster setting can only be defined while preloading */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("schemaevo.database",
								   "Sets the database whose schemaevo registry the log worker maintains.",
								   NULL,
								   &paxos_database,
								   "postgres",
								   PGC_POSTMASTER,
								   0,
								   NULL, NULL, NULL);

	DefineCustomIntVariable("schemaevo.request_timeout",
							"Sets how long register_schema and promote_schema wait for the log to choose.",
							NULL,
							&paxos_request_timeout,
							10000, 100, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("schemaevo.peer_timeout",
							"Sets how long the log worker waits for peers in one protocol round.",
							NULL,
							&paxos_peer_timeout,
							1000, 10, INT_MAX / 4,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("schemaevo.connect_timeout",
							"Sets how long the log worker waits for a connection to a peer.",
							NULL,
							&paxos_connect_timeout,
							2000, 10, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("schemaevo.catchup_interval",
							"Sets how often the log worker exchanges status with its peers and catches up.",
							NULL,
							&paxos_catchup_interval,
							500, 10, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("schemaevo.batch_size",
							"Sets the most commands the log worker puts in one log slot.",
							NULL,
							&paxos_batch_size,
							64, 1, PAXOS_BATCH_MAX,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("schemaevo.batch_wait",
							"Sets how long the leader waits for the requests it just answered to come back before proposing a smaller batch.",
							"0 proposes whatever is pending at once.",
							&paxos_batch_wait,
							2, 0, 100,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("schemaevo");
}
