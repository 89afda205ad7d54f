/*-------------------------------------------------------------------------
 *
 * transport.c
 *	  libpq to the peers, for the background worker: non-blocking connects
 *	  and queries to every peer, waited on together with the latch in one
 *	  WaitEventSet.
 *
 * Invariants:
 *	- Nothing here blocks: connections start with PQconnectStartParams and
 *	  advance with PQconnectPoll, queries go out with PQsendPrepare and
 *	  PQsendQueryPrepared and come back through
 *	  PQconsumeInput/PQisBusy/PQgetResult, read until PQgetResult returns
 *	  NULL.
 *	- A reply counts as a vote only if no result of its query was an error.
 *	- Every connection holds an external FD reservation (AcquireExternalFD)
 *	  released with it; a connection that fails, or a query that overruns
 *	  twice the round timeout, is dropped and retried later with backoff.
 *	- Parameters are always sent out of line (text format); no SQL is built
 *	  from values.
 *	- Each statement is prepared once per connection (its first use sends
 *	  the Parse, the query follows when that completed) and then sent by
 *	  name: a peer backend would otherwise parse, analyse and plan the same
 *	  call for every slot (about an eighth of its CPU per accept).
 *	- Queries of one round carry the round number, so a straggler's late
 *	  reply is never counted for a later round.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/string.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "paxos.h"
#include "paxos_int.h"

bool		paxos_latch_seen = false;

static uint64 paxos_round_no = 0;
static const char *paxos_round_sql;
static int	paxos_round_stmt;	/* index in paxos_statements, or -1 */
static int	paxos_round_nparams;
static const char *const *paxos_round_params;

/* the statements the rounds of this process sent, named by index */
#define PAXOS_MAX_STATEMENTS 32
static const char *paxos_statements[PAXOS_MAX_STATEMENTS];
static int	paxos_nstatements = 0;

/* `sql`'s index in paxos_statements, added if new; -1 when it is full */
static int
paxos_statement(const char *sql)
{
	int			i;

	for (i = 0; i < paxos_nstatements; i++)
		if (strcmp(paxos_statements[i], sql) == 0)
			return i;
	if (paxos_nstatements == PAXOS_MAX_STATEMENTS)
		return -1;
	paxos_statements[paxos_nstatements] = MemoryContextStrdup(TopMemoryContext, sql);
	return paxos_nstatements++;
}

void
paxos_disconnect(PaxosPeer *p)
{
	if (p->conn)
	{
		PQfinish(p->conn);
		ReleaseExternalFD();
	}
	p->conn = NULL;
	p->state = PCS_DOWN;
	p->retry_after = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												 Min(paxos_connect_timeout, 1000));
}

static void
paxos_fail(PaxosPeer *p, const char *what)
{
	/* once per outage: the worker retries every second */
	if (!p->failure_logged)
	{
		char	   *msg = pstrdup(p->conn ? PQerrorMessage(p->conn) : "no connection");

		pg_clean_ascii(msg);
		if (strlen(msg) > 0 && msg[strlen(msg) - 1] == '\n')
			msg[strlen(msg) - 1] = '\0';
		ereport(LOG,
				(errmsg("schemaevo: cannot reach node \"%s\": %s: %s",
						p->member->name, what, msg)));
		p->failure_logged = true;
	}
	if (p->in_round && !p->replied)
	{
		p->replied = true;
		p->ok = false;
		p->error = psprintf("%s: %s", what,
							p->conn ? PQerrorMessage(p->conn) : "no connection");
	}
	paxos_disconnect(p);
}

static void
paxos_start_connect(PaxosPeer *p)
{
	const char *keywords[] = {"dbname", "application_name", "options", NULL};
	const char *values[] = {p->member->conninfo, "schemaevo peer",
	"-c search_path=pg_catalog -c synchronous_commit=on", NULL};

	if (!AcquireExternalFD())
	{
		p->retry_after = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 1000);
		return;
	}
	p->conn = PQconnectStartParams(keywords, values, true);
	if (p->conn == NULL)
	{
		ReleaseExternalFD();
		p->retry_after = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 1000);
		return;
	}
	if (PQstatus(p->conn) == CONNECTION_BAD)
	{
		paxos_fail(p, "could not connect");
		return;
	}
	p->state = PCS_CONNECTING;
	p->prepared = 0;
	p->preparing = -1;
	p->poll_want = PGRES_POLLING_WRITING;
	p->connect_started = GetCurrentTimestamp();
}

