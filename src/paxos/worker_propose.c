/*-------------------------------------------------------------------------
 *
 * worker_propose.c
 *	  Proposing: phase 1 for the slots this node has not applied, phase 2
 *	  one slot at a time, batching the waiting requests into a slot,
 *	  telling followers what was chosen, repairing a stuck slot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "apply.h"
#include "paxos.h"
#include "paxos_int.h"
#include "worker_int.h"


typedef enum Phase2Result
{
	P2_CHOSEN,
	P2_FAILED,
	P2_BEHIND					/* the slot is already chosen elsewhere */
} Phase2Result;

/* how long the idle leader waits for a busy peer to take its learn */
#define PW_LEARN_WAIT_MS 50

/*
 * How long a chosen slot waits for the next accept to carry its learn
 * before a paxos_learn of its own goes out.  A client promoting in a loop
 * sends its next command well within this, so followers learn at no cost;
 * an idle leader's followers learn this much later.  A slot that holds a
 * command another node forwarded is learned at once: that node's client is
 * waiting for it.
 */
#define PW_LEARN_DELAY_MS 2


void
pw_backoff(void)
{
	int			cap = Min(10 << Min(pw.failures, 7), 1000);

	pw.failures++;
	pw.leader = false;
	pw.backoff_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												   5 + (int) pg_prng_uint64_range(&pg_global_prng_state, 0, cap));
}

/*
 * Tells every peer, without waiting for replies, which slots we had chosen
 * in our last ballot, when no accept of that ballot has told them yet.
 */
void
pw_broadcast_learn(void)
{
	char		b[32];
	char		t[32];
	const char *params[3];

	if (pw.npeers == 0)
		pw.learn_owed = 0;		/* nobody to tell (the membership changed) */
	if (pw.learn_owed == 0 || GetCurrentTimestamp() < pw.learn_due)
		return;
	snprintf(b, sizeof(b), INT64_FORMAT, pw.learn_ballot);
	snprintf(t, sizeof(t), INT64_FORMAT, pw.learn_owed);
	pw.learn_owed = 0;
	params[0] = pw.m.digest;
	params[1] = b;
	params[2] = t;
	paxos_round_begin(pw.peers, pw.npeers,
					  "SELECT schemaevo.paxos_learn($1, $2::bigint, $3::bigint)",
					  3, params);

	/*
	 * A peer whose connection is still busy with its last accept (we did
	 * not need its vote) gets the learn only once that reply is in: wait
	 * for it, briefly, or that peer (often the one whose forwarded request
	 * this was) would learn the slot only by catch-up.
	 */
	(void) paxos_round_wait(pw.peers, pw.npeers, pw.npeers,
							Min(paxos_peer_timeout, PW_LEARN_WAIT_MS));
}

/*
 * Phase 2 for one slot under our ballot.
 *
 * Our own acceptance commits, flushed, while the peers work on theirs: the
 * two flushes overlap.  A node fencing its way back in (not voting yet)
 * counts only the others.  Once a majority accepted, the value is chosen
 * and durable on that majority, so recording and applying it need not wait
 * for a flush of their own: lost in a crash, the slot is found again in
 * our acceptor state (or a peer's) and chosen and applied again, as on a
 * follower (docs/protocol.md section 5).
 */
