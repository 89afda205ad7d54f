/*
 * paxos.pml -- a Promela model of schemaevo's Multi-Paxos log AS BUILT
 * (src/paxos), for the SPIN model checker.  test/spin/check.sh runs it;
 * docs/protocol.md describes the protocol.
 *
 * What is modelled: 3 nodes, each an acceptor with durable state; the log
 * workers of nodes 0 and 1 propose (node 2 votes and learns); NS log
 * slots; at most ROUNDS phase-1 attempts in all (MAXATT per proposer) and
 * MAXRESTART worker restarts per proposer, so the state space is finite.
 *
 * Mapping to the C code:
 *
 *   promised[a]                acceptor_state.promised
 *   abal[], aval[]             acceptor_slots (ballot, value); the apply
 *                              step deletes the rows up to the applied slot
 *   logv[], applied[]          log, node_state.applied_slot
 *   voting[a]                  cluster_self.voting / paxos_shared->voting
 *   acc_prepare()              paxos_acceptor_prepare (acceptor.c): grant
 *                              iff ballot > promised, raise the promise,
 *                              report chosen_max and the values accepted
 *                              for slots >= from
 *   acc_accept()               paxos_acceptor_accept (acceptor.c): accept
 *                              iff ballot >= promised and the slot is not
 *                              in the local log; raise the promise
 *   learn_at(), apply_at()     paxos_log_insert (its "two different values
 *                              chosen" error is an assertion here) and
 *                              paxos_apply (apply.c)
 *   fetch(), catch_up()        pw_fetch_from, pw_catch_up (worker.c)
 *   Proposer                   the worker's proposer, one atomic step per
 *                              transition (pc):
 *     phase1_start()             pw_phase1: ballot = ROUND(pw_max_promise)
 *                                + 1 with the node index (round << 2 |
 *                                index here, << 8 in C); prepare(ballot,
 *                                applied + 1) to the peers; the local
 *                                prepare
 *     PC_P1_WAIT                 the round ends: catch up if a reply's
 *                                chosen_max >= from; lead on a majority of
 *                                grants, proposing again per slot the
 *                                highest-ballot value the grants reported
 *                                (a fresh no-op in a gap); else step down
 *     send_accepts(),            pw_phase2: accepts to the peers, then the
 *     PC_P2_LOCAL, PC_P2_WAIT    local accept, then the round ends: chosen
 *                                on a majority of "ok" in this ballot (log,
 *                                apply, learn), else step down (catching up
 *                                when a reply said "chosen")
 *     propose_next()             pw_propose: the next batch at
 *                                pw_next_slot while leading
 *     restart options            the worker exits and is restarted:
 *                                pw_leader, pw_max_promise and
 *                                pw_peer_chosen_max are lost; either
 *                                between its accepts and its local accept,
 *                                or between two rounds
 *   r_*                        each round's replies, folded as they arrive
 *   cq_*, cd_*, Network        transport.c: one query in flight per
 *                              connection; a round's query to a busy peer
 *                              waits (cd_*) for the straggler to finish
 *                              and is dropped when the round ends; a
 *                              straggler still runs on its peer but its
 *                              reply is ignored (query_round); a learn to
 *                              a busy peer is dropped (no round waits)
 *
 * Message loss, delay and reordering: the Network process runs any query
 * at any later time, or never; a proposer ends a round at any time (its
 * timeout) and counts only the replies that arrived.
 *
 * Left out, as irrelevant to agreement or to keep the state space small:
 * forwarding to the leader (it changes who proposes a command, not how a
 * value is chosen); batching (a value is opaque); the status round's raise
 * of pw_max_promise (ballots are still raised by every reply); the
 * periodic catch-up and repair (catch-up happens where pw_phase1 and
 * pw_phase2 do it; a repair is a phase 1 like any other); the recovery
 * after a worker restart (the acceptor keeps voting, which only allows
 * more behaviours).
 *
 * Properties (assertions):
 *   agreement   no two proposers decide different values for a slot; no
 *               node's log receives a second, different value; no two
 *               values gather a majority of acceptances in one ballot;
 *   validity    a decided value is a value a proposer created for that
 *               slot (its batch or a no-op) in an attempt it made.
 * Values are distinct per proposer, slot, attempt and kind, as the C
 * values are (each carries proposed_by and proposed_at).
 *
 * Variants (spin -D...; check.sh runs each):
 *   DECIDE_FROM_PROMISES   the pg_paxos bug: phase 1 decides a slot when a
 *                          majority of the grants report the same value,
 *                          whatever its ballots.  Agreement fails.
 *   NO_CHOSEN_MAX_CHECK    pw_phase1 without its catch-up test: a proposer
 *                          behind the log leads anyway; the acceptor rows
 *                          of applied slots are gone, so only chosen_max
 *                          told it.  Agreement fails.
 *   GRANT_EQUAL_BALLOT     a prepare is granted for ballot >= promised
 *                          instead of >.  A restarted worker may reuse its
 *                          last ballot (pw_max_promise starts from zero),
 *                          and two values get accepted in one ballot.
 *                          Agreement fails; the strict test is what makes
 *                          the reuse harmless.
 *   AMNESIA=1              node 2's data directory is wiped and
 *                          init_cluster run again: pw_try_recover votes
 *                          once a status of every other member shows it
 *                          caught up and no slot accepted beyond the chosen
 *                          ones.  Agreement fails: an acceptance that
 *                          commits after its node's status was read
 *                          combines with node 2's forgotten one.
 *   AMNESIA=2              node 2 is restored from an old backup (or an
 *                          asynchronous standby is promoted in its place)
 *                          with voting = true: the restart path (statuses
 *                          of a majority) lets it vote.  Agreement fails.
 *   AMNESIA=3              the fix for AMNESIA=1 (worker.c pw_try_recover):
 *                          the rejoining node fences every other member
 *                          with a prepare of its own before it votes.
 *                          Verifies.
 *   SANITY=1, SANITY=2     the model is not vacuous: the last slot is
 *                          decided; a value is decided by the proposer that
 *                          did not create it.  Each "fails" on purpose.
 */

