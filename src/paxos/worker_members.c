/*-------------------------------------------------------------------------
 *
 * worker_members.c
 *	  The log worker's view of the membership, and the rows of
 *	  cluster_status it publishes in shared memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

#include "paxos.h"
#include "paxos_int.h"
#include "worker_int.h"

static void
pw_publish_members(void)
{
	int			i;

	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	paxos_shared->nmembers = pw.m.nmembers;
	for (i = 0; i < pw.m.nmembers; i++)
	{
		PaxosNodeStatus *st = &paxos_shared->nodes[i];
		char	   *display = paxos_strip_password(pw.m.members[i].conninfo);

		memset(st, 0, sizeof(*st));
		strlcpy(st->name, pw.m.members[i].name, NAMEDATALEN);
		strlcpy(st->conninfo, display, PAXOS_CONNINFO_LEN);
		st->is_self = pw.m.members[i].is_self;
		st->reachable = st->is_self;
	}
	strlcpy(paxos_shared->self_name, pw.m.self_name, NAMEDATALEN);
	LWLockRelease(paxos_shared->lock);
}

/*
 * Whether init_cluster() changed the membership: its wake-up can arrive
 * before its transaction commits, so the digest is also compared now and
 * then.
 */
static bool
pw_membership_changed(bool check_digest)
{
	uint32		gen;
	bool		changed;

	LWLockAcquire(paxos_shared->lock, LW_SHARED);
	gen = paxos_shared->membership_generation;
	LWLockRelease(paxos_shared->lock);
	if (!pw.loaded || gen != pw.member_gen)
		return true;
	if (!check_digest)
		return false;
	pw_begin();
	if (SPI_execute("SELECT digest FROM schemaevo.cluster_self", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not read cluster_self");
	changed = SPI_processed == 1
		? strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), pw.m.digest) != 0
		: pw.m.initialised;
	pw_commit();
	return changed;
}

void
pw_load_membership(bool check_digest)
{
	int			i;
	uint32		gen;

	if (!pw_membership_changed(check_digest))
		return;
	LWLockAcquire(paxos_shared->lock, LW_SHARED);
	gen = paxos_shared->membership_generation;
	LWLockRelease(paxos_shared->lock);

	for (i = 0; i < pw.npeers; i++)
		paxos_disconnect(&pw.peers[i]);
	pw_begin();
	paxos_membership_load(&pw.m, sevo_node_name ? sevo_node_name : "local");
	pw_commit();

	pw.npeers = 0;
	memset(pw.peers, 0, sizeof(pw.peers));
	for (i = 0; i < pw.m.nmembers; i++)
		if (!pw.m.members[i].is_self)
			pw.peers[pw.npeers++].member = &pw.m.members[i];
	pw.majority = pw.m.nmembers / 2 + 1;
	pw.leader = false;
	pw.member_gen = gen;
	pw.loaded = true;

	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	paxos_shared->voting = false;
	LWLockRelease(paxos_shared->lock);
	pw_publish_members();
	elog(LOG, "schemaevo: log worker is node \"%s\" of %d", pw.m.self_name,
		 pw.m.nmembers);
}

int
pw_node_slot(const char *name)
{
	int			i;

	for (i = 0; i < pw.m.nmembers; i++)
		if (strcmp(pw.m.members[i].name, name) == 0)
			return i;
	return -1;
}

void
pw_publish_self(void)
{
	PaxosNodeStatus *st = &paxos_shared->nodes[pw.m.self];

	LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
	st->reachable = true;
	st->applied_slot = pw.applied;
	st->voting = paxos_shared->voting;
	st->promised = pw.max_promise;
	st->last_contact = GetCurrentTimestamp();
	paxos_shared->chosen_max = Max(pw.applied, pw.peer_chosen_max);
	paxos_shared->ballot = pw.leader ? pw.ballot : 0;
	paxos_shared->leader_ballot = pw.max_promise;
	LWLockRelease(paxos_shared->lock);
}