static void
paxos_send(PaxosPeer *p)
{
	char		name[NAMEDATALEN];
	int			sent;

	if (paxos_round_stmt < 0)
		sent = PQsendQueryParams(p->conn, paxos_round_sql, paxos_round_nparams,
								 NULL, paxos_round_params, NULL, NULL, 0);
	else
	{
		snprintf(name, sizeof(name), "schemaevo_%d", paxos_round_stmt);
		if (p->prepared & (UINT32_C(1) << paxos_round_stmt))
			sent = PQsendQueryPrepared(p->conn, name, paxos_round_nparams,
									   paxos_round_params, NULL, NULL, 0);
		else
		{
			/* the query itself goes once this completes: see paxos_read() */
			sent = PQsendPrepare(p->conn, name, paxos_round_sql,
								 paxos_round_nparams, NULL);
			p->preparing = paxos_round_stmt;
		}
	}
	if (!sent)
	{
		paxos_fail(p, "could not send");
		return;
	}
	p->state = PCS_BUSY;
	p->errored = false;
	p->reply = NULL;
	p->error = NULL;
	p->query_round = paxos_round_no;
	p->query_started = GetCurrentTimestamp();
	/* flush what libpq could not send at once; the wait loop finishes it */
	(void) PQflush(p->conn);
}

/*
 * Reads every result the connection has, without blocking.  The query is
 * complete only when PQgetResult returns NULL (after ReadyForQuery, so after
 * the peer committed); what arrived before is kept in the peer meanwhile.
 */