#ifndef SANITY
#define SANITY 0
#endif
#ifndef NS
#define NS 2				/* log slots 1 .. NS */
#endif
#ifndef ROUNDS
#define ROUNDS 2			/* phase-1 attempts, all proposers together */
#endif
#ifndef MAXATT
#define MAXATT ROUNDS		/* phase-1 attempts of one proposer */
#endif
#ifndef MAXRESTART
#define MAXRESTART 1		/* worker restarts per proposer */
#endif

#define NA		3			/* nodes, each an acceptor */
#define NP		2			/* proposers: the workers of nodes 0 and 1 */
#define MAJ		2			/* majority of NA */

#define IDX(a, s)	((a) * (NS + 1) + (s))	/* per node and slot */
#define NCONN		(NP * (NA - 1))		/* connections: proposer to peer */
#define CN(p, a)	((p) * (NA - 1) + (a) - ((a) > (p)))	/* p -> a */
#define CPROP(k)	((k) / (NA - 1))	/* the proposer of connection k */
#define CNODE(k)	((k) % (NA - 1) + ((k) % (NA - 1) >= CPROP(k)))	/* its peer */
#define PS(p, s)	((p) * (NS + 1) + (s))	/* per proposer and slot */

#define RQ_NONE		0
#define RQ_PREPARE	1
#define RQ_ACCEPT	2
#define RQ_LEARN	3

/* where a proposer is (Proposer.pc) */
#define PC_IDLE			0	/* between pw_propose calls */
#define PC_P1_WAIT		1	/* prepares out, local promise made */
#define PC_P2_LOCAL		2	/* accepts out, local accept next */
#define PC_P2_WAIT		3	/* local accept done */

/* a value: proposer, slot, attempt, batch (0) or gap no-op (1); 0 = none */
#define VALUE(p, s, att, noop) \
	(1 + ((((p) * NS + (s) - 1) * ROUNDS + (att) - 1) * 2 + (noop)))
#define VNOOP(v)	(((v) - 1) % 2)
#define VATT(v)		((((v) - 1) / 2) % ROUNDS)
#define VSLOT(v)	((((v) - 1) / 2 / ROUNDS) % NS + 1)
#define VPROP(v)	(((v) - 1) / 2 / ROUNDS / NS)

/* ---- durable state of every node ---- */
byte promised[NA];			/* acceptor_state.promised */
byte abal[NA * (NS + 1)];	/* acceptor_slots.ballot, 0 = no row */
byte aval[NA * (NS + 1)];	/* acceptor_slots.value */
byte logv[NA * (NS + 1)];	/* log.value, 0 = not chosen here */
byte applied[NA];			/* node_state.applied_slot */
bool voting[NA];			/* cluster_self.voting and the shared flag */

/* ---- connections: the query in flight, and the one waiting for it ---- */
byte cq_kind[NCONN];
byte cq_bal[NCONN];
byte cq_slot[NCONN];		/* slot, or from_slot of a prepare */
byte cq_val[NCONN];
bool cq_stale[NCONN];		/* of a round that has ended: reply ignored */
byte cd_kind[NCONN];		/* of the current round, sent when free */
byte cd_bal[NCONN];
byte cd_slot[NCONN];
byte cd_val[NCONN];

/*
 * The replies of each proposer's current round, folded as they arrive
 * into what pw_phase1 / pw_phase2 compute from them (the local call's
 * reply included).
 */
