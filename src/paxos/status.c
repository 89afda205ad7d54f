/*-------------------------------------------------------------------------
 *
 * status.c
 *	  The cluster_status view: what the worker last learned of each member.
 *
 * The worker publishes member status in shared memory after every status
 * round (worker_catchup.c); this only copies it out under the shared lock.  Without
 * the worker (not preloaded) the node is a cluster of one and reports its
 * own applied slot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "paxos.h"
#include "paxos_int.h"

PG_FUNCTION_INFO_V1(paxos_cluster_status);

extern char *sevo_node_name;

#define STATUS_COLS 8

static void
paxos_status_row(ReturnSetInfo *rsinfo, const PaxosNodeStatus *st,
				 bool leader, int64 chosen_max)
{
	Datum		values[STATUS_COLS];
	bool		nulls[STATUS_COLS] = {0};

	values[0] = CStringGetTextDatum(st->name);
	values[1] = CStringGetTextDatum(st->conninfo);
	values[2] = BoolGetDatum(st->reachable);
	values[3] = Int64GetDatum(st->applied_slot);
	values[4] = CStringGetTextDatum(leader ? "leader" : "follower");
	values[5] = Int64GetDatum(Max(chosen_max - st->applied_slot, 0));
	values[6] = BoolGetDatum(st->voting);
	values[7] = BoolGetDatum(st->diverged);
	if (!st->reachable && !st->is_self)
	{
		nulls[3] = true;
		nulls[5] = true;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* SQL: cluster_status_internal() → setof record */
Datum
paxos_cluster_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PaxosNodeStatus nodes[PAXOS_MAX_MEMBERS];
	int			n;
	int64		chosen_max;
	int			leader_index;
	int			i;

	InitMaterializedSRF(fcinfo, 0);

	if (paxos_shared == NULL || paxos_shared->worker_pid == 0 || paxos_shared->nmembers == 0)
	{
		PaxosNodeStatus self = {0};

		SPI_connect();
		if (SPI_execute("SELECT applied_slot FROM schemaevo.node_state", true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
			self.applied_slot = strtoll(SPI_getvalue(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 1), NULL, 10);
		SPI_finish();
		strlcpy(self.name, sevo_node_name ? sevo_node_name : "local", NAMEDATALEN);
		self.is_self = true;
		self.reachable = true;
		self.voting = paxos_shared == NULL;
		paxos_status_row(rsinfo, &self, true, self.applied_slot);
		return (Datum) 0;
	}

	LWLockAcquire(paxos_shared->lock, LW_SHARED);
	n = paxos_shared->nmembers;
	memcpy(nodes, paxos_shared->nodes, sizeof(PaxosNodeStatus) * n);
	chosen_max = paxos_shared->chosen_max;
	leader_index = PAXOS_BALLOT_NODE(paxos_shared->leader_ballot);
	LWLockRelease(paxos_shared->lock);

	for (i = 0; i < n; i++)
		chosen_max = Max(chosen_max, nodes[i].applied_slot);
	for (i = 0; i < n; i++)
	{
		/* node indexes are 1-based in name order, as the array is */
		paxos_status_row(rsinfo, &nodes[i],
						 n == 1 || leader_index == i + 1, chosen_max);
	}
	return (Datum) 0;
}