static Phase2Result
pw_phase2(int64 slot, Jsonb *value)
{
	char		b[32];
	char		s[32];
	char		t[32];
	char	   *vtext = pw_text(value);
	const char *params[6];
	bool		fence = !paxos_shared->voting;
	Jsonb	   *outcomes = NULL;
	int			accepted = 0;
	bool		behind = false;
	bool		chosen = false;
	int			i;

	snprintf(b, sizeof(b), INT64_FORMAT, pw.ballot);
	snprintf(s, sizeof(s), INT64_FORMAT, slot);
	/* the slots before this one in our ballot are chosen: peers learn them */
	snprintf(t, sizeof(t), INT64_FORMAT, slot - 1);
	params[0] = pw.m.digest;
	params[1] = b;
	params[2] = s;
	params[3] = vtext;
	params[4] = fence ? "true" : "false";
	params[5] = t;
	if (pw.npeers > 0)
		paxos_round_begin(pw.peers, pw.npeers,
						  "SELECT schemaevo.paxos_accept($1, $2::bigint, $3::bigint, $4::jsonb, $5::boolean, $6::bigint)",
						  6, params);
	if (pw.learn_ballot == pw.ballot)
		pw.learn_owed = 0;

	if (!fence)
	{
		Jsonb	   *local;

		pw_begin();
		/* when our log holds every earlier slot, there is nothing to learn */
		local = pw_copy(paxos_acceptor_accept(pw.ballot, slot, value,
											   slot == pw.applied + 1 ? 0 : slot - 1));
		pw_commit();
		accepted = pw_get_bool(local, "ok") ? 1 : 0;
		behind = pw_get_bool(local, "chosen");
		pw_saw_promise(pw_get_int(local, "promised"));
	}

	if (pw.npeers > 0)
	{
		(void) paxos_round_wait(pw.peers, pw.npeers, pw.majority - accepted,
								paxos_peer_timeout);
		for (i = 0; i < pw.npeers; i++)
		{
			Jsonb	   *r;

			if (!pw.peers[i].ok || pw.peers[i].reply == NULL)
				continue;
			r = pw_parse(pw.peers[i].reply);
			if (pw_get_bool(r, "ok"))
				accepted++;
			behind |= pw_get_bool(r, "chosen");
			pw_saw_promise(pw_get_int(r, "promised"));
			pw.peer_chosen_max = Max(pw.peer_chosen_max, pw_get_int(r, "chosen_max"));
		}
	}

	if (accepted >= pw.majority)
	{
		bool		applied;

		/* record and, when it is next in line, apply it */
		pw_begin();
		pw_skip_flush();
		paxos_log_insert(slot, value);
		/* pw.applied is the table's: only this process applies entries */
		applied = slot == pw.applied + 1;
		if (applied)
			outcomes = pw_copy(paxos_apply(slot, NULL));
		pw_commit();
		chosen = true;
		if (applied)
		{
			pw_note_applied(slot);
			pw_answer(value, outcomes, slot);
		}
		else
			pw_apply_pending();
	}
	if (!chosen)
		return behind ? P2_BEHIND : P2_FAILED;

	/* peers learn it with our next accept, or when we go idle */
	if (pw.npeers > 0)
		pw.learn_owed = slot;
	pw.learn_ballot = pw.ballot;
	pw.learn_due = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   PW_LEARN_DELAY_MS);
	pw_complete_requests();
	return P2_CHOSEN;
}

static Jsonb *
pw_value(List *commands)
{
	StringInfoData buf;
	ListCell   *lc;
	char		now[MAXDATELEN + 1];
	const int	utc = 0;

	/*
	 * ISO 8601 in UTC, as jsonb writes a timestamptz: every node reads the
	 * same instant back, whatever its DateStyle and TimeZone.
	 */
	JsonEncodeDateTime(now, TimestampTzGetDatum(GetCurrentTimestamp()),
					   TIMESTAMPTZOID, &utc);
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"proposed_by\": ");
	escape_json(&buf, pw.m.self_name);
	appendStringInfo(&buf, ", \"proposed_at\": \"%s\", \"commands\": [", now);
	foreach(lc, commands)
	{
		if (lc != list_head(commands))
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, (char *) lfirst(lc));
	}
	appendStringInfoString(&buf, "]}");
	return pw_parse(buf.data);
}

/* A value a promise reported: accepted for `slot` under `ballot`. */
typedef struct PwAccepted
{
	int64		slot;
	int64		ballot;
	Jsonb	   *value;
} PwAccepted;