byte r_n[NP];				/* replies with "ok": grants or acceptances */
bool r_behind[NP];			/* an accept reply said "chosen" */
byte r_prom[NP];			/* highest "promised", its round */
byte r_cmax[NP];			/* highest "chosen_max" */
byte r_pv[NP * (NS + 1)];	/* per slot, the highest-ballot value among */
byte r_pb[NP * (NS + 1)];	/* the grants' "accepted", and its ballot */
#ifdef DECIDE_FROM_PROMISES
byte r_v1[NP * (NS + 1)];	/* per slot, the values the grants reported */
byte r_c1[NP * (NS + 1)];	/* and how many reported each (with three */
byte r_v2[NP * (NS + 1)];	/* replies, a third value leaves no majority) */
byte r_c2[NP * (NS + 1)];
#endif

/* ---- observers ---- */
byte attempts;				/* phase-1 attempts so far (the bound) */
byte gatt[NP];				/* each proposer's phase-1 attempts */
byte decided[NS + 1];		/* the value a proposer decided */
byte paxchosen[NS + 1];		/* a value a majority accepted in one ballot */

#ifdef AMNESIA
bool amnesia_done;
byte rc_stage;				/* recovery: statuses read so far */
byte rc_cmax;
byte rc_amax;
byte rc_prom;
#if AMNESIA == 3
byte rc_bal;				/* the fencing ballot */
bool rc_ok;					/* every other member granted it */
byte rc_tries;
#endif
#endif

/*
 * Temporaries: used only inside one d_step (never live across steps) and
 * kept out of the state vector.  Each inline has its own.
 */
hidden byte x_t;
hidden byte x_u;
hidden byte x_hk;
hidden byte x_hc;
hidden byte x_hok;
hidden byte x_cv;			/* cmax_of, amax_of */
hidden byte x_ov;			/* observe_choice */
hidden byte x_oc;
hidden byte x_fv;			/* fetch */
hidden byte x_ct;			/* catch_up */
hidden byte x_ev;			/* end_round */
hidden byte x_ek;
hidden byte x_pw;			/* acc_prepare */
hidden byte x_bv;			/* broadcast_learn */
hidden byte x_bk;
hidden byte x_da;			/* deliver */
hidden byte x_sv;			/* status */

inline setmax(y_x, y_y)
{
	if
	:: (y_y) > (y_x) -> y_x = (y_y)
	:: else -> skip
	fi
}

/* the highest slot in a's log ("chosen_max") */
inline cmax_of(y_a, y_out)
{
	y_out = 0;
	for (x_cv : 1 .. NS) {
		if
		:: logv[IDX(y_a, x_cv)] != 0 -> y_out = x_cv
		:: else -> skip
		fi
	};
	skip
}

/* the highest slot in a's acceptor_slots ("accepted_max") */
inline amax_of(y_a, y_out)
{
	y_out = 0;
	for (x_cv : 1 .. NS) {
		if
		:: abal[IDX(y_a, x_cv)] != 0 -> y_out = x_cv
		:: else -> skip
		fi
	};
	skip
}

/* paxos_apply, while the next slot is in the log; acceptor rows go */
inline apply_at(y_a)
{
	do
	:: applied[y_a] < NS && logv[IDX(y_a, applied[y_a] + 1)] != 0 ->
		applied[y_a]++;
		abal[IDX(y_a, applied[y_a])] = 0;
		aval[IDX(y_a, applied[y_a])] = 0
	:: else -> break
	od;
	skip
}

/* paxos_log_insert ("two different values chosen") and apply */
inline learn_at(y_a, y_s, y_v)
{
	assert(logv[IDX(y_a, y_s)] == 0 || logv[IDX(y_a, y_s)] == (y_v));
	logv[IDX(y_a, y_s)] = (y_v);
	apply_at(y_a)
}

/* pw_fetch_from: the chosen entries of src after dst's applied slot */
inline fetch(y_dst, y_src)
{
	for (x_fv : 1 .. NS) {
		if
		:: x_fv > applied[y_dst] && logv[IDX(y_src, x_fv)] != 0 ->
			learn_at(y_dst, x_fv, logv[IDX(y_src, x_fv)])
		:: else -> skip
		fi
	};
	skip
}

/* pw_catch_up: fetch from every peer */
inline catch_up(y_p)
{
	for (x_ct : 0 .. NA - 1) {
		if
		:: x_ct != (y_p) -> fetch(y_p, x_ct)
		:: else -> skip
		fi
	};
	skip
}

