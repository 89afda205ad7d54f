/*-------------------------------------------------------------------------
 *
 * worker_support.c
 *	  The log worker's transactions, its hold on the extension, and the
 *	  helpers that read the jsonb replies of peers and acceptors.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "paxos.h"
#include "paxos_int.h"
#include "worker_int.h"

/* the caller's memory context, around a transaction of ours */
static MemoryContext pw_outer_cxt;

/*
 * The extension whose tables this worker uses, and its node_state table:
 * a relcache invalidation of that table (or of every relation) is the
 * sign that the extension may have been dropped.
 */
static Oid	pw_extension_oid = InvalidOid;
static Oid	pw_watched_relid = InvalidOid;
static bool pw_extension_check = false;
static bool pw_extension_watched = false;	/* the callback is registered */

static void
pw_relcache_changed(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == pw_watched_relid)
		pw_extension_check = true;
}

/*
 * Holds the extension for the current transaction.  DROP EXTENSION locks
 * the extension before its objects, so it waits for us instead of dropping
 * the tables under a statement of ours; a drop that committed before shows
 * in the invalidations the lock acquisition reads.  Then the log worker
 * restarts, to wait for the extension to be created again: its state (the
 * membership, the applied slot, the requests it took) belonged to the
 * dropped tables.
 */
static void
pw_hold_extension(void)
{
	LockDatabaseObject(ExtensionRelationId, pw_extension_oid, 0, AccessShareLock);
	if (!pw_extension_check)
		return;
	pw_extension_check = false;
	if (get_extension_name(pw_extension_oid) != NULL)
		return;
	ereport(LOG,
			(errmsg("schemaevo: extension \"schemaevo\" was dropped, the log worker restarts"),
			 errdetail("It waits for the extension to be created again in database \"%s\".",
					   get_database_name(MyDatabaseId))));
	proc_exit(1);
}

/*
 * Whether the extension exists; if so, starts watching it
 * (pw_hold_extension).  The callback is registered before the first look,
 * so that no drop can fall between the look and the watch.
 */
bool
pw_extension_ready(void)
{
	Oid			ext;
	Oid			nsp;

	if (!pw_extension_watched)
	{
		CacheRegisterRelcacheCallback(pw_relcache_changed, (Datum) 0);
		pw_extension_watched = true;
	}
	pw_begin();
	ext = get_extension_oid("schemaevo", true);
	/* schemaevo.control fixes the schema */
	nsp = OidIsValid(ext) ? get_namespace_oid("schemaevo", true) : InvalidOid;
	if (OidIsValid(nsp))
	{
		pw_watched_relid = get_relname_relid("node_state", nsp);
		pw_extension_oid = ext;
	}
	pw_commit();
	return OidIsValid(pw_extension_oid);
}

/*
 * A transaction of its own, connected to SPI.  pw_commit() returns to the
 * memory context that was current at pw_begin(); copy results out with
 * pw_copy() or pw_strdup() before committing.
 */
void
pw_begin(void)
{
	pw_outer_cxt = CurrentMemoryContext;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (OidIsValid(pw_extension_oid))
		pw_hold_extension();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
}

void
pw_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(pw_outer_cxt);
}

/* Copies a string out of the transaction, for use after pw_commit(). */
char *
pw_strdup(const char *s)
{
	return MemoryContextStrdup(pw_outer_cxt, s);
}

/* Copies a jsonb out of the transaction, for use after pw_commit(). */
Jsonb *
pw_copy(Jsonb *j)
{
	Jsonb	   *c = MemoryContextAlloc(pw_outer_cxt, VARSIZE(j));

	memcpy(c, j, VARSIZE(j));
	return c;
}

Jsonb *
pw_parse(const char *text)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

char *
pw_text(Jsonb *j)
{
	return JsonbToCString(NULL, &j->root, VARSIZE(j));
}

/* Member `key` of an object; NULL when absent or `j` is not an object. */
JsonbValue *
pw_get(Jsonb *j, const char *key)
{
	if (!JB_ROOT_IS_OBJECT(j))
		return NULL;
	return getKeyJsonValueFromContainer(&j->root, key, strlen(key), NULL);
}

/*
 * The log value in member "value" of an entry a peer sent (paxos_fetch,
 * a promise's acceptances).  A peer that sends none is not ignored: in a
 * promise, that value could be the chosen one.
 */
Jsonb *
pw_get_log_value(Jsonb *entry)
{
	JsonbValue *v = pw_get(entry, "value");

	if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("schemaevo: a peer sent a log entry without a value"),
				 errdetail("The entry was: %s.", pw_text(entry))));
	return JsonbValueToJsonb(v);
}

int64
pw_get_int(Jsonb *j, const char *key)
{
	JsonbValue *v = pw_get(j, key);

	if (v == NULL || v->type != jbvNumeric)
		return 0;
	return DatumGetInt64(DirectFunctionCall1(numeric_int8,
											 NumericGetDatum(v->val.numeric)));
}

bool
pw_get_bool(Jsonb *j, const char *key)
{
	JsonbValue *v = pw_get(j, key);

	return v != NULL && v->type == jbvBool && v->val.boolean;
}

char *
pw_get_string(Jsonb *j, const char *key)
{
	JsonbValue *v = pw_get(j, key);

	if (v == NULL || v->type != jbvString)
		return "";
	return pnstrdup(v->val.string.val, v->val.string.len);
}

void
pw_saw_promise(int64 promised)
{
	if (promised > pw.max_promise)
		pw.max_promise = promised;
}

/*
 * The request id of a command (jsonb text), copied into the current
 * context; the parse itself is left to the transaction the caller is in.
 */
char *
pw_request_id(const char *command)
{
	MemoryContext keep = MemoryContextSwitchTo(TopTransactionContext);
	char	   *id = pw_get_string(pw_parse(command), "request_id");

	MemoryContextSwitchTo(keep);
	return pstrdup(id);
}
