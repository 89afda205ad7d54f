/*
 * paxos.pml -- a Promela model of schemaevo's Multi-Paxos log AS BUILT
 * (src/paxos), for the SPIN model checker.  test/spin/check.sh runs it.
 *
 * What is modelled: 3 nodes, each an acceptor with durable state; the
 * log workers of nodes 0 and 1 are proposers (node 2 only votes, learns
 * and catches up); NS log slots; at most MAXR phase-1 attempts and
 * MAXRESTART worker restarts per proposer, so the state space is finite.
 *
 * Mapping to the C code (docs/protocol.md describes the protocol):
 *
 *   acceptor_state.promised        promised[a]
 *   acceptor_slots (slot, ballot,  abal[], aval[]; rows up to the applied
 *     value)                         slot are deleted by the apply step
 *   log, node_state.applied_slot   logv[], applied[]
 *   cluster_self.voting / shared   voting[a]
 *     voting flag
 *   acc_prepare()                  paxos_acceptor_prepare (acceptor.c):
 *                                  grant iff ballot > promised, raise the
 *                                  promise, report accepted values of
 *                                  slots >= from, chosen_max, applied
 *   acc_accept()                   paxos_acceptor_accept (acceptor.c):
 *                                  accept iff ballot >= promised and the
 *                                  slot is not in the local log; raise
 *                                  the promise
 *   learn_at(), apply_at()         paxos_log_insert + paxos_apply (apply.c);
 *                                  the assertion there is the "two
 *                                  different values chosen" error
 *   fetch()                        pw_fetch_from / pw_catch_up (worker.c)
 *   Proposer, "phase 1" option     pw_propose -> pw_phase1 (worker.c): one
 *                                  ballot (round << 2 | node index; the C
 *                                  code shifts by 8) from
 *                                  ROUND(highest promise seen) + 1, prepare
 *                                  from applied + 1 to every peer, the
 *                                  local prepare in a transaction of its
 *                                  own, then the replies present when the
 *                                  round ends; catch up instead when a
 *                                  reply's chosen_max >= from; lead on a
 *                                  majority of grants; re-propose per slot
 *                                  the highest-ballot value of the granted
 *                                  promises, a fresh no-op for a gap
 *   phase2()                       pw_phase2: accept to every peer, the
 *                                  local accept, count replies with
 *                                  "ok"; chosen on a majority in this
 *                                  ballot; then log, apply, learn
 *   Proposer, "propose" step       pw_propose: the next batch (or a repair
 *                                  no-op) at applied + 1 while leader
 *   Proposer, "status" option      pw_status_round: promises seen,
 *                                  chosen_max, catch-up
 *   Proposer, "restart" option     the worker exits and is restarted:
 *                                  pw_leader, pw_max_promise and
 *                                  pw_peer_chosen_max are lost; durable
 *                                  state stays
 *   cq_* / cd_*, Network process   transport.c: one query in flight per
 *                                  connection; a round's query to a busy
 *                                  connection waits (cd_*) until the
 *                                  straggler finishes; a query of an
 *                                  ended round still runs on the peer,
 *                                  its reply is ignored (query_round);
 *                                  a learn to a busy peer is dropped
 *   AMNESIA (variants)             node 2 loses its data directory and
 *                                  rejoins (pw_try_recover)
 *
 * Message loss, delay and reordering: every request is processed by the
 * Network process at any later time or never; a proposer ends a round at
 * any time (its timeout) and counts only the replies that arrived.
 *
 * Properties (assertions):
 *   agreement   no two different values are decided for a slot, no node
 *               learns a value other than the one in its log, and no two
 *               values gather a majority of acceptances in one ballot;
 *   validity    a decided value was originated for that slot by some
 *               proposer (its batch or a no-op).
 * Values are distinct per proposer, slot, attempt and kind (batch or
 * no-op), as the C values are (each carries proposed_by and proposed_at).
 *
 * Variants (spin -D...):
 *   -DDECIDE_FROM_PROMISES  the pg_paxos bug: phase 1 decides a slot when
 *                           a majority of the granted promises report the
 *                           same value, whatever their ballots.  SPIN
 *                           finds an agreement violation (with MAXR=3).
 *   -DNO_CHOSEN_MAX_CHECK   pw_phase1 without its catch-up test: a
 *                           proposer behind the log leads anyway.  SPIN
 *                           finds a violation: an acceptor's rows are
 *                           deleted once it applied a slot, so only
 *                           chosen_max tells the proposer about it.
 *   -DAMNESIA=1             node 2's data directory is wiped; init_cluster
 *                           makes it a non-voter that votes again after a
 *                           status snapshot of every other member shows
 *                           it caught up and no slot accepted beyond
 *                           the chosen ones (worker.c pw_try_recover).
 *                           SPIN finds a violation: an accept still in
 *                           flight when the snapshot is taken can combine
 *                           with the wiped node's lost acceptance.
 *   -DAMNESIA=2             node 2 is restored from an old backup (or an
 *                           asynchronous standby is promoted in its place)
 *                           with voting = true: the restart path (a
 *                           majority of statuses) lets it vote with lost
 *                           promises.  SPIN finds a violation.
 */