/* observer: a majority holding (b, v) for s means v is chosen */
inline observe_choice(y_s, y_b, y_v)
{
	x_oc = 0;
	for (x_ov : 0 .. NA - 1) {
		if
		:: abal[IDX(x_ov, y_s)] == (y_b) && aval[IDX(x_ov, y_s)] == (y_v) -> x_oc++
		:: else -> skip
		fi
	};
	if
	:: x_oc >= MAJ ->
		assert(paxchosen[y_s] == 0 || paxchosen[y_s] == (y_v));
		paxchosen[y_s] = (y_v)
	:: else -> skip
	fi;
	x_oc = 0
}

/*
 * paxos_acceptor_prepare(b, from) at a.  With `rep` the reply reaches
 * proposer p's current round: grant, promise, chosen_max, and the
 * accepted values of slots >= from.
 */
inline acc_prepare(y_a, y_p, y_b, y_from, y_rep)
{
#ifdef GRANT_EQUAL_BALLOT
	x_hok = (promised[y_a] <= (y_b));	/* BROKEN: >= instead of > */
#else
	x_hok = (promised[y_a] < (y_b));
#endif
	if
	:: x_hok -> promised[y_a] = (y_b)
	:: else -> skip
	fi;
	printf("  node %d: prepare(%d) from P%d: granted %d, counted %d; slot 1 holds (%d, %d)\n",
		y_a, y_b, y_p, x_hok, y_rep, abal[IDX(y_a, 1)], aval[IDX(y_a, 1)]);
	if
	:: y_rep ->
		setmax(r_prom[y_p], promised[y_a] >> 2);
		cmax_of(y_a, x_hc);
		setmax(r_cmax[y_p], x_hc);
		x_hc = 0;
		if
		:: x_hok ->
			r_n[y_p]++;
			for (x_pw : 1 .. NS) {
				if
				:: x_pw >= (y_from) && aval[IDX(y_a, x_pw)] != 0 ->
#ifdef DECIDE_FROM_PROMISES
					if
					:: r_v1[PS(y_p, x_pw)] == 0 || r_v1[PS(y_p, x_pw)] == aval[IDX(y_a, x_pw)] ->
						r_v1[PS(y_p, x_pw)] = aval[IDX(y_a, x_pw)];
						r_c1[PS(y_p, x_pw)]++
					:: else ->
						if
						:: r_v2[PS(y_p, x_pw)] == 0 || r_v2[PS(y_p, x_pw)] == aval[IDX(y_a, x_pw)] ->
							r_v2[PS(y_p, x_pw)] = aval[IDX(y_a, x_pw)];
							r_c2[PS(y_p, x_pw)]++
						:: else -> skip
						fi
					fi;
#endif
					if
					:: r_pv[PS(y_p, x_pw)] == 0 || abal[IDX(y_a, x_pw)] > r_pb[PS(y_p, x_pw)] ->
						r_pv[PS(y_p, x_pw)] = aval[IDX(y_a, x_pw)];
						r_pb[PS(y_p, x_pw)] = abal[IDX(y_a, x_pw)]
					:: else -> skip
					fi
				:: else -> skip
				fi
			}
		:: else -> skip
		fi
	:: else -> skip
	fi;
	x_hok = 0
}

/*
 * paxos_acceptor_accept(b, s, v) at a; with `rep` the reply reaches p's
 * round (its chosen_max only from a peer, as in pw_phase2).
 */
inline acc_accept(y_a, y_p, y_b, y_s, y_v, y_rep)
{
	x_hc = (logv[IDX(y_a, y_s)] != 0);
	x_hok = (promised[y_a] <= (y_b) && !x_hc);
	printf("  node %d: accept(%d, slot %d, value %d) from P%d: accepted %d, counted %d\n",
		y_a, y_b, y_s, y_v, y_p, x_hok, y_rep);
	if
	:: x_hok ->
		promised[y_a] = (y_b);
		abal[IDX(y_a, y_s)] = (y_b);
		aval[IDX(y_a, y_s)] = (y_v);
		observe_choice(y_s, y_b, y_v)
	:: else -> skip
	fi;
	if
	:: y_rep ->
		if
		:: x_hok -> r_n[y_p]++
		:: else -> skip
		fi;
		r_behind[y_p] = r_behind[y_p] || x_hc;
		setmax(r_prom[y_p], promised[y_a] >> 2);
		if
		:: (y_a) != (y_p) -> cmax_of(y_a, x_hc); setmax(r_cmax[y_p], x_hc)
		:: else -> skip
		fi
	:: else -> skip
	fi;
	x_hok = 0;
	x_hc = 0
}

/* paxos_round_begin, one peer: send now, or once its straggler is done */
inline send(y_k, y_kind, y_b, y_s, y_v)
{
	if
	:: cq_kind[y_k] == RQ_NONE ->
		cq_kind[y_k] = y_kind;
		cq_bal[y_k] = (y_b);
		cq_slot[y_k] = (y_s);
		cq_val[y_k] = (y_v);
		cq_stale[y_k] = 0
	:: else ->
		cd_kind[y_k] = y_kind;
		cd_bal[y_k] = (y_b);
		cd_slot[y_k] = (y_s);
		cd_val[y_k] = (y_v)
	fi
}

