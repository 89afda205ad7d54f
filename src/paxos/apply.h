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
 * Applies the entry chosen for `slot` (which must be the slot after the
 * node's applied_slot) inside the current transaction, records its
 * outcome in schemaevo.log and advances applied_slot.  A command that
 * fails deterministically (unknown schema, version taken) is rolled back
 * to a no-op and its error kept as the outcome.  Caller is connected to
 * SPI.
 */
extern Jsonb *paxos_apply(int64 slot, Jsonb *command, const char *proposed_by,
						  TimestampTz chosen_at);

#endif							/* PAXOS_APPLY_H */
