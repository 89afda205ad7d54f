/*-------------------------------------------------------------------------
 *
 * rows.h
 *	  Direct row access for the apply step: primary-key lookups, inserts
 *	  and updates of the registry tables without planning or running a
 *	  statement.
 *
 * The apply step writes a handful of rows per promotion on every node;
 * through SQL, the executor start-up of the statement cost more than the
 * writes themselves.  These calls go to the table and index AMs the way
 * logical replication's apply worker does (ExecSimpleRelationInsert and
 * friends), so constraints, indexes and the foreign-key triggers behave as
 * for an INSERT or UPDATE statement.
 *
 * Usage, inside a transaction with an active snapshot:
 *	paxos_rows_begin(&r);
 *	t = paxos_rows_open(&r, "active_schemas", true);
 *	if (paxos_rows_fetch(&r, t, key)) ... paxos_rows_update(&r, t, values, nulls);
 *	else ... paxos_rows_insert(&r, t, values, nulls);
 *	paxos_rows_end(&r);		(fires the AFTER triggers, makes the writes
 *							 visible to the next statement)
 * Lookups read the latest committed state plus this transaction's writes
 * up to paxos_rows_begin(); they do not see rows written through the same
 * PaxosRows, so callers keep what they wrote themselves.  Only one applier
 * runs at a time (node_state is locked), so nothing changes under it but
 * acceptor_slots, which the acceptor writes (see
 * paxos_rows_delete_unless_changed).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PAXOS_ROWS_H
#define PAXOS_ROWS_H

#include "postgres.h"

#include "executor/executor.h"
#include "utils/rel.h"

#define PAXOS_ROWS_MAX_TABLES 4

/* One table of schemaevo, with its primary key. */
typedef struct PaxosTable
{
	Relation	rel;
	Relation	pkey;
	ResultRelInfo *rri;			/* NULL when opened for reading only */
	TupleTableSlot *found;		/* the row paxos_rows_fetch() found */
	TupleTableSlot *slot;		/* the new row of an insert or update */
} PaxosTable;

typedef struct PaxosRows
{
	EState	   *estate;
	Snapshot	snapshot;
	int			ntables;
	PaxosTable	tables[PAXOS_ROWS_MAX_TABLES];
} PaxosRows;

extern void paxos_rows_begin(PaxosRows *r);
extern PaxosTable *paxos_rows_open(PaxosRows *r, const char *relname, bool write);
extern bool paxos_rows_fetch(PaxosRows *r, PaxosTable *t, Datum key);
extern bool paxos_rows_fetch_int8(PaxosRows *r, PaxosTable *t, int64 key);
extern bool paxos_rows_fetch_single(PaxosRows *r, PaxosTable *t);
extern bool paxos_rows_fetch_last(PaxosRows *r, PaxosTable *t);
extern bool paxos_rows_fetch_after(PaxosRows *r, PaxosTable *t, int64 after);
extern bool paxos_rows_fetch_tid(PaxosRows *r, PaxosTable *t, ItemPointer tid);
extern Datum paxos_rows_get(PaxosTable *t, int attnum, bool *isnull);
extern void paxos_rows_insert(PaxosRows *r, PaxosTable *t, Datum *values, bool *nulls);
extern bool paxos_rows_insert_if_absent(PaxosRows *r, PaxosTable *t, Datum *values,
										bool *nulls);
extern void paxos_rows_update(PaxosRows *r, PaxosTable *t, Datum *values, bool *nulls);
extern bool paxos_rows_lock(PaxosRows *r, PaxosTable *t);
extern bool paxos_rows_delete_unless_changed(PaxosRows *r, PaxosTable *t);
extern void paxos_rows_end(PaxosRows *r);

#endif							/* PAXOS_ROWS_H */
