/*-------------------------------------------------------------------------
 *
 * worker_int.h
 *	  The log worker's state and the functions its files share.
 *
 * The log worker is one process; its files split it by concern:
 *	worker.c			the main loop (the protocol is described there)
 *	worker_support.c	transactions, the extension lock, reading replies
 *	worker_members.c	the membership and the shared status it publishes
 *	worker_requests.c	the requests it answers: queued, forwarded, pending
 *	worker_catchup.c	applying chosen entries, catch-up, status rounds,
 *						becoming a voter
 *	worker_propose.c	phase 1, phase 2, batching, learns, repair
 *
 * Everything the worker remembers between steps lives in `pw`; nothing in
 * it is shared with other processes (that is paxos_shared's job).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PAXOS_WORKER_INT_H
#define PAXOS_WORKER_INT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
#include "utils/palloc.h"

#include "paxos_int.h"

/* A request this worker took and has not answered yet. */
typedef struct PendingRequest
{
	int			qslot;			/* index in paxos_shared->requests; -1 for
								 * a command another node forwarded */
	char	   *command;		/* jsonb text */
	char	   *request_id;		/* the command's request_id */
	int			caller;			/* the backend's pgprocno, or -1 */
	bool		done;
	TimestampTz forwarded_at;	/* when we handed it to the leader, or 0 */
} PendingRequest;

typedef struct PaxosWorker
{
	/* the membership (pw_load_membership) */
	PaxosMembership m;
	PaxosPeer	peers[PAXOS_MAX_MEMBERS];
	int			npeers;
	int			majority;
	uint32		member_gen;
	bool		loaded;

	/* leadership and progress */
	int64		ballot;			/* ours, valid while leader */
	bool		leader;
	int64		next_slot;
	int64		max_promise;	/* highest ballot seen anywhere */
	int			failures;
	TimestampTz backoff_until;
	TimestampTz next_status;
	TimestampTz last_progress;
	int64		applied;		/* node_state's: only this process applies */
	int64		peer_chosen_max;	/* highest chosen slot a peer has */

	/* requests */
	MemoryContext cxt;			/* pending requests */
	List	   *pending;		/* of PendingRequest */
	bool		recheck;		/* entries applied that pw_answer did not see */

	/* learning and batching (worker_propose.c) */
	int64		learn_owed;		/* chosen by us up to here in ... */
	int64		learn_ballot;	/* ... this ballot, not yet told */
	TimestampTz learn_due;		/* when to tell them, if no accept has */
	int			batch_target;	/* requests known when our last slot was */
	TimestampTz chosen_at;		/* ... chosen, and when that was */
} PaxosWorker;

extern PaxosWorker pw;
extern char *sevo_node_name;

/* slots fetched from a peer at most per call (paxos_fetch) */
#define PW_FETCH_MAX 500

/* worker_support.c */
extern bool pw_extension_ready(void);
extern void pw_begin(void);
extern void pw_commit(void);
extern Jsonb *pw_copy(Jsonb *j);
extern char *pw_strdup(const char *s);
extern Jsonb *pw_parse(const char *text);
extern char *pw_text(Jsonb *j);
extern JsonbValue *pw_get(Jsonb *j, const char *key);
extern Jsonb *pw_get_log_value(Jsonb *entry);
extern int64 pw_get_int(Jsonb *j, const char *key);
extern bool pw_get_bool(Jsonb *j, const char *key);
extern char *pw_get_string(Jsonb *j, const char *key);
extern void pw_saw_promise(int64 promised);
extern char *pw_request_id(const char *command);

/* worker_members.c */
extern void pw_load_membership(bool check_digest);
extern int	pw_node_slot(const char *name);
extern void pw_publish_self(void);

/* worker_requests.c */
extern void pw_take_requests(void);
extern void pw_take_forwarded(void);
extern void pw_answer(Jsonb *value, Jsonb *outcomes, int64 slot);
extern void pw_complete_requests(void);
extern void pw_drop_abandoned(void);
extern bool pw_forward(void);
extern int	pw_callers_away(const int *callers, int ncallers);
extern long pw_pending_wait(TimestampTz now);

/* worker_catchup.c */
extern void pw_note_applied(int64 applied);
extern void pw_skip_flush(void);
extern int	pw_apply_pending(void);
extern void pw_catch_up(int64 target);
extern int	pw_status_round(int64 *chosen_max, int64 *accepted_max,
							int64 *promised_max);
extern void pw_try_recover(void);

/* worker_propose.c */
extern void pw_backoff(void);
extern bool pw_phase1(bool fence);
extern void pw_propose(bool repair);
extern long pw_batch_wait_ms(TimestampTz now);
extern bool pw_needs_repair(void);
extern void pw_broadcast_learn(void);

#endif							/* PAXOS_WORKER_INT_H */
