/*-------------------------------------------------------------------------
 *
 * log.h
 *	  The replicated log's interface to the SQL layer.
 *
 * A registry change is a command (a jsonb object with an "op" member) that
 * the log chooses for one slot and the apply step executes.  The SQL layer
 * only submits commands and reads their outcome; whether a quorum of one
 * (this node) or a Multi-Paxos cluster chooses them is hidden behind
 * paxos_submit().
 *
 *-------------------------------------------------------------------------
 */
#ifndef PAXOS_LOG_H
#define PAXOS_LOG_H

#include "postgres.h"

#include "utils/jsonb.h"

/*
 * Submits `command`, waits until it is chosen and applied on this node,
 * and returns its outcome: {"ok": true, ...} or {"ok": false, "sqlstate":
 * ..., "message": ..., "detail": ...}.  Raises an error when the log cannot
 * choose (read-only node, no quorum).
 */
extern Jsonb *paxos_submit(Jsonb *command);

/* Re-raises a failed outcome as the error the apply step met. */
extern void paxos_raise_outcome(Jsonb *outcome);

#endif							/* PAXOS_LOG_H */