/* Every value the granted promises among `replies` reported. */
static List *
pw_granted_values(Jsonb **replies, int nreplies)
{
	List	   *values = NIL;
	int			i;

	for (i = 0; i < nreplies; i++)
	{
		JsonbValue *acc;
		int			k;

		if (!pw_get_bool(replies[i], "ok"))
			continue;
		acc = pw_get(replies[i], "accepted");
		if (acc == NULL || acc->type != jbvBinary ||
			!JsonContainerIsArray(acc->val.binary.data))
			continue;
		for (k = 0; k < (int) JsonContainerSize(acc->val.binary.data); k++)
		{
			Jsonb	   *e = JsonbValueToJsonb(getIthJsonbValueFromContainer(acc->val.binary.data, k));
			PwAccepted *a = palloc(sizeof(PwAccepted));

			a->slot = pw_get_int(e, "slot");
			a->ballot = pw_get_int(e, "ballot");
			a->value = pw_get_log_value(e);
			values = lappend(values, a);
		}
	}
	return values;
}

/*
 * Phase 1 for every slot from the one after our applied slot; on success we
 * lead, and every value a promise reported has been chosen again under our
 * ballot (no-ops fill the gaps).  With `fence` (a node rejoining with a
 * memory it cannot trust, see pw_try_recover) our own acceptor takes no
 * part and every other member must grant.
 */
bool
pw_phase1(bool fence)
{
	int64		from = pw.applied + 1;
	int64		round;
	int64		ballot;
	char		b[32];
	char		f[32];
	const char *params[4];
	Jsonb	   *replies[PAXOS_MAX_MEMBERS + 1];
	int			nreplies = 0;
	int			granted = 0;
	int64		top = from - 1;
	int64		slot;
	int			i;
	List	   *accepted;
	ListCell   *lc;

	/*
	 * A fence ballot names no node (index 0), so that nobody takes its
	 * owner for the leader and forwards to it: a fence is no claim to lead.
	 * Two fences of one round cannot both succeed: each needs a grant from
	 * every other member, strictly above its promise.
	 */
	round = PAXOS_BALLOT_ROUND(pw.max_promise) + 1;
	ballot = PAXOS_BALLOT(round, fence ? 0 : pw.m.members[pw.m.self].index);
	snprintf(b, sizeof(b), INT64_FORMAT, ballot);
	snprintf(f, sizeof(f), INT64_FORMAT, from);
	params[0] = pw.m.digest;
	params[1] = b;
	params[2] = f;
	params[3] = fence ? "true" : "false";
	if (pw.npeers > 0)
		paxos_round_begin(pw.peers, pw.npeers,
						  "SELECT schemaevo.paxos_prepare($1, $2::bigint, $3::bigint, $4::boolean)",
						  4, params);

	if (!fence)
	{
		pw_begin();
		replies[nreplies++] = pw_copy(paxos_acceptor_prepare(ballot, from));
		pw_commit();
	}

	if (pw.npeers > 0)
	{
		(void) paxos_round_wait(pw.peers, pw.npeers, pw.npeers, paxos_peer_timeout);
		for (i = 0; i < pw.npeers; i++)
			if (pw.peers[i].ok && pw.peers[i].reply != NULL)
				replies[nreplies++] = pw_parse(pw.peers[i].reply);
	}

	for (i = 0; i < nreplies; i++)
	{
		pw_saw_promise(pw_get_int(replies[i], "promised"));
		pw.peer_chosen_max = Max(pw.peer_chosen_max, pw_get_int(replies[i], "chosen_max"));
		if (pw_get_bool(replies[i], "ok"))
			granted++;
	}
	if (pw.peer_chosen_max >= from)
	{
		pw_catch_up(pw.peer_chosen_max);
		return false;
	}
	if (granted < (fence ? pw.npeers : pw.majority))
		return false;

	pw.ballot = ballot;
	pw.leader = true;
	pw.next_slot = from;

	/*
	 * Per slot, the value of the highest ballot any granted promise
	 * reported; propose each again under our ballot.
	 */
	accepted = pw_granted_values(replies, nreplies);
	foreach(lc, accepted)
		top = Max(top, ((PwAccepted *) lfirst(lc))->slot);

	for (slot = from; slot <= top; slot++)
	{
		Jsonb	   *best = NULL;
		int64		best_ballot = -1;

		foreach(lc, accepted)
		{
			PwAccepted *a = lfirst(lc);

			if (a->slot == slot && a->ballot > best_ballot)
			{
				best_ballot = a->ballot;
				best = a->value;
			}
		}
		if (best == NULL)
			best = pw_value(NIL);
		if (pw_phase2(slot, best) != P2_CHOSEN)
		{
			pw.leader = false;
			return false;
		}
		pw.next_slot = slot + 1;
	}
	elog(DEBUG1, "schemaevo: node \"%s\" leads with ballot " INT64_FORMAT " from slot " INT64_FORMAT,
		 pw.m.self_name, ballot, from);
	return true;
}