#ifndef NS
#define NS 2				/* log slots 1 .. NS */
#endif
#ifndef MAXR
#define MAXR 2				/* phase-1 attempts per proposer */
#endif
#ifndef MAXRESTART
#define MAXRESTART 1		/* worker restarts per proposer */
#endif

#define NA		3			/* nodes, each an acceptor */
#define NP		2			/* proposers: the workers of nodes 0 and 1 */
#define MAJ		2			/* majority of NA */

#define IDX(a, s)	((a) * (NS + 1) + (s))	/* per node and slot */
#define CN(p, a)	((p) * NA + (a))		/* connection p -> a */
#define RIDX(k, s)	((k) * (NS + 1) + (s))	/* per reply and slot */

#define RQ_NONE		0
#define RQ_PREPARE	1
#define RQ_ACCEPT	2
#define RQ_LEARN	3

#define P2_CHOSEN	1
#define P2_FAILED	2
#define P2_BEHIND	3
#define P1_LEAD		4
#define P1_FAIL		5
#define P1_CATCHUP	6

/* a value: proposer, slot, attempt, batch (0) or no-op (1); 0 is "none" */
#define VALUE(p, s, att, noop) \
	(1 + ((((p) * NS + (s) - 1) * MAXR + (att) - 1) * 2 + (noop)))
#define VNOOP(v)	(((v) - 1) % 2)
#define VATT(v)		((((v) - 1) / 2) % MAXR)
#define VSLOT(v)	((((v) - 1) / 2 / MAXR) % NS + 1)
#define VPROP(v)	(((v) - 1) / 2 / MAXR / NS)
/* bit of a value in originated[its slot] */
#define VBIT(v)		(1 << ((VPROP(v) * MAXR + VATT(v)) * 2 + VNOOP(v)))

/* ---- durable state of every node ---- */
byte promised[NA];
byte abal[NA * (NS + 1)];
byte aval[NA * (NS + 1)];
byte logv[NA * (NS + 1)];
byte applied[NA];
bool voting[NA];

/* ---- connections: the query in flight, and the one waiting for it ---- */
byte cq_kind[NP * NA];
byte cq_bal[NP * NA];
byte cq_slot[NP * NA];		/* slot, or from_slot of a prepare */
byte cq_val[NP * NA];
bool cq_stale[NP * NA];		/* of a round that has ended */
byte cd_kind[NP * NA];
byte cd_bal[NP * NA];
byte cd_slot[NP * NA];
byte cd_val[NP * NA];

/* ---- replies of the current round; CN(p, p) holds the local call's ---- */
bool rp_has[NP * NA];
bool rp_ok[NP * NA];
byte rp_prom[NP * NA];
byte rp_cmax[NP * NA];
bool rp_chosen[NP * NA];
byte rp_bal[NP * NA * (NS + 1)];
byte rp_val[NP * NA * (NS + 1)];

