/*-------------------------------------------------------------------------
 *
 * rows.c
 *	  Direct row access for the apply step (see rows.h).
 *
 * Invariants:
 *	- Every write goes through ExecSimpleRelationInsert/Update, so NOT NULL
 *	  and CHECK constraints, every index (unique ones included) and the
 *	  AFTER ROW triggers (the foreign key of active_schemas) behave as for
 *	  a statement; the triggers fire in paxos_rows_end().
 *	- Lookups use one snapshot, taken at paxos_rows_begin() after the
 *	  writes of earlier statements of the transaction (a command counter
 *	  increment makes them visible); writes made through
 *	  the same PaxosRows carry its command id and are not seen by it.
 *	- No privilege checks: only the apply step calls this, on the
 *	  extension's own tables, as the extension's owner would.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "storage/lmgr.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "rows.h"

/* Starts a batch of lookups and writes in the current transaction. */
void
paxos_rows_begin(PaxosRows *r)
{
	memset(r, 0, sizeof(*r));
	/* what the transaction's earlier statements wrote is looked up too */
	CommandCounterIncrement();
	r->estate = CreateExecutorState();
	r->estate->es_output_cid = GetCurrentCommandId(true);
	r->snapshot = RegisterSnapshot(GetLatestSnapshot());
	r->estate->es_snapshot = r->snapshot;
	AfterTriggerBeginQuery();
}

/*
 * Opens schemaevo.`relname` and its primary key, for writing or for
 * lookups only.  The locks are held to the end of the transaction.
 */
PaxosTable *
paxos_rows_open(PaxosRows *r, const char *relname, bool write)
{
	LOCKMODE	lock = write ? RowExclusiveLock : AccessShareLock;
	PaxosTable *t;
	Oid			relid;
	Oid			pkey;

	if (r->ntables >= PAXOS_ROWS_MAX_TABLES)
		elog(ERROR, "schemaevo: too many tables in one row batch");
	relid = get_relname_relid(relname, get_namespace_oid("schemaevo", false));
	if (!OidIsValid(relid))
		elog(ERROR, "schemaevo: table schemaevo.%s is missing", relname);
	t = &r->tables[r->ntables++];
	t->rel = table_open(relid, lock);
	pkey = RelationGetPrimaryKeyIndex(t->rel);
	if (!OidIsValid(pkey))
		elog(ERROR, "schemaevo: table schemaevo.%s has no primary key", relname);
	t->pkey = index_open(pkey, lock);
	t->found = table_slot_create(t->rel, &r->estate->es_tupleTable);
	if (write)
	{
		/*
		 * Not in a range table (index 0): the executor then has no column
		 * lists to check, which only the triggers' column filters and the
		 * detail of a constraint violation would use.  Listing the result
		 * relation is what lets AfterTriggerEndQuery() find it.
		 */
		t->rri = makeNode(ResultRelInfo);
		InitResultRelInfo(t->rri, t->rel, 0, NULL, 0);
		r->estate->es_opened_result_relations =
			lappend(r->estate->es_opened_result_relations, t->rri);
		/* speculative: paxos_rows_insert_if_absent() needs the unique ops */
		ExecOpenIndices(t->rri, true);
		t->slot = ExecInitExtraTupleSlot(r->estate, RelationGetDescr(t->rel),
										 &TTSOpsVirtual);
	}
	return t;
}

/*
 * The first row of the primary key index in `dir` that matches `skey` (none
 * when nkeys is 0), into t->found.
 */
static bool
paxos_rows_first(PaxosRows *r, PaxosTable *t, ScanKey skey, int nkeys,
				 ScanDirection dir)
{
	IndexScanDesc scan;
	bool		found;

	scan = index_beginscan(t->rel, t->pkey, r->snapshot, nkeys, 0);
	index_rescan(scan, skey, nkeys, NULL, 0);
	found = index_getnext_slot(scan, dir, t->found);
	index_endscan(scan);
	if (!found)
		ExecClearTuple(t->found);
	return found;
}

/* Looks up the row whose primary key's first column equals `key` by `eqproc`. */
static bool
paxos_rows_lookup(PaxosRows *r, PaxosTable *t, Datum key, RegProcedure eqproc)
{
	ScanKeyData skey;

	ScanKeyEntryInitialize(&skey, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   t->pkey->rd_indcollation[0], eqproc, key);
	return paxos_rows_first(r, t, &skey, 1, ForwardScanDirection);
}

/*
 * Looks up the row whose primary key's first column, a text, equals `key`
 * (the whole key for every table this is used on).  The row stays in
 * t->found until the next fetch from `t`.
 */
