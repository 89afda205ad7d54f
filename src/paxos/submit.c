/*-------------------------------------------------------------------------
 *
 * submit.c
 *	  The backend's side of the log: hand a command to the worker through
 *	  shared memory and wait for its outcome, or, without the worker (not
 *	  preloaded), choose it inline as a cluster of one.
 *
 * Invariants:
 *	- Every command gets a fresh random request id before it leaves the
 *	  backend; the apply step applies an id at most once, so a command the
 *	  worker proposes twice (after a preempted ballot, a restart) is applied
 *	  once.
 *	- Through the worker, the change commits in the worker's transaction,
 *	  independently of the caller's; paxos_submit returns only after it is
 *	  chosen and applied on this node.
 *	- Inline, the entry, its outcome and the registry change commit or roll
 *	  back with the caller's transaction; slots are assigned under an
 *	  EXCLUSIVE lock on schemaevo.log.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "apply.h"
#include "paxos.h"
#include "paxos_int.h"

extern char *sevo_node_name;

/*
 * A random 128-bit request id, in hex.  The backend's generator is seeded
 * once from pg_strong_random: asking OpenSSL for every id cost a promotion
 * 7% of its backend CPU, and ids need uniqueness, not secrecy.
 */
static char *
paxos_new_request_id(void)
{
	static const char digits[] = "0123456789abcdef";
	static pg_prng_state state;
	static bool seeded = false;
	uint64		halves[2];
	char	   *hex = palloc(PAXOS_REQUEST_ID_LEN);
	int			i;

	if (!seeded)
	{
		uint64		seed[2];

		if (!pg_strong_random(seed, sizeof(seed)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random request id")));
		pg_prng_seed(&state, seed[0] ^ seed[1]);
		seeded = true;
	}
	halves[0] = pg_prng_uint64(&state);
	halves[1] = pg_prng_uint64(&state);
	for (i = 0; i < 32; i++)
		hex[i] = digits[(halves[i / 16] >> (4 * (i % 16))) & 0xF];
	hex[32] = '\0';
	return hex;
}

static Jsonb *
paxos_jsonb(const char *text)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

/*
 * This node's name as the cluster knows it (init_cluster's self), else
 * schemaevo.node_name: recorded as the origin of the commands it submits,
 * whichever node ends up proposing them.  The worker publishes the name it
 * loaded; before it has, and inline, cluster_self is read.
 */
static char *
paxos_self_name(void)
{
	char	   *name = NULL;

	if (paxos_shared != NULL)
	{
		LWLockAcquire(paxos_shared->lock, LW_SHARED);
		if (paxos_shared->self_name[0] != '\0')
			name = pstrdup(paxos_shared->self_name);
		LWLockRelease(paxos_shared->lock);
		if (name)
			return name;
	}
	SPI_connect();
	if (SPI_execute("SELECT node_name FROM schemaevo.cluster_self", true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
		name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	name = name ? MemoryContextStrdup(TopTransactionContext, name) : NULL;
	SPI_finish();
	return name ? name : (sevo_node_name ? sevo_node_name : "local");
}

/* True when commands are chosen inline, inside the caller's transaction. */
bool
paxos_is_inline(void)
{
	return paxos_shared == NULL;
}

/* Chooses `cmd` inline as a cluster of one; its outcome. */
static Jsonb *
paxos_submit_inline(Jsonb *cmd)
{
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			types[3] = {JSONBOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3];
	bool		isnull;
	int64		members;
	int64		slot;
	Jsonb	   *outcomes;
	Jsonb	   *value;
	JsonbValue *first;
	Jsonb	   *result;

	values[0] = JsonbPGetDatum(cmd);
	values[1] = CStringGetTextDatum(sevo_node_name ? sevo_node_name : "local");
	values[2] = TimestampTzGetDatum(GetCurrentTimestamp());

	SPI_connect();

	/*
	 * A member of a cluster of several started without the log worker (a
	 * missing shared_preload_libraries, the restore procedure of
	 * docs/cluster.md) must not choose alone: its peers would fetch the
	 * entry as chosen while they choose another value for that slot.
	 */
	if (SPI_execute("SELECT count(*) FROM schemaevo.cluster_members", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not read schemaevo.cluster_members");
	members = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
	if (members > 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this server is a member of a cluster of " INT64_FORMAT " nodes, but its log worker is not running", members),
				 errdetail("Without shared_preload_libraries = 'schemaevo' a registry change would be chosen here alone, without the other members."),
				 errhint("Add schemaevo to shared_preload_libraries and restart the server.")));

	if (SPI_execute("LOCK TABLE schemaevo.log IN EXCLUSIVE MODE", false, 0) < 0 ||
		SPI_execute("SELECT coalesce(max(slot), 0) + 1 FROM schemaevo.log",
					false, 1) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not assign a log slot");
	slot = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
	if (SPI_execute_with_args("SELECT jsonb_build_object('proposed_by', $2::text, "
							  "  'proposed_at', $3::timestamptz, 'commands', jsonb_build_array($1))",
							  3, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not build a log value");
	value = DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1, &isnull));
	paxos_log_insert(slot, value);
	outcomes = paxos_apply(slot, NULL);

	first = getIthJsonbValueFromContainer(&outcomes->root, 0);
	MemoryContextSwitchTo(callercxt);
	result = JsonbValueToJsonb(first);
	SPI_finish();
	return result;
}

/*
 * The members the worker last reached, and how many of those vote: a
 * reachable node that is still catching up (a new or wiped one) counts for
 * no majority, and the error must not suggest that it does.
 */
static int
paxos_reachable_nodes(int *total, int *voting)
{
	int			n = 0;
	int			i;

	*voting = 0;
	LWLockAcquire(paxos_shared->lock, LW_SHARED);
	*total = Max(paxos_shared->nmembers, 1);
	for (i = 0; i < paxos_shared->nmembers; i++)
		if (paxos_shared->nodes[i].reachable)
		{
			n++;
			if (paxos_shared->nodes[i].voting)
				(*voting)++;
		}
	LWLockRelease(paxos_shared->lock);
	return Max(n, 1);
}

/* Hands `text` (request id `id`) to the worker and waits for its outcome. */
static Jsonb *
paxos_submit_queued(const char *text, int len, const char *id)
{
	/* volatile: read in PG_FINALLY after a longjmp */
	PaxosRequest *volatile r = NULL;
	Oid			dbid;
	int			i;
	TimestampTz deadline;
	char		outcome[PAXOS_MAX_OUTCOME];
	volatile bool done = false;
	dsm_segment *volatile seg = NULL;

	if (len >= PAXOS_MAX_COMMAND)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("log command of %d bytes exceeds the limit of %d bytes",
						len, PAXOS_MAX_COMMAND - 1),
				 errhint("Schema definitions are limited to 1 MB.")));

	if (len >= PAXOS_INLINE_COMMAND)
	{
		seg = dsm_create(len + 1, 0);
		memcpy(dsm_segment_address(seg), text, len + 1);
	}

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   paxos_request_timeout);
	for (;;)
	{
		LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
		dbid = paxos_shared->dbid;
		if (dbid == MyDatabaseId)
		{
			for (i = 0; i < PAXOS_QUEUE_SIZE; i++)
				if (paxos_shared->requests[i].state == PRQ_FREE)
				{
					r = &paxos_shared->requests[i];
					r->state = PRQ_QUEUED;
					r->dbid = MyDatabaseId;
					r->procno = MyProc->pgprocno;
					r->command_len = len;
					strlcpy(r->request_id, id, sizeof(r->request_id));
					if (seg)
						r->command = dsm_segment_handle(seg);
					else
					{
						r->command = DSM_HANDLE_INVALID;
						memcpy(r->inline_command, text, len + 1);
					}
					r->outcome[0] = '\0';
					break;
				}
		}
		LWLockRelease(paxos_shared->lock);

		/* a worker (re)starting after a crash or a new database: wait for it */
		if (dbid != InvalidOid || GetCurrentTimestamp() >= deadline)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 50L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	if (dbid != MyDatabaseId)
	{
		char	   *mine = get_database_name(MyDatabaseId);

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 dbid == InvalidOid
				 ? errmsg("the schemaevo log worker is not running in this database")
				 : errmsg("the schemaevo registry of this server lives in another database"),
				 errdetail("schemaevo.database is \"%s\"; this is \"%s\".",
						   paxos_database, mine ? mine : "?"),
				 errhint("Register and promote in database \"%s\", where the log worker runs.",
						 paxos_database)));
	}
	if (r == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many registrations and promotions waiting (%d)",
						PAXOS_QUEUE_SIZE)));
	paxos_wake_worker();

	PG_TRY();
	{
		ConditionVariablePrepareToSleep(&r->cv);
		for (;;)
		{
			TimestampTz now = GetCurrentTimestamp();

			LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
			if (r->state == PRQ_DONE)
			{
				strlcpy(outcome, r->outcome, sizeof(outcome));
				r->state = PRQ_FREE;
				done = true;
			}
			LWLockRelease(paxos_shared->lock);
			if (done || now >= deadline)
				break;
			(void) ConditionVariableTimedSleep(&r->cv,
											   TimestampDifferenceMilliseconds(now, deadline),
											   PG_WAIT_EXTENSION);
		}
		ConditionVariableCancelSleep();
	}
	PG_FINALLY();
	{
		if (!done)
		{
			LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
			if (r->state == PRQ_QUEUED)
				r->state = PRQ_FREE;	/* the worker never saw it */
			else if (r->state == PRQ_DONE)
				r->state = PRQ_FREE;
			else if (r->state == PRQ_TAKEN)
				r->state = PRQ_ABANDONED;
			LWLockRelease(paxos_shared->lock);
		}
		if (seg)
			dsm_detach(seg);
	}
	PG_END_TRY();

	if (!done)
	{
		int			total;
		int			voting;
		int			reachable = paxos_reachable_nodes(&total, &voting);

		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("the log did not choose the command within schemaevo.request_timeout (%d ms)",
						paxos_request_timeout),
				 voting < reachable
				 ? errdetail("%d of %d nodes are reachable, %d of them voting (a node that is catching up does not vote); a majority of %d is needed.",
							 reachable, total, voting, total / 2 + 1)
				 : errdetail("%d of %d nodes are reachable; a majority of %d is needed.",
							 reachable, total, total / 2 + 1),
				 errhint("The command may still be chosen later; check schemaevo.promotion_history and schemaevo.cluster_status.")));
	}
	return paxos_jsonb(outcome);
}