static void
paxos_read(PaxosPeer *p)
{
	bool		mine = p->in_round && p->query_round == paxos_round_no;

	if (PQflush(p->conn) < 0 || !PQconsumeInput(p->conn))
	{
		paxos_fail(p, "connection lost");
		return;
	}
	for (;;)
	{
		PGresult   *res;

		if (PQisBusy(p->conn))
			return;
		res = PQgetResult(p->conn);
		if (res == NULL)
			break;
		switch (PQresultStatus(res))
		{
			case PGRES_TUPLES_OK:
				if (mine && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
					p->reply = pstrdup(PQgetvalue(res, 0, 0));
				break;
			case PGRES_COMMAND_OK:
				break;
			default:
				p->errored = true;
				if (mine)
				{
					const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

					p->error = psprintf("%s: %s", state ? state : "?????",
										PQresultErrorMessage(res));
				}
				break;
		}
		PQclear(res);
	}
	p->state = PCS_IDLE;
	if (p->preparing >= 0)
	{
		int			stmt = p->preparing;

		p->preparing = -1;
		if (!p->errored)
		{
			/* prepared: the caller sends the round's query now, if still due */
			p->prepared |= UINT32_C(1) << stmt;
			return;
		}
	}
	if (mine)
	{
		p->replied = true;
		p->ok = !p->errored;
	}
}

/* Advances a connecting peer; sends the round's query once connected. */
static void
paxos_poll_connect(PaxosPeer *p)
{
	PostgresPollingStatusType st = PQconnectPoll(p->conn);

	if (st == PGRES_POLLING_FAILED)
	{
		paxos_fail(p, "could not connect");
		return;
	}
	if (st != PGRES_POLLING_OK)
	{
		p->poll_want = st;
		return;
	}
	if (PQsetnonblocking(p->conn, 1) != 0)
	{
		paxos_fail(p, "could not set non-blocking mode");
		return;
	}
	p->state = PCS_IDLE;
	p->failure_logged = false;
	if (p->in_round && !p->replied)
		paxos_send(p);
}

/* Drops the connection of `p` if it overran its time. */
static void
paxos_check_timeouts(PaxosPeer *p, TimestampTz now)
{
	if (p->state == PCS_CONNECTING &&
		TimestampDifferenceExceeds(p->connect_started, now, paxos_connect_timeout))
		paxos_fail(p, "connection timed out");
	else if (p->state == PCS_BUSY &&
			 TimestampDifferenceExceeds(p->query_started, now, 2 * paxos_peer_timeout))
		paxos_fail(p, "query timed out");
}

void
paxos_round_begin(PaxosPeer *peers, int npeers, const char *sql,
				  int nparams, const char *const *params)
{
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	paxos_round_no++;
	paxos_round_sql = sql;
	paxos_round_stmt = paxos_statement(sql);
	paxos_round_nparams = nparams;
	paxos_round_params = params;

	for (i = 0; i < npeers; i++)
	{
		PaxosPeer  *p = &peers[i];

		p->in_round = true;
		p->replied = false;
		p->ok = false;
		p->reply = NULL;
		p->error = NULL;

		if (p->state == PCS_BUSY)
			paxos_read(p);		/* a straggler may have finished */
		if (p->state == PCS_DOWN && now >= p->retry_after)
			paxos_start_connect(p);
		if (p->state == PCS_IDLE)
			paxos_send(p);
		else if (p->state == PCS_DOWN)
		{
			p->replied = true;
			p->error = pstrdup("not connected");
		}
		/* CONNECTING or BUSY: sent when the connection frees up */
	}
}

int
paxos_round_wait(PaxosPeer *peers, int npeers, int enough, int timeout_ms)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   timeout_ms);
	int			i;

	for (;;)
	{
		int			oks = 0;
		int			pending = 0;
		long		remaining;
		WaitEventSet *set;
		WaitEvent	events[PAXOS_MAX_MEMBERS + 2];
		int			nevents;
		TimestampTz now = GetCurrentTimestamp();

		for (i = 0; i < npeers; i++)
		{
			paxos_check_timeouts(&peers[i], now);
			if (peers[i].in_round && peers[i].replied && peers[i].ok)
				oks++;
			if (peers[i].in_round && !peers[i].replied)
				pending++;
		}
		if (oks >= enough || pending == 0 || now >= deadline)
		{
			for (i = 0; i < npeers; i++)
				if (peers[i].in_round && !peers[i].replied)
				{
					peers[i].replied = true;
					peers[i].error = pstrdup("no reply in time");
				}
			return oks;
		}

		remaining = TimestampDifferenceMilliseconds(now, deadline);
		set = CreateWaitEventSet(CurrentMemoryContext, npeers + 2);
		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		for (i = 0; i < npeers; i++)
		{
			PaxosPeer  *p = &peers[i];
			uint32		ev;

			if (p->state == PCS_CONNECTING)
				ev = p->poll_want == PGRES_POLLING_READING
					? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
			else if (p->state == PCS_BUSY)
				ev = WL_SOCKET_READABLE |
					(PQisnonblocking(p->conn) && PQflush(p->conn) == 1
					 ? WL_SOCKET_WRITEABLE : 0);
			else
				continue;
			AddWaitEventToSet(set, ev, PQsocket(p->conn), NULL, p);
		}
		nevents = WaitEventSetWait(set, Max(remaining, 1), events,
								   npeers + 2, PG_WAIT_EXTENSION);
		FreeWaitEventSet(set);

		for (i = 0; i < nevents; i++)
		{
			PaxosPeer  *p = events[i].user_data;

			if (events[i].events & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				paxos_latch_seen = true;
				CHECK_FOR_INTERRUPTS();
				continue;
			}
			if (p == NULL)
				continue;
			if (p->state == PCS_CONNECTING)
				paxos_poll_connect(p);
			else if (p->state == PCS_BUSY)
			{
				paxos_read(p);
				/* a straggler finished: now send this round's query */
				if (p->state == PCS_IDLE && p->in_round && !p->replied)
					paxos_send(p);
			}
		}
	}
}