/* ---- observers ---- */
byte decided[NS + 1];		/* value a proposer decided */
byte paxchosen[NS + 1];		/* value a majority accepted in one ballot */
int originated[NS + 1];		/* values proposed first-hand, per slot */

#ifdef AMNESIA
bool amnesia_done;
byte rc_stage;				/* recovery: statuses read so far */
byte rc_cmax;
byte rc_amax;
byte rc_prom;
#endif

/*
 * Temporaries, used only inside d_step blocks (so never live across a
 * step) and kept out of the state vector.  Each inline has its own.
 */
hidden byte x_t;
hidden byte x_u;
hidden byte x_w;
hidden byte x_hk;
hidden byte x_hn;
hidden byte x_hc;
hidden byte x_hok;
hidden byte x_cv;			/* cmax_of, amax_of */
hidden byte x_ov;			/* observe_choice */
hidden byte x_oc;
hidden byte x_fv;			/* fetch */
hidden byte x_ev;			/* end_round */
hidden byte x_ek;
hidden byte x_eu;
hidden byte x_pw;			/* acc_prepare */
hidden byte x_bv;			/* broadcast_learn */
hidden byte x_bk;
hidden byte x_da;			/* deliver */

inline setmax(x, y)
{
	if
	:: (y) > (x) -> x = (y)
	:: else -> skip
	fi
}

/* the highest slot in a's log (chosen_max) */
inline cmax_of(a, out)
{
	out = 0;
	for (x_cv : 1 .. NS) {
		if
		:: logv[IDX(a, x_cv)] != 0 -> out = x_cv
		:: else -> skip
		fi
	};
	skip
}

/* the highest slot in a's acceptor_slots (accepted_max) */
inline amax_of(a, out)
{
	out = 0;
	for (x_cv : 1 .. NS) {
		if
		:: abal[IDX(a, x_cv)] != 0 -> out = x_cv
		:: else -> skip
		fi
	};
	skip
}

/* paxos_apply, repeatedly: applied slot up, acceptor rows up to it gone */
inline apply_at(a)
{
	do
	:: applied[a] < NS && logv[IDX(a, applied[a] + 1)] != 0 ->
		applied[a]++;
		abal[IDX(a, applied[a])] = 0;
		aval[IDX(a, applied[a])] = 0
	:: else -> break
	od;
	skip
}

/* paxos_log_insert: a slot chosen twice must have the same value */
inline learn_at(a, s, v)
{
	assert(logv[IDX(a, s)] == 0 || logv[IDX(a, s)] == (v));
	logv[IDX(a, s)] = (v);
	apply_at(a)
}

/* pw_fetch_from: chosen entries of src after dst's applied slot */
inline fetch(dst, src)
{
	for (x_fv : 1 .. NS) {
		if
		:: x_fv > applied[dst] && logv[IDX(src, x_fv)] != 0 ->
			learn_at(dst, x_fv, logv[IDX(src, x_fv)])
		:: else -> skip
		fi
	};
	skip
}

/* pw_catch_up: fetch from every peer */
inline catch_up(p)
{
	for (x_t : 0 .. NA - 1) {
		if
		:: x_t != p -> fetch(p, x_t)
		:: else -> skip
		fi
	};
	skip
}

/* counts the acceptors holding (b, v) for s: a majority means chosen */
inline observe_choice(s, b, v)
{
	x_oc = 0;
	for (x_ov : 0 .. NA - 1) {
		if
		:: abal[IDX(x_ov, s)] == (b) && aval[IDX(x_ov, s)] == (v) -> x_oc++
		:: else -> skip
		fi
	}
	if
	:: x_oc >= MAJ ->
		assert(paxchosen[s] == 0 || paxchosen[s] == (v));
		paxchosen[s] = (v)
	:: else -> skip
	fi;
	x_oc = 0
}