/*
 * Submits `command`, the JSON text of an object the caller built (keys
 * other than request_id and origin), and returns its outcome.  The text
 * is extended, not parsed: a promotion never becomes jsonb in the backend.
 */
Jsonb *
paxos_submit(const char *command)
{
	StringInfoData cmd;
	char	   *id;
	int			len = strlen(command);

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot change the schema registry on a hot standby"),
				 errhint("Register and promote schemas on a primary; standbys decode with what it applied.")));

	Assert(len >= 2 && command[0] == '{' && command[len - 1] == '}');
	id = paxos_new_request_id();
	initStringInfo(&cmd);
	appendBinaryStringInfo(&cmd, command, len - 1);
	appendStringInfo(&cmd, ", \"request_id\": \"%s\", \"origin\": ", id);
	escape_json(&cmd, paxos_self_name());
	appendStringInfoChar(&cmd, '}');

	if (paxos_is_inline())
	{
		int			nest = paxos_pin_search_path();
		Jsonb	   *outcome = paxos_submit_inline(paxos_jsonb(cmd.data));

		paxos_unpin_search_path(nest);
		return outcome;
	}
	return paxos_submit_queued(cmd.data, cmd.len, id);
}

/* The string member `key` of a jsonb object, or NULL. */
static char *
paxos_outcome_member(Jsonb *outcome, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&outcome->root, key,
												 strlen(key), NULL);

	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

void
paxos_raise_outcome(Jsonb *outcome)
{
	JsonbValue *ok = getKeyJsonValueFromContainer(&outcome->root, "ok", 2, NULL);
	char	   *sqlstate;
	char	   *message;
	char	   *hint;

	if (ok && ok->type == jbvBool && ok->val.boolean)
		return;
	sqlstate = paxos_outcome_member(outcome, "sqlstate");
	message = paxos_outcome_member(outcome, "message");
	hint = paxos_outcome_member(outcome, "hint");
	if (sqlstate == NULL || strlen(sqlstate) != 5)
		sqlstate = "XX000";
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
								   sqlstate[3], sqlstate[4])),
			 errmsg("%s", message ? message : "log command failed"),
			 hint ? errhint("%s", hint) : 0));
}
