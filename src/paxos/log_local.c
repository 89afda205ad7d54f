/*-------------------------------------------------------------------------
 *
 * log_local.c
 *	  The log with a quorum of one: this node chooses every slot itself,
 *	  in the submitting backend's transaction.
 *
 * Invariants:
 *	- Slots are assigned under an EXCLUSIVE lock on schemaevo.log, so
 *	  concurrent submitters on this node get consecutive slots and apply
 *	  them in order.
 *	- The entry, its outcome and the registry change commit or roll back
 *	  together with the caller's transaction: a rolled-back registration
 *	  leaves no trace in the log.
 *	- Each command carries a fresh request id; resubmitting the same id
 *	  returns the outcome already recorded instead of applying twice.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "apply.h"
#include "log.h"

extern char *sevo_node_name;

/* A random 128-bit request id, in hex. */
static char *
paxos_new_request_id(void)
{
	uint8		bytes[16];
	char	   *hex = palloc(33);
	int			i;

	if (!pg_strong_random(bytes, sizeof(bytes)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random request id")));
	for (i = 0; i < 16; i++)
		sprintf(hex + 2 * i, "%02x", bytes[i]);
	return hex;
}

Jsonb *
paxos_submit(Jsonb *command)
{
	char	   *request_id = paxos_new_request_id();
	TimestampTz chosen_at = GetCurrentTimestamp();
	Oid			types[5] = {INT8OID, TEXTOID, JSONBOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[5];
	int64		slot;
	bool		isnull;
	Jsonb	   *outcome;
	MemoryContext callercxt = CurrentMemoryContext;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot change the schema registry on a hot standby"),
				 errhint("Register and promote schemas on the primary; standbys decode with what it applied.")));

	SPI_connect();
	if (SPI_execute("LOCK TABLE schemaevo.log IN EXCLUSIVE MODE", false, 0) < 0 ||
		SPI_execute("SELECT coalesce(max(slot), 0) + 1 FROM schemaevo.log",
					false, 1) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not assign a log slot");
	slot = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));

	values[0] = Int64GetDatum(slot);
	values[1] = CStringGetTextDatum(request_id);
	values[2] = JsonbPGetDatum(command);
	values[3] = CStringGetTextDatum(sevo_node_name ? sevo_node_name : "local");
	values[4] = TimestampTzGetDatum(chosen_at);
	if (SPI_execute_with_args("INSERT INTO schemaevo.log "
							  "(slot, request_id, command, proposed_by, chosen_at) "
							  "VALUES ($1, $2, $3, $4, $5)",
							  5, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "schemaevo: could not append to the log");

	outcome = paxos_apply(slot, command, TextDatumGetCString(values[3]),
						  chosen_at);
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		outcome = DatumGetJsonbPCopy(JsonbPGetDatum(outcome));
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();
	return outcome;
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
