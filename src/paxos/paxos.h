/*-------------------------------------------------------------------------
 *
 * paxos.h
 *	  The replicated log's interface to the SQL layer (src/pg).
 *
 * A registry change is a command (a jsonb object with an "op" member) that
 * the log chooses for a slot and the apply step executes on every node.
 * The SQL layer only submits commands and reads their outcome; whether this
 * node alone (a cluster of one) or a Multi-Paxos quorum of peers chooses
 * them is hidden behind paxos_submit().
 *
 *-------------------------------------------------------------------------
 */
#ifndef PAXOS_H
#define PAXOS_H

#include "postgres.h"

#include "utils/jsonb.h"

/* Settings (registered as GUCs by src/pg/guc.c) */
extern char *paxos_database;
extern int	paxos_request_timeout;	/* ms */
extern int	paxos_peer_timeout;		/* ms */
extern int	paxos_connect_timeout;	/* ms */
extern int	paxos_catchup_interval;	/* ms */
extern int	paxos_batch_size;
extern int	paxos_batch_wait;		/* ms */

#define PAXOS_BATCH_MAX 64		/* one request queue's worth */

/*
 * The longest tenant id a promotion may name, in bytes: well below what
 * one B-tree entry of the registry's tenant indexes can hold (about 2.7 kB),
 * so that no chosen promotion can fail to be written.
 */
#define PAXOS_MAX_TENANT_LEN 1024

/*
 * Submits `command`, waits until it is chosen and applied on this node, and
 * returns its outcome: {"ok": true, ...} or {"ok": false, "sqlstate",
 * "message", "hint"}.  Raises an error when the log cannot choose in time
 * (no quorum, hot standby, worker not running).
 */
extern Jsonb *paxos_submit(const char *command);

/* True when commands are chosen inline, inside the caller's transaction. */
extern bool paxos_is_inline(void);

/* Re-raises a failed outcome as the error the apply step met. */
extern void paxos_raise_outcome(Jsonb *outcome);

/* While preloading: shared memory and the background worker. */
extern void paxos_shmem_request(void);
extern void paxos_register_worker(void);

#endif							/* PAXOS_H */
