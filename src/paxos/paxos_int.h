/*-------------------------------------------------------------------------
 *
 * paxos_int.h
 *	  Declarations shared inside src/paxos: shared memory, membership,
 *	  ballots, the libpq transport.
 *
 * Shared memory protocol (PaxosShared.lock, an LWLock):
 *	- A backend takes a FREE request slot, puts its command in a DSM segment
 *	  (commands can be megabytes: a schema definition may reach 1 MiB),
 *	  sets the slot QUEUED and sets the worker's latch; it then sleeps on
 *	  the slot's condition variable, keeping the segment attached.
 *	- The worker moves QUEUED slots to TAKEN and copies the command out of
 *	  the segment (a segment already gone means the backend gave up); when
 *	  the command is
 *	  chosen and applied writes the outcome and sets DONE (broadcasting the
 *	  condition variable).  The backend copies the outcome and frees the slot.
 *	- A backend that times out sets ABANDONED; the worker frees an ABANDONED
 *	  slot when it is done with it.  The command may still be chosen: its
 *	  request id makes a retry safe.
 *	- The node status array is written by the worker only and read by the
 *	  cluster_status view.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PAXOS_INT_H
#define PAXOS_INT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#define PAXOS_QUEUE_SIZE	64
#define PAXOS_MAX_COMMAND	(8 * 1024 * 1024)
#define PAXOS_MAX_OUTCOME	2048
#define PAXOS_INLINE_COMMAND	1024	/* shorter commands skip the DSM segment */
#define PAXOS_REQUEST_ID_LEN	33
#define PAXOS_MAX_MEMBERS	16
#define PAXOS_CONNINFO_LEN	256

typedef enum PaxosRequestState
{
	PRQ_FREE = 0,
	PRQ_QUEUED,
	PRQ_TAKEN,
	PRQ_DONE,
	PRQ_ABANDONED
} PaxosRequestState;

typedef struct PaxosRequest
{
	PaxosRequestState state;
	Oid			dbid;
	int			procno;			/* the caller's, to see when it is back */
	int64		slot;			/* where it was applied, when DONE */
	char		outcome[PAXOS_MAX_OUTCOME];
	ConditionVariable cv;
	int			command_len;
	char		request_id[PAXOS_REQUEST_ID_LEN];

	/*
	 * The command (JSON text with request_id): here when it fits, which is
	 * every promotion, else in a DSM segment the worker copies from.
	 * Creating a segment costs a promotion more than all its other work in
	 * the backend.
	 */
	dsm_handle	command;		/* DSM_HANDLE_INVALID: inline_command */
	char		inline_command[PAXOS_INLINE_COMMAND];
} PaxosRequest;

typedef struct PaxosNodeStatus
{
	char		name[NAMEDATALEN];
	char		conninfo[PAXOS_CONNINFO_LEN];	/* password removed */
	bool		is_self;
	bool		reachable;
	bool		voting;
	bool		diverged;		/* digest differs at the same slot */
	int64		applied_slot;
	int64		promised;
	TimestampTz last_contact;
} PaxosNodeStatus;

typedef struct PaxosShared
{
	LWLock	   *lock;
	pid_t		worker_pid;
	Latch	   *worker_latch;
	Oid			dbid;			/* the worker's database, once connected */
	bool		voting;			/* this node may act as an acceptor */
	int64		applied_slot;
	int64		chosen_max;		/* highest chosen slot known */
	int64		ballot;			/* our ballot while leader, else 0 */
	int64		leader_ballot;	/* highest ballot seen anywhere */
	uint32		membership_generation;	/* bumped by init_cluster */
	char		self_name[NAMEDATALEN]; /* as the worker loaded it; "" before */

	/*
	 * Bumped when a peer call commits log entries it learned or commands
	 * forwarded to us: the worker looks at the log and at
	 * schemaevo.forwarded only when these moved (and at every status
	 * round), not at every wake-up.
	 */
	pg_atomic_uint64 learned;
	pg_atomic_uint64 forwarded;
	int			nmembers;
	PaxosNodeStatus nodes[PAXOS_MAX_MEMBERS];
	PaxosRequest requests[PAXOS_QUEUE_SIZE];
} PaxosShared;

extern PaxosShared *paxos_shared;

/* ---- ballots: round << 8 | node index (1..255) ---- */
#define PAXOS_BALLOT(round, index)	(((int64) (round) << 8) | (int64) (index))
#define PAXOS_BALLOT_ROUND(b)		((b) >> 8)
#define PAXOS_BALLOT_NODE(b)		((int) ((b) & 0xFF))