/* paxos_acceptor_prepare at a; the reply goes to slot k if `rep` */
inline acc_prepare(a, k, b, from, rep)
{
	x_hok = (promised[a] < (b));
	if
	:: x_hok -> promised[a] = (b)
	:: else -> skip
	fi;
	if
	:: rep ->
		rp_has[k] = 1;
		rp_ok[k] = x_hok;
		rp_prom[k] = promised[a];
		cmax_of(a, rp_cmax[k]);
		for (x_pw : 1 .. NS) {
			if
			:: x_pw >= (from) ->
				rp_bal[RIDX(k, x_pw)] = abal[IDX(a, x_pw)];
				rp_val[RIDX(k, x_pw)] = aval[IDX(a, x_pw)]
			:: else -> skip
			fi
		}
	:: else -> skip
	fi;
	x_hok = 0
}

/* paxos_acceptor_accept at a */
inline acc_accept(a, k, b, s, v, rep)
{
	x_hc = (logv[IDX(a, s)] != 0);
	x_hok = (promised[a] <= (b) && !x_hc);
	if
	:: x_hok ->
		promised[a] = (b);
		abal[IDX(a, s)] = (b);
		aval[IDX(a, s)] = (v);
		observe_choice(s, b, v)
	:: else -> skip
	fi;
	if
	:: rep ->
		rp_has[k] = 1;
		rp_ok[k] = x_hok;
		rp_prom[k] = promised[a];
		rp_chosen[k] = x_hc;
		cmax_of(a, rp_cmax[k])
	:: else -> skip
	fi;
	x_hok = 0;
	x_hc = 0
}

/* paxos_round_begin for one peer: send now, or after the straggler */
inline send(k, kind, b, s, v)
{
	if
	:: cq_kind[k] == RQ_NONE ->
		cq_kind[k] = kind;
		cq_bal[k] = (b);
		cq_slot[k] = (s);
		cq_val[k] = (v);
		cq_stale[k] = 0
	:: else ->
		cd_kind[k] = kind;
		cd_bal[k] = (b);
		cd_slot[k] = (s);
		cd_val[k] = (v)
	fi
}

/* the round is over: queries still out are stragglers, waiting ones dropped */
inline end_round(p)
{
	for (x_ev : 0 .. NA - 1) {
		x_ek = CN(p, x_ev);
		cq_stale[x_ek] = (cq_kind[x_ek] != RQ_NONE);
		cd_kind[x_ek] = 0;
		cd_bal[x_ek] = 0;
		cd_slot[x_ek] = 0;
		cd_val[x_ek] = 0;
		rp_has[x_ek] = 0;
		rp_ok[x_ek] = 0;
		rp_prom[x_ek] = 0;
		rp_cmax[x_ek] = 0;
		rp_chosen[x_ek] = 0;
		for (x_eu : 1 .. NS) {
			rp_bal[RIDX(x_ek, x_eu)] = 0;
			rp_val[RIDX(x_ek, x_eu)] = 0
		}
	};
	skip
}

/* agreement and validity, when a proposer decides v for s */
inline decide(s, v)
{
	assert(decided[s] == 0 || decided[s] == (v));
	assert(paxchosen[s] == 0 || paxchosen[s] == (v));
	assert(VSLOT(v) == (s) && (originated[s] & VBIT(v)) != 0);
	decided[s] = (v)
}

/* pw_broadcast_learn: to every idle peer connection, no reply awaited */
inline broadcast_learn(p, s, v)
{
	for (x_bv : 0 .. NA - 1) {
		x_bk = CN(p, x_bv);
		if
		:: x_bv != p && cq_kind[x_bk] == RQ_NONE ->
			cq_kind[x_bk] = RQ_LEARN;
			cq_slot[x_bk] = (s);
			cq_val[x_bk] = (v);
			cq_stale[x_bk] = 1
		:: else -> skip
		fi
	};
	skip
}

/*
 * pw_phase2(s, v) under `ballot`; sets res.  Three steps: the accepts go
 * out; the local accept (its own transaction); the round ends and the
 * replies that arrived are counted.
 */