/* the round is over: queries still out are stragglers, waiting ones go */
inline end_round(y_p)
{
	for (x_ev : 0 .. NA - 1) {
		if
		:: x_ev != (y_p) ->
			x_ek = CN(y_p, x_ev);
			cq_stale[x_ek] = (cq_kind[x_ek] != RQ_NONE);
			cd_kind[x_ek] = 0;
			cd_bal[x_ek] = 0;
			cd_slot[x_ek] = 0;
			cd_val[x_ek] = 0
		:: else -> skip
		fi
	};
	r_n[y_p] = 0;
	r_behind[y_p] = 0;
	r_prom[y_p] = 0;
	r_cmax[y_p] = 0;
	for (x_ev : 1 .. NS) {
		r_pv[PS(y_p, x_ev)] = 0;
		r_pb[PS(y_p, x_ev)] = 0;
#ifdef DECIDE_FROM_PROMISES
		r_v1[PS(y_p, x_ev)] = 0;
		r_c1[PS(y_p, x_ev)] = 0;
		r_v2[PS(y_p, x_ev)] = 0;
		r_c2[PS(y_p, x_ev)] = 0;
#endif
		skip
	};
	x_ek = 0
}

/* agreement and validity, as proposer decides v for s */
inline decide(y_s, y_v)
{
	printf("P%d: DECIDES slot %d = value %d\n", p, y_s, y_v);
	assert(decided[y_s] == 0 || decided[y_s] == (y_v));
	assert(paxchosen[y_s] == 0 || paxchosen[y_s] == (y_v));
	assert((y_v) != 0 && VSLOT(y_v) == (y_s) && VATT(y_v) < gatt[VPROP(y_v)]);
#if SANITY == 1
	assert(y_s < NS);			/* fails: the last slot can be decided */
#elif SANITY == 2
	assert(VPROP(y_v) == p);	/* fails: a value is carried over by the other */
#endif
	decided[y_s] = (y_v)
}

/* pw_broadcast_learn: to every idle peer connection, no reply awaited */
inline broadcast_learn(y_p, y_s, y_v)
{
	for (x_bv : 0 .. NA - 1) {
		if
		:: x_bv != (y_p) && cq_kind[CN(y_p, x_bv)] == RQ_NONE ->
			x_bk = CN(y_p, x_bv);
			cq_kind[x_bk] = RQ_LEARN;
			cq_slot[x_bk] = (y_s);
			cq_val[x_bk] = (y_v);
			cq_stale[x_bk] = 1
		:: else -> skip
		fi
	};
	x_bk = 0
}

/* pw_phase2, first step: the accepts of (ballot, s, v) go to every peer */
inline send_accepts()
{
	for (x_t : 0 .. NA - 1) {
		if
		:: x_t != p -> send(CN(p, x_t), RQ_ACCEPT, ballot, s, v)
		:: else -> skip
		fi
	};
	skip
}

/* after phase 1: slot s gets the value the promises reported, or a no-op */
inline pick_value()
{
	v = pv[s];
	pv[s] = 0;
	if
	:: v == 0 -> v = VALUE(p, s, gatt[p], 1)
	:: else -> skip
	fi
}

/* the next slot to propose while leading: again, or a new batch */
inline propose_next()
{
#ifdef DECIDE_FROM_PROMISES
	do
	:: s <= top && (dfp & (1 << s)) != 0 -> s++; next = s
	:: else -> break
	od;
#endif
	if
	:: s <= top ->
		pick_value();
		send_accepts();
		pc = PC_P2_LOCAL
	:: else ->
		top = 0;
		from = 0;
#ifdef DECIDE_FROM_PROMISES
		dfp = 0;
#endif
		if
		:: s <= NS ->
			/* pw_propose: the pending requests' batch at pw_next_slot */
			v = VALUE(p, s, gatt[p], 0);
			send_accepts();
			pc = PC_P2_LOCAL
		:: else ->
			s = 0;
			v = 0;
			pc = PC_IDLE
		fi
	fi
}

/* pw_backoff: step down */
inline backoff()
{
	leader = 0;
	ballot = 0;
	next = 0;
	v = 0;
	s = 0;
	top = 0;
	from = 0;
#ifdef DECIDE_FROM_PROMISES
	dfp = 0;
#endif
	for (x_t : 1 .. NS) {
		pv[x_t] = 0
	};
	pc = PC_IDLE
}

