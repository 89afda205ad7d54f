/*-------------------------------------------------------------------------
 *
 * apply.h
 *	  The state machine: applies one chosen log entry to the registry.
 *
 * paxos_apply() is the ONLY code that writes schemaevo.schemas,
 * schemaevo.active_schemas and schemaevo.promotions.  It reads nothing but
 * the entry and the registry, so every node that applies the same log gets
 * identical tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PAXOS_APPLY_H
#define PAXOS_APPLY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

/*
 * A log value is {"proposed_by": node, "proposed_at": timestamptz,
 * "commands": [{"request_id": id, "op": "register" | "promote", ...}]}; an
 * empty command list is a no-op (filling a slot a failed leader left open).
 * All three functions run inside the caller's transaction, connected to SPI.
 */

/* Records the value chosen for `slot`; errors if a different one was. */
extern void paxos_log_insert(int64 slot, Jsonb *value);

/* schemaevo.log: slot, value, proposed_by, chosen_at, outcome, digest */
#define PAXOS_LOG_NATTS 6

/* The columns of a new log row for `value` (a jsonb) chosen in `slot`. */
extern void paxos_log_row(int64 slot, Datum value, Datum *values, bool *nulls);

/*
 * Applies log entry `slot`, which must be the slot after applied_slot:
 * every command in order, each request id at most once ever.  A command
 * the registry refuses (unknown schema, version taken) changes nothing and
 * its error becomes its outcome.  Records the outcomes, the digest chain
 * and applied_slot, and drops acceptor state up to `slot`.  Returns the
 * outcomes, a jsonb array; `next_slot`, when not NULL, gets the first log
 * slot after `slot` (0: none), so an applier learns whether to go on
 * without another query.
 */
extern Jsonb *paxos_apply(int64 slot, int64 *next_slot);

#endif							/* PAXOS_APPLY_H */