inline phase2(s2, v2)
{
	d_step {
		for (x_t : 0 .. NA - 1) {
			if
			:: x_t != p -> send(CN(p, x_t), RQ_ACCEPT, ballot, s2, v2)
			:: else -> skip
			fi
		}
	}
	d_step {
		acc_accept(p, CN(p, p), ballot, s2, v2, 1)
	}
	d_step {
		x_hc = 0;
		x_u = 0;
		for (x_t : 0 .. NA - 1) {
			x_hk = CN(p, x_t);
			if
			:: rp_has[x_hk] ->
				if
				:: rp_ok[x_hk] -> x_u++
				:: else -> skip
				fi;
				x_hc = x_hc || rp_chosen[x_hk];
				setmax(maxprom, rp_prom[x_hk]);
				if
				:: x_t != p -> setmax(pcmax, rp_cmax[x_hk])
				:: else -> skip
				fi
			:: else -> skip
			fi
		}
		end_round(p);
		if
		:: x_u >= MAJ ->
			decide(s2, v2);
			learn_at(p, s2, v2);
			broadcast_learn(p, s2, v2);
			res = P2_CHOSEN
		:: else ->
			res = (x_hc -> P2_BEHIND : P2_FAILED)
		fi;
		x_u = 0;
		x_hc = 0
	}
}