/* pw_phase1, first step: a ballot above every promise seen, prepares out */
inline phase1_start()
{
	leader = 0;
	attempts++;
	gatt[p]++;
	from = applied[p] + 1;
	ballot = (mround + 1) * 4 + p + 1;
	printf("P%d: prepare(ballot %d, from %d)\n", p, ballot, from);
	for (x_t : 0 .. NA - 1) {
		if
		:: x_t != p -> send(CN(p, x_t), RQ_PREPARE, ballot, from, 0)
		:: else -> skip
		fi
	};
	/* the local prepare, in a transaction of its own */
	acc_prepare(p, p, ballot, from, 1);
	pc = PC_P1_WAIT
}

/*
 * The log worker of node p: pw_step / pw_propose / pw_phase1 / pw_phase2
 * as a machine whose every transition is one atomic step; a round ends
 * (enough replies, or the timeout) at any time after it began.
 */
proctype Proposer(byte p)
{
	byte pc;
	byte restarts;
	byte mround;		/* ROUND(pw_max_promise) */
	byte pcmax;			/* pw_peer_chosen_max */
	bool leader;		/* pw_leader */
	byte ballot;		/* pw_ballot */
	byte next;			/* pw_next_slot */
	byte from;			/* phase 1's from_slot */
	byte top;			/* the last slot a promise reported */
	byte s;				/* the slot in phase 2 */
	byte v;				/* its value */
	byte pv[NS + 1];	/* what phase 1 must propose again, per slot */
#ifdef DECIDE_FROM_PROMISES
	byte dfp;			/* slots decided from the promises */
#endif

end_idle:
	do
	/* pw_propose when not leading: pw_phase1 sends its prepares */
	:: pc == PC_IDLE && voting[p] && applied[p] < NS &&
	   !(leader && next == applied[p] + 1) &&
	   attempts < ROUNDS && gatt[p] < MAXATT ->
		d_step { phase1_start() }

	/*
	 * The worker exited and the postmaster started a new one, which
	 * starts with phase 1: pw_leader, pw_max_promise and
	 * pw_peer_chosen_max are lost; durable state stays.
	 */
	:: pc == PC_IDLE && voting[p] && applied[p] < NS &&
	   restarts < MAXRESTART && attempts < ROUNDS && gatt[p] < MAXATT ->
		d_step {
			restarts++;
			mround = 0;
			pcmax = 0;
			phase1_start()
		}

	/* pw_propose when leading: the next batch at pw_next_slot */
	:: pc == PC_IDLE && voting[p] && applied[p] < NS &&
	   leader && next == applied[p] + 1 ->
		d_step {
			s = next;
			v = VALUE(p, s, gatt[p], 0);
			send_accepts();
			pc = PC_P2_LOCAL
		}

	/* phase 1's round ends: catch up, fail, or lead */
	:: pc == PC_P1_WAIT ->
		d_step {
			setmax(mround, r_prom[p]);
			setmax(pcmax, r_cmax[p]);
			top = from - 1;
			for (x_t : 1 .. NS) {
				pv[x_t] = r_pv[PS(p, x_t)];
				if
				:: pv[x_t] != 0 -> top = x_t
				:: else -> skip
				fi
			};
#ifdef DECIDE_FROM_PROMISES
			/*
			 * BROKEN: a value that a majority of the grants reported is
			 * taken as chosen, whatever its ballots.
			 */
			if
			:: r_n[p] >= MAJ && pcmax < from ->
				for (x_t : 1 .. NS) {
					x_u = 0;
					if
					:: r_c1[PS(p, x_t)] >= MAJ -> x_u = r_v1[PS(p, x_t)]
					:: r_c2[PS(p, x_t)] >= MAJ -> x_u = r_v2[PS(p, x_t)]
					:: else -> skip
					fi;
					if
					:: x_u != 0 && logv[IDX(p, x_t)] == 0 ->
						decide(x_t, x_u);
						learn_at(p, x_t, x_u);
						dfp = dfp | (1 << x_t)
					:: else -> skip
					fi
				};
				x_u = 0
			:: else -> skip
			fi;
#endif
			x_hc = r_n[p];
			end_round(p);
#ifndef NO_CHOSEN_MAX_CHECK
			if
			:: pcmax >= from ->
				/* a reply's chosen_max: entries we lack; catch up */
				printf("P%d: ballot %d: a peer has chosen slot %d, catch up\n",
					p, ballot, pcmax);
				catch_up(p);
				x_hc = 0
			:: else -> skip
			fi;
#endif
			if
			:: pcmax <= applied[p] -> pcmax = 0	/* no news: forget it */
			:: else -> skip
			fi;
			if
			:: x_hc >= MAJ ->
				/* we lead: propose again what the promises reported */
				printf("P%d: ballot %d: %d grants, leads from slot %d\n",
					p, ballot, x_hc, from);
				leader = 1;
				next = from;
				s = from;
				propose_next()
			:: else ->
				printf("P%d: ballot %d: phase 1 fails\n", p, ballot);
				backoff()
			fi;
			x_hc = 0
		}

	/* pw_phase2: the local accept, in a transaction of its own */
	:: pc == PC_P2_LOCAL ->
		d_step {
			acc_accept(p, p, ballot, s, v, 1);
			pc = PC_P2_WAIT
		}

	/*
	 * The worker dies after its accepts went out and before its local
	 * accept committed (any other moment is a failed round followed by a
	 * restart before the next phase 1, below); its peers may still accept.
	 */
	:: pc == PC_P2_LOCAL && restarts < MAXRESTART ->
		d_step {
			restarts++;
			end_round(p);
			backoff();
			mround = 0;
			pcmax = 0
		}

	/* pw_phase2's round ends: chosen on a majority in this ballot */
	:: pc == PC_P2_WAIT ->
		d_step {
			setmax(mround, r_prom[p]);
			setmax(pcmax, r_cmax[p]);
			if
			:: pcmax <= applied[p] -> pcmax = 0	/* no news: forget it */
			:: else -> skip
			fi;
			if
			:: r_n[p] >= MAJ ->
				decide(s, v);
				learn_at(p, s, v);
				broadcast_learn(p, s, v);
				end_round(p);
				s++;
				next = s;
				propose_next()
			:: else ->
				printf("P%d: ballot %d: phase 2 fails at slot %d\n", p, ballot, s);
				x_hc = r_behind[p];
				end_round(p);
				if
				:: x_hc -> catch_up(p)		/* P2_BEHIND */
				:: else -> skip
				fi;
				x_hc = 0;
				backoff()
			fi
		}
	od
}