bool
paxos_rows_fetch(PaxosRows *r, PaxosTable *t, Datum key)
{
	Assert(TupleDescAttr(RelationGetDescr(t->pkey), 0)->atttypid == TEXTOID);
	return paxos_rows_lookup(r, t, key, F_TEXTEQ);
}

/* The same, for a primary key of one bigint. */
bool
paxos_rows_fetch_int8(PaxosRows *r, PaxosTable *t, int64 key)
{
	Assert(TupleDescAttr(RelationGetDescr(t->pkey), 0)->atttypid == INT8OID);
	return paxos_rows_lookup(r, t, Int64GetDatum(key), F_INT8EQ);
}

/* The row of a table of one row (primary key: a bool, true). */
bool
paxos_rows_fetch_single(PaxosRows *r, PaxosTable *t)
{
	Assert(TupleDescAttr(RelationGetDescr(t->pkey), 0)->atttypid == BOOLOID);
	return paxos_rows_lookup(r, t, BoolGetDatum(true), F_BOOLEQ);
}

/*
 * The row with the highest bigint key, or false when the table is empty;
 * the one index descent of max(slot).
 */
bool
paxos_rows_fetch_last(PaxosRows *r, PaxosTable *t)
{
	Assert(TupleDescAttr(RelationGetDescr(t->pkey), 0)->atttypid == INT8OID);
	return paxos_rows_first(r, t, NULL, 0, BackwardScanDirection);
}

/* The first row whose bigint key is above `after`, in key order. */
bool
paxos_rows_fetch_after(PaxosRows *r, PaxosTable *t, int64 after)
{
	ScanKeyData skey;

	Assert(TupleDescAttr(RelationGetDescr(t->pkey), 0)->atttypid == INT8OID);
	ScanKeyEntryInitialize(&skey, 0, 1, BTGreaterStrategyNumber, InvalidOid,
						   InvalidOid, F_INT8GT, Int64GetDatum(after));
	return paxos_rows_first(r, t, &skey, 1, ForwardScanDirection);
}

/* The row version `tid` of `t`, when the batch's snapshot sees it. */
bool
paxos_rows_fetch_tid(PaxosRows *r, PaxosTable *t, ItemPointer tid)
{
	if (table_tuple_fetch_row_version(t->rel, tid, r->snapshot, t->found))
		return true;
	ExecClearTuple(t->found);
	return false;
}

/* Column `attnum` of the row the last fetch found. */
Datum
paxos_rows_get(PaxosTable *t, int attnum, bool *isnull)
{
	return slot_getattr(t->found, attnum, isnull);
}

/* Fills t->slot with a whole row. */
static void
paxos_rows_fill(PaxosTable *t, Datum *values, bool *nulls)
{
	int			natts = RelationGetDescr(t->rel)->natts;

	Assert(t->rri != NULL);
	ExecClearTuple(t->slot);
	memcpy(t->slot->tts_values, values, natts * sizeof(Datum));
	memcpy(t->slot->tts_isnull, nulls, natts * sizeof(bool));
	ExecStoreVirtualTuple(t->slot);
}

/* Inserts a row of every column of `t`, in column order. */
void
paxos_rows_insert(PaxosRows *r, PaxosTable *t, Datum *values, bool *nulls)
{
	paxos_rows_fill(t, values, nulls);
	ExecSimpleRelationInsert(t->rri, r->estate, t->slot);
	ResetPerTupleExprContext(r->estate);
}

/*
 * Inserts a row unless one with the same primary key exists or is being
 * inserted: INSERT ... ON CONFLICT DO NOTHING, by the same speculative
 * insertion, so a concurrent inserter of the same key is waited for and
 * neither fails.  Returns whether the row went in.  No triggers: only for
 * tables that have none.
 */