/* the log worker of node p */
proctype Proposer(byte p)
{
	byte att;			/* phase-1 attempts so far */
	byte restarts;
	byte maxprom;		/* pw_max_promise */
	byte pcmax;			/* pw_peer_chosen_max */
	bool leader;		/* pw_leader */
	byte ballot;		/* pw_ballot */
	byte next;			/* pw_next_slot */
	byte from;
	byte top;
	byte s;
	byte v;
	byte res;
	byte pv[NS + 1];	/* value to propose again, per slot */
	byte bb[NS + 1];	/* its ballot */
#ifdef DECIDE_FROM_PROMISES
	byte dfp;			/* slots decided from the promises */
#endif

end_loop:
	do
	:: applied[p] < NS && voting[p] &&
	   ((leader && next == applied[p] + 1) || att < MAXR) ->
		/* pw_propose */
		if
		:: leader && next == applied[p] + 1 -> skip
		:: else ->
			/* pw_phase1 */
			d_step {
				leader = 0;
				att++;
				from = applied[p] + 1;
				ballot = ((maxprom >> 2) + 1) * 4 + p + 1;
				for (x_t : 0 .. NA - 1) {
					if
					:: x_t != p -> send(CN(p, x_t), RQ_PREPARE, ballot, from, 0)
					:: else -> skip
					fi
				}
			}
			d_step {
				acc_prepare(p, CN(p, p), ballot, from, 1)
			}
			d_step {
				x_u = 0;
				top = from - 1;
				for (x_t : 0 .. NA - 1) {
					x_hk = CN(p, x_t);
					if
					:: rp_has[x_hk] ->
						setmax(maxprom, rp_prom[x_hk]);
						setmax(pcmax, rp_cmax[x_hk]);
						if
						:: rp_ok[x_hk] ->
							x_u++;
							for (x_w : 1 .. NS) {
								if
								:: x_w >= from && rp_val[RIDX(x_hk, x_w)] != 0 &&
								   (pv[x_w] == 0 || rp_bal[RIDX(x_hk, x_w)] > bb[x_w]) ->
									pv[x_w] = rp_val[RIDX(x_hk, x_w)];
									bb[x_w] = rp_bal[RIDX(x_hk, x_w)];
									setmax(top, x_w)
								:: else -> skip
								fi
							}
						:: else -> skip
						fi
					:: else -> skip
					fi
				}
#ifdef DECIDE_FROM_PROMISES
				/*
				 * BROKEN: a value reported by a majority of the granted
				 * promises is taken as chosen, whatever its ballots.
				 */
				if
				:: x_u >= MAJ && pcmax < from ->
					for (x_w : 1 .. NS) {
						x_hn = 0;
						for (x_t : 0 .. NA - 1) {
							x_hk = CN(p, x_t);
							if
							:: rp_has[x_hk] && rp_ok[x_hk] && x_w >= from &&
							   rp_val[RIDX(x_hk, x_w)] != 0 &&
							   rp_val[RIDX(x_hk, x_w)] == pv[x_w] -> x_hn++
							:: else -> skip
							fi
						}
						if
						:: x_hn >= MAJ && logv[IDX(p, x_w)] == 0 ->
							decide(x_w, pv[x_w]);
							learn_at(p, x_w, pv[x_w]);
							dfp = dfp | (1 << x_w)
						:: else -> skip
						fi
					}
				:: else -> skip
				fi;
				x_hn = 0;
				x_hk = 0;
#endif
				end_round(p);
#ifdef NO_CHOSEN_MAX_CHECK
				if
				:: x_u < MAJ -> res = P1_FAIL
				:: else -> res = P1_LEAD
				fi;
#else
				if
				:: pcmax >= from -> res = P1_CATCHUP
				:: else ->
					if
					:: x_u < MAJ -> res = P1_FAIL
					:: else -> res = P1_LEAD
					fi
				fi;
#endif
				x_u = 0
			}
			if
			:: res == P1_CATCHUP ->
				d_step { catch_up(p) }
				goto backoff
			:: res == P1_FAIL -> goto backoff
			:: res == P1_LEAD -> skip
			fi;
			d_step {
				leader = 1;
				next = from;
				s = from;
				res = 0
			}
			/* propose again what the promises reported; no-ops in gaps */
			do
			:: s <= top ->
				d_step {
					v = pv[s];
					if
					:: v == 0 ->
						v = VALUE(p, s, att, 1);
						originated[s] = originated[s] | VBIT(v)
					:: else -> skip
					fi;
					pv[s] = 0;
					bb[s] = 0
				}
#ifdef DECIDE_FROM_PROMISES
				if
				:: (dfp & (1 << s)) != 0 ->
					res = P2_CHOSEN		/* decided from the promises */
				:: else -> phase2(s, v)
				fi;
#else
				phase2(s, v);
#endif
				if
				:: res == P2_CHOSEN -> d_step { next = s + 1; s++; v = 0; res = 0 }
				:: else -> goto backoff
				fi
			:: else -> break
			od;
			skip;
			d_step {
				for (x_t : 1 .. NS) {
					pv[x_t] = 0;
					bb[x_t] = 0
				}
				top = 0;
				from = 0;
				s = 0
			}
#ifdef DECIDE_FROM_PROMISES
			dfp = 0;
#endif
		fi;
		/* the batch of pending requests, or a repair no-op */
		if
		:: next <= NS ->
			if
			:: v = VALUE(p, next, att, 0)
			:: v = VALUE(p, next, att, 1)
			fi;
			originated[next] = originated[next] | VBIT(v);
			phase2(next, v);
			if
			:: res == P2_CHOSEN -> d_step { next++; v = 0; res = 0 }
			:: res == P2_BEHIND ->
				d_step { catch_up(p) }
				goto backoff
			:: else -> goto backoff
			fi
		:: else -> skip
		fi;
		goto done
backoff:
		skip;
#ifdef DECIDE_FROM_PROMISES
		dfp = 0;
#endif
		d_step {
			leader = 0;
			v = 0;
			res = 0;
			s = 0;
			top = 0;
			from = 0;
			for (x_t : 1 .. NS) {
				pv[x_t] = 0;
				bb[x_t] = 0
			}
		}
done:
		skip

	:: voting[p] && applied[p] < NS ->
		/* pw_status_round: promises, chosen_max, catch-up */
		d_step {
			x_u = applied[p];
			for (x_t : 0 .. NA - 1) {
				if
				:: x_t != p ->
					setmax(maxprom, promised[x_t]);
					cmax_of(x_t, x_hk);
					setmax(x_u, x_hk);
					fetch(p, x_t)
				:: else -> skip
				fi
			}
			pcmax = x_u;
			x_u = 0;
			x_hk = 0
		}

	:: restarts < MAXRESTART ->
		/* the worker exits; the postmaster starts a new one */
		d_step {
			restarts++;
			leader = 0;
			maxprom = 0;
			pcmax = 0;
			next = 0;
			ballot = 0;
			end_round(p)
		}
	od
}

