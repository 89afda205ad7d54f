/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The replicated log's settings.  They are registered as GUCs, with
 *	  every other schemaevo setting, in src/pg/guc.c; the values below are
 *	  the defaults until then.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "paxos.h"

char	   *paxos_database = NULL;
int			paxos_request_timeout = 10000;
int			paxos_peer_timeout = 1000;
int			paxos_connect_timeout = 2000;
int			paxos_catchup_interval = 500;
int			paxos_batch_size = 64;
int			paxos_batch_wait = 2;