bool
paxos_rows_insert_if_absent(PaxosRows *r, PaxosTable *t, Datum *values, bool *nulls)
{
	List	   *arbiters = list_make1_oid(RelationGetRelid(t->pkey));
	TransactionId xid = GetCurrentTransactionId();

	Assert(t->rel->trigdesc == NULL);
	paxos_rows_fill(t, values, nulls);
	if (t->rel->rd_att->constr)
		ExecConstraints(t->rri, t->slot, r->estate);
	for (;;)
	{
		ItemPointerData conflict;
		uint32		token;
		bool		clash = false;

		/* waits for an inserter of the same key still in progress */
		if (!ExecCheckIndexConstraints(t->rri, t->slot, r->estate, &conflict, arbiters))
			break;
		token = SpeculativeInsertionLockAcquire(xid);
		table_tuple_insert_speculative(t->rel, t->slot, r->estate->es_output_cid, 0, NULL,
									   token);
		(void) ExecInsertIndexTuples(t->rri, t->slot, r->estate, false, true, &clash, arbiters);
		table_tuple_complete_speculative(t->rel, t->slot, token, !clash);
		SpeculativeInsertionLockRelease(xid);
		if (!clash)
		{
			ResetPerTupleExprContext(r->estate);
			return true;
		}
		/* someone inserted the key meanwhile: the check now sees it */
	}
	ResetPerTupleExprContext(r->estate);
	return false;
}

/* Replaces the row the last fetch from `t` found. */
void
paxos_rows_update(PaxosRows *r, PaxosTable *t, Datum *values, bool *nulls)
{
	EPQState	epq;

	Assert(!TTS_EMPTY(t->found));
	paxos_rows_fill(t, values, nulls);
	/* no BEFORE triggers on our tables, so no rechecks: an empty state */
	EvalPlanQualInit(&epq, r->estate, NULL, NIL, -1);
	ExecSimpleRelationUpdate(t->rri, r->estate, &epq, t->found, t->slot);
	EvalPlanQualEnd(&epq);
	ResetPerTupleExprContext(r->estate);
}

/*
 * Locks the row the last fetch from `t` found, as SELECT ... FOR UPDATE
 * does, waiting for a transaction that holds it.  At READ COMMITTED a row
 * updated meanwhile is followed to its latest version, which then is
 * t->found; at REPEATABLE READ or above that is a serialization failure.
 * Returns false when the row was deleted meanwhile.
 */
bool
paxos_rows_lock(PaxosRows *r, PaxosTable *t)
{
	ItemPointerData tid = t->found->tts_tid;
	TM_FailureData tmfd;
	TM_Result	result;

	Assert(!TTS_EMPTY(t->found));
	result = table_tuple_lock(t->rel, &tid, r->snapshot, t->found,
							  r->estate->es_output_cid, LockTupleExclusive,
							  LockWaitBlock,
							  IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
							  &tmfd);
	switch (result)
	{
		case TM_Ok:
			return true;
		case TM_Updated:
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update")));
			ExecClearTuple(t->found);
			return false;
		default:
			elog(ERROR, "schemaevo: unexpected result %d locking a row of %s",
				 (int) result, RelationGetRelationName(t->rel));
	}
	return false;				/* keep the compiler quiet */
}

/*
 * Deletes the row the last fetch from `t` found, unless another transaction
 * updated or deleted it since the batch's snapshot (one still in progress
 * is waited for); returns whether it did.  The apply step drops
 * acceptances this way: an acceptor may take a slot again, in a higher
 * ballot, while the slot is being applied, and that newer acceptance is
 * left for the next apply to drop.  No triggers: only for tables that have
 * none.
 */
bool
paxos_rows_delete_unless_changed(PaxosRows *r, PaxosTable *t)
{
	TM_FailureData tmfd;
	TM_Result	result;

	Assert(!TTS_EMPTY(t->found) && t->rri != NULL && t->rel->trigdesc == NULL);
	result = table_tuple_delete(t->rel, &t->found->tts_tid, r->estate->es_output_cid,
								r->snapshot, InvalidSnapshot, true, &tmfd, false);
	switch (result)
	{
		case TM_Ok:
			return true;
		case TM_Updated:
		case TM_Deleted:
			return false;
		default:
			elog(ERROR, "schemaevo: unexpected result %d deleting a row of %s",
				 (int) result, RelationGetRelationName(t->rel));
	}
	return false;				/* keep the compiler quiet */
}

/*
 * Fires the queued AFTER triggers (foreign-key checks), releases what the
 * batch held but the locks, and makes its writes visible to what follows.
 */
void
paxos_rows_end(PaxosRows *r)
{
	int			i;

	AfterTriggerEndQuery(r->estate);
	for (i = 0; i < r->ntables; i++)
		if (r->tables[i].rri)
			ExecCloseIndices(r->tables[i].rri);
	ExecResetTupleTable(r->estate->es_tupleTable, false);
	FreeExecutorState(r->estate);
	for (i = 0; i < r->ntables; i++)
	{
		index_close(r->tables[i].pkey, NoLock);
		table_close(r->tables[i].rel, NoLock);
	}
	UnregisterSnapshot(r->snapshot);
	CommandCounterIncrement();
}