/* one query runs on its peer: the SQL function the proposer called */
inline deliver(y_K)
{
	x_da = CNODE(y_K);
	if
	:: cq_kind[y_K] == RQ_LEARN ->
		learn_at(x_da, cq_slot[y_K], cq_val[y_K])
	:: cq_kind[y_K] == RQ_PREPARE && voting[x_da] ->
		acc_prepare(x_da, CPROP(y_K), cq_bal[y_K], cq_slot[y_K], !cq_stale[y_K])
	:: cq_kind[y_K] == RQ_ACCEPT && voting[x_da] ->
		acc_accept(x_da, CPROP(y_K), cq_bal[y_K], cq_slot[y_K], cq_val[y_K], !cq_stale[y_K])
	:: else -> skip		/* "this node does not vote yet": no vote */
	fi;
	/* the connection is free: the round's waiting query goes out */
	cq_kind[y_K] = cd_kind[y_K];
	cq_bal[y_K] = cd_bal[y_K];
	cq_slot[y_K] = cd_slot[y_K];
	cq_val[y_K] = cd_val[y_K];
	cq_stale[y_K] = 0;
	cd_kind[y_K] = 0;
	cd_bal[y_K] = 0;
	cd_slot[y_K] = 0;
	cd_val[y_K] = 0;
	x_da = 0
}