/* ---- membership (membership.c) ---- */

typedef struct PaxosMember
{
	char		name[NAMEDATALEN];
	char	   *conninfo;
	int			index;			/* 1-based, in name order */
	bool		is_self;
} PaxosMember;

typedef struct PaxosMembership
{
	int			nmembers;		/* 0: cluster of one, not initialised */
	PaxosMember members[PAXOS_MAX_MEMBERS];
	int			self;			/* index into members */
	char		self_name[NAMEDATALEN];
	char		digest[65];
	bool		initialised;	/* init_cluster() was run */
} PaxosMembership;

/*
 * Reads the membership tables (a cluster of one named `fallback_name` when
 * init_cluster() was never run).  Caller is connected to SPI.
 */
extern void paxos_membership_load(PaxosMembership *m, const char *fallback_name);
/* Raises an error unless `digest` is this node's membership digest. */
extern void paxos_check_digest(const char *digest);
extern char *paxos_strip_password(const char *conninfo);

/*
 * SECURITY DEFINER code pins search_path for what it runs through SPI, in a
 * GUC nest level of its own: a SET clause on the function would also undo
 * the acceptor's transaction-local synchronous_commit before commit, and a
 * transaction-local search_path would leak into the caller's statements.
 */
static inline int
paxos_pin_search_path(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	return nest;
}

static inline void
paxos_unpin_search_path(int nest)
{
	AtEOXact_GUC(true, nest);
}

/* ---- shared memory (shmem.c) ---- */
extern void paxos_wake_worker(void);

/* what a transaction left for the worker, for paxos_wake_worker_at_commit */
#define PAXOS_WAKE_LEARNED		0x01	/* entries in schemaevo.log */
#define PAXOS_WAKE_FORWARDED	0x02	/* commands in schemaevo.forwarded */
extern void paxos_wake_worker_at_commit(int what);

/* ---- the acceptor (acceptor.c); caller in a transaction, on SPI ---- */
extern Jsonb *paxos_acceptor_prepare(int64 ballot, int64 from_slot);
extern Jsonb *paxos_acceptor_accept(int64 ballot, int64 slot, Jsonb *value,
									 int64 chosen_through);
extern int	paxos_acceptor_learn(int64 ballot, int64 through);
extern Jsonb *paxos_acceptor_status(void);
extern Jsonb *paxos_fetch_entries(int64 from_slot, int max_entries);

/* ---- the libpq transport (transport.c) ---- */

typedef enum PaxosConnState
{
	PCS_DOWN,
	PCS_CONNECTING,
	PCS_IDLE,
	PCS_BUSY
} PaxosConnState;

typedef struct PaxosPeer
{
	PaxosMember *member;
	struct pg_conn *conn;
	PaxosConnState state;
	int			poll_want;		/* PGRES_POLLING_READING/WRITING while
								 * connecting */
	TimestampTz connect_started;
	TimestampTz retry_after;	/* no reconnect before this */
	TimestampTz query_started;
	uint64		query_round;	/* round of the query in flight */
	/* the current round */
	bool		in_round;		/* the round wants this peer */
	bool		replied;		/* its query of this round completed */
	bool		ok;				/* ... with no error result */
	bool		errored;		/* an error result arrived for the query */
	char	   *reply;			/* first column of the first row */
	char	   *error;			/* "SQLSTATE: message" */
	bool		failure_logged;	/* since the last connection that worked */
	/* statements prepared on this connection (bit i: paxos_statements[i]) */
	uint32		prepared;
	int			preparing;		/* statement being prepared, or -1 */
} PaxosPeer;

/*
 * A round: paxos_round_begin() sends `sql` with text parameters to every
 * peer that can take it (connecting first where needed); the caller may do
 * local work; paxos_round_wait() then waits on the latch and every socket
 * in one WaitEventSet until `enough` peers replied without error, every
 * query of the round completed, or `timeout_ms` passed, and returns the
 * number of error-free replies.  A reply counts only if no result of the
 * query was an error.  Stragglers are left running and drained later.
 * Replies are palloc'd in the caller's memory context.
 */
extern void paxos_round_begin(PaxosPeer *peers, int npeers, const char *sql,
							  int nparams, const char *const *params);
extern int	paxos_round_wait(PaxosPeer *peers, int npeers, int enough,
							 int timeout_ms);
extern void paxos_disconnect(PaxosPeer *peer);

/* Set when the latch fired during a round: the caller re-checks its queue. */
extern bool paxos_latch_seen;

#endif							/* PAXOS_INT_H */
