/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Every configuration parameter of schemaevo, in one place.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include <limits.h>

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

	MarkGUCPrefixReserved("schemaevo");
}