/* the peers' servers run queries at any time, or never; node 2's worker */
proctype Network()
{
end_net:
	do
	:: d_step { cq_kind[CN(0, 1)] != RQ_NONE -> deliver(CN(0, 1)) }
	:: d_step { cq_kind[CN(0, 2)] != RQ_NONE -> deliver(CN(0, 2)) }
	:: d_step { cq_kind[CN(1, 0)] != RQ_NONE -> deliver(CN(1, 0)) }
	:: d_step { cq_kind[CN(1, 2)] != RQ_NONE -> deliver(CN(1, 2)) }
#ifdef AMNESIA
	/* node 2 loses its data directory; the queries on it are lost */
	:: !amnesia_done ->
		d_step {
#if AMNESIA == 2
			printf("node 2: RESTORED FROM AN OLD BACKUP (voting = true)\n");
#endif
#if AMNESIA == 1
			printf("node 2: DATA DIRECTORY LOST (init_cluster: voting = false)\n");
#endif
			amnesia_done = 1;
			promised[2] = 0;
			applied[2] = 0;
			for (x_t : 1 .. NS) {
				abal[IDX(2, x_t)] = 0;
				aval[IDX(2, x_t)] = 0;
				logv[IDX(2, x_t)] = 0
			};
			voting[2] = 0;
			for (x_t : 0 .. NP - 1) {
				x_hk = CN(x_t, 2);
				cq_kind[x_hk] = 0;
				cq_bal[x_hk] = 0;
				cq_slot[x_hk] = 0;
				cq_val[x_hk] = 0;
				cq_stale[x_hk] = 0;
				cd_kind[x_hk] = 0;
				cd_bal[x_hk] = 0;
				cd_slot[x_hk] = 0;
				cd_val[x_hk] = 0
			};
			x_hk = 0
		}
#if AMNESIA == 1
	/*
	 * pw_try_recover after init_cluster (voting = false): the statuses of
	 * every other member, one reply at a time; catch-up; vote unless still
	 * behind or a slot is accepted beyond the chosen ones, adopting the
	 * highest promise.
	 */
	:: amnesia_done && !voting[2] && rc_stage < 2 ->
		d_step {
			cmax_of(rc_stage, x_hk);
			setmax(rc_cmax, x_hk);
			amax_of(rc_stage, x_hk);
			setmax(rc_amax, x_hk);
			setmax(rc_prom, promised[rc_stage]);
			printf("node 2: status of node %d: chosen_max %d, accepted_max %d, promised %d\n",
				rc_stage, rc_cmax, rc_amax, promised[rc_stage]);
			rc_stage++;
			x_hk = 0
		}
	:: amnesia_done && !voting[2] && rc_stage == 2 ->
		d_step {
			catch_up(2);
			if
			:: applied[2] >= rc_cmax && rc_amax <= rc_cmax ->
				setmax(promised[2], rc_prom);
				printf("node 2: votes again, promised %d\n", promised[2]);
				voting[2] = 1
			:: else -> skip
			fi;
			rc_stage = 0;
			rc_cmax = 0;
			rc_amax = 0;
			rc_prom = 0
		}
#elif AMNESIA == 3
	/*
	 * The fenced rejoin: instead of reading statuses, the node sends every
	 * other member a prepare with a ballot of its own above every promise,
	 * from the slot after the chosen ones; each grant reports the values
	 * accepted beyond, and from then on refuses any accept of a lower
	 * ballot still in flight.  The node votes, with that promise, once
	 * every other member granted, it caught up, and no grant reported a
	 * slot beyond the chosen ones.  worker.c differs in one way the model
	 * leaves out: where grants report such a slot, it does not wait for a
	 * leader to finish it but proposes it again itself, an ordinary
	 * phase 2 under the fence ballot counting only the other members'
	 * acceptances (their grants are a phase-1 quorum that meets every
	 * majority).
	 */
	:: amnesia_done && !voting[2] && rc_stage == 0 && rc_tries < 2 ->
		d_step {
			rc_tries++;
			x_hk = promised[0];
			setmax(x_hk, promised[1]);
			rc_bal = ((x_hk >> 2) + 1) * 4 + 3;
			rc_ok = 1;
			rc_cmax = applied[2];
			rc_amax = 0;
			rc_stage = 1;
			x_hk = 0
		}
	:: amnesia_done && !voting[2] && (rc_stage == 1 || rc_stage == 2) ->
		d_step {
			x_t = rc_stage - 1;
			if
			:: promised[x_t] < rc_bal ->
				promised[x_t] = rc_bal;
				cmax_of(x_t, x_hk);
				setmax(rc_cmax, x_hk);
				amax_of(x_t, x_hk);
				setmax(rc_amax, x_hk)
			:: else -> rc_ok = 0
			fi;
			printf("node 2: fencing prepare(%d) at node %d: granted %d\n",
				rc_bal, x_t, promised[x_t] == rc_bal);
			rc_stage++;
			x_t = 0;
			x_hk = 0
		}
	:: amnesia_done && !voting[2] && rc_stage == 3 ->
		d_step {
			catch_up(2);
			if
			:: rc_ok && applied[2] >= rc_cmax && rc_amax <= rc_cmax ->
				setmax(promised[2], rc_bal);
				printf("node 2: votes again, promised %d\n", promised[2]);
				voting[2] = 1
			:: else -> skip
			fi;
			rc_stage = 0;
			rc_cmax = 0;
			rc_amax = 0;
			rc_ok = 0;
			rc_bal = 0
		}
#else
	/*
	 * pw_try_recover after a restart with voting = true (an old backup):
	 * the statuses of a majority (this node and one other); catch-up;
	 * vote, adopting the highest promise.
	 */
	:: amnesia_done && !voting[2] ->
		if
		:: rc_stage = 0
		:: rc_stage = 1
		fi;
		d_step {
			cmax_of(rc_stage, rc_cmax);
			rc_prom = promised[rc_stage];
			fetch(2, rc_stage);
			if
			:: applied[2] >= rc_cmax ->
				setmax(promised[2], rc_prom);
				printf("node 2: votes again after a majority of statuses, promised %d\n",
					promised[2]);
				voting[2] = 1
			:: else -> skip
			fi;
			rc_stage = 0;
			rc_cmax = 0;
			rc_prom = 0
		}
#endif
#endif
	od
}

init
{
	atomic {
		voting[0] = 1;
		voting[1] = 1;
		voting[2] = 1;
		run Network();
		run Proposer(0);
		run Proposer(1)
	}
}