void
pw_propose(bool repair)
{
	List	   *commands = NIL;
	ListCell   *lc;
	Phase2Result r;
	bool		forwarded = false;
	int			callers[PAXOS_BATCH_MAX];
	int			ncallers = 0;

	if (!pw.leader || pw.next_slot != pw.applied + 1)
	{
		pw.leader = false;
		if (!pw_phase1(false))
		{
			pw_backoff();
			return;
		}
		pw_complete_requests();
	}
	foreach(lc, pw.pending)
	{
		PendingRequest *p = lfirst(lc);

		if (list_length(commands) >= paxos_batch_size)
			break;
		/* two promotions of one tenant may share a slot: see apply.c */
		commands = lappend(commands, p->command);
		forwarded |= p->qslot < 0;
		if (p->caller >= 0)
			callers[ncallers++] = p->caller;
	}
	if (commands == NIL && !repair)
		return;

	r = pw_phase2(pw.next_slot, pw_value(commands));
	if (r == P2_CHOSEN)
	{
		if (forwarded)
			pw.learn_due = 0;
		pw.next_slot++;
		pw.failures = 0;
		/* what the next slot can expect: see pw_batch_wait_ms() */
		pw_take_requests();
		pw.batch_target = Min(list_length(pw.pending) +
							  pw_callers_away(callers, ncallers),
							  paxos_batch_size);
		pw.chosen_at = GetCurrentTimestamp();
		return;
	}
	if (r == P2_BEHIND)
		pw_catch_up(Max(pw.peer_chosen_max, pw.next_slot));
	pw_backoff();
}

/*
 * How long to wait for a fuller batch before proposing (0: now).  Slots are
 * proposed one at a time, so under load the callers answered by one slot
 * send their next request while the rest wait for the next slot: proposed
 * at once, the batches alternate between the two groups, and each caller
 * waits for two slots.  Waiting up to batch_wait after a slot until the
 * requests queued when it was chosen are joined by those of its callers
 * merges the groups again.  A lone caller is its own target, so it waits
 * for nothing.
 */
long
pw_batch_wait_ms(TimestampTz now)
{
	int64		left_us;

	if (paxos_batch_wait == 0 || list_length(pw.pending) >= pw.batch_target)
		return 0;
	left_us = (int64) paxos_batch_wait * 1000 - (now - pw.chosen_at);
	return left_us > 0 ? (long) ((left_us + 999) / 1000) : 0;
}

/*
 * Whether our acceptor holds a value for a slot nobody has finished: the
 * same unapplied slot seen at two status rounds in a row, with no progress
 * in between.  (A single sighting is normal: the leader's learn may simply
 * not have arrived yet, and repairing then would only steal leadership.)
 */
bool
pw_needs_repair(void)
{
	static int64 last_seen = 0;
	int64		slot = 0;

	if (TimestampDifferenceMilliseconds(pw.last_progress, GetCurrentTimestamp()) <
		2 * paxos_catchup_interval)
	{
		last_seen = 0;
		return false;
	}
	pw_begin();
	if (SPI_execute("SELECT min(s.slot) FROM schemaevo.acceptor_slots s, schemaevo.node_state n "
					" WHERE s.slot > n.applied_slot", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not read acceptor_slots");
	if (SPI_processed == 1 && SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1))
		slot = strtoll(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), NULL, 10);
	pw_commit();
	if (slot == 0 || slot != last_seen)
	{
		last_seen = slot;
		return false;
	}

	/*
	 * A peer has it chosen: we missed the learn (a busy connection drops
	 * it) and catch-up fetches it; repairing would only take the lead.
	 */
	if (slot <= pw.peer_chosen_max)
	{
		pw_catch_up(pw.peer_chosen_max);
		return false;
	}
	return true;
}