/* one query runs on its peer: the SQL function a peer called (acceptor.c) */
inline deliver(K)
{
	x_da = K % NA;
	if
	:: cq_kind[K] == RQ_LEARN ->
		learn_at(x_da, cq_slot[K], cq_val[K])
	:: cq_kind[K] == RQ_PREPARE && voting[x_da] ->
		acc_prepare(x_da, K, cq_bal[K], cq_slot[K], !cq_stale[K])
	:: cq_kind[K] == RQ_ACCEPT && voting[x_da] ->
		acc_accept(x_da, K, cq_bal[K], cq_slot[K], cq_val[K], !cq_stale[K])
	:: else -> skip		/* "this node does not vote yet": no vote */
	fi;
	/* the connection is free: a waiting query of the round goes out */
	cq_kind[K] = cd_kind[K];
	cq_bal[K] = cd_bal[K];
	cq_slot[K] = cd_slot[K];
	cq_val[K] = cd_val[K];
	cq_stale[K] = 0;
	cd_kind[K] = 0;
	cd_bal[K] = 0;
	cd_slot[K] = 0;
	cd_val[K] = 0;
	x_da = 0
}

/* the peers' servers: queries run at any time or never; node 2's worker */
proctype Network()
{
end_net:
	do
	:: d_step { cq_kind[CN(0, 1)] != RQ_NONE -> deliver(CN(0, 1)) }
	:: d_step { cq_kind[CN(0, 2)] != RQ_NONE -> deliver(CN(0, 2)) }
	:: d_step { cq_kind[CN(1, 0)] != RQ_NONE -> deliver(CN(1, 0)) }
	:: d_step { cq_kind[CN(1, 2)] != RQ_NONE -> deliver(CN(1, 2)) }
	/* node 2's worker: status round and catch-up */
	:: voting[2] && (applied[2] < NS) &&
	   (logv[IDX(0, applied[2] + 1)] != 0 || logv[IDX(1, applied[2] + 1)] != 0) ->
		d_step {
			fetch(2, 0);
			fetch(2, 1)
		}
#ifdef AMNESIA
	/* node 2 loses its data directory */
	:: !amnesia_done ->
		d_step {
			amnesia_done = 1;
			promised[2] = 0;
			applied[2] = 0;
			for (x_t : 1 .. NS) {
				abal[IDX(2, x_t)] = 0;
				aval[IDX(2, x_t)] = 0;
				logv[IDX(2, x_t)] = 0
			}
			voting[2] = 0;
			/* the server went down: queries on it are lost */
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
			}
			x_hk = 0
		}
#if AMNESIA == 1
	/*
	 * pw_try_recover after init_cluster (voting = false): statuses of
	 * every other member, one reply at a time, then catch-up, then vote
	 * unless behind or a slot is accepted beyond the chosen ones.
	 */
	:: amnesia_done && !voting[2] && rc_stage < 2 ->
		d_step {
			cmax_of(rc_stage, x_hk);
			setmax(rc_cmax, x_hk);
			amax_of(rc_stage, x_hk);
			setmax(rc_amax, x_hk);
			setmax(rc_prom, promised[rc_stage]);
			rc_stage++;
			x_hk = 0
		}
	:: amnesia_done && !voting[2] && rc_stage == 2 ->
		d_step {
			fetch(2, 0);
			fetch(2, 1);
			if
			:: applied[2] >= rc_cmax && rc_amax <= rc_cmax ->
				setmax(promised[2], rc_prom);
				voting[2] = 1
			:: else -> skip
			fi;
			rc_stage = 0;
			rc_cmax = 0;
			rc_amax = 0;
			rc_prom = 0
		}
#else
	/*
	 * pw_try_recover after a restart with voting = true (an old backup):
	 * statuses of a majority (this node and one other), catch-up, vote.
	 */
	:: amnesia_done && !voting[2] ->
		d_step {
			if
			:: true -> rc_stage = 0
			:: true -> rc_stage = 1
			fi;
			cmax_of(rc_stage, rc_cmax);
			rc_prom = promised[rc_stage];
			fetch(2, rc_stage);
			if
			:: applied[2] >= rc_cmax ->
				setmax(promised[2], rc_prom);
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
