/*-------------------------------------------------------------------------
 *
 * membership.c
 *	  init_cluster() and the membership every peer call is checked against.
 *
 * The membership is a set of named nodes with their conninfo, run through
 * init_cluster() identically on every node.  Its digest (SHA-256 over the
 * "name=conninfo" lines, sorted bytewise) travels with every peer call and a
 * mismatch is refused, so two nodes configured with different clusters
 * never count each other's votes.  Node indexes (1-based, in bytewise name order)
 * are the low byte of ballots, so ballots of different nodes never tie.
 *
 * A node starts (and, after a wiped data directory, restarts) as a
 * non-voter: the worker turns it into a voter once it has heard from every
 * other member and caught up with the log (worker_catchup.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "libpq-fe.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "paxos.h"
#include "paxos_int.h"
#include "rows.h"

PG_FUNCTION_INFO_V1(paxos_init_cluster);

/* SQL: init_cluster(self text, members jsonb) → text (the digest) */
Datum
paxos_init_cluster(PG_FUNCTION_ARGS)
{
	text	   *self = PG_GETARG_TEXT_PP(0);
	Jsonb	   *members = PG_GETARG_JSONB_P(1);
	Oid			types[2] = {TEXTOID, JSONBOID};
	Datum		values[2];
	char	   *digest;
	int			n;
	int			nest;

	if (!JB_ROOT_IS_OBJECT(members))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("members must be a JSON object of node name to conninfo")));
	n = JB_ROOT_COUNT(members);
	if (n < 1 || n > PAXOS_MAX_MEMBERS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a cluster has between 1 and %d members, not %d",
						PAXOS_MAX_MEMBERS, n)));
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot initialise a cluster on a hot standby")));

	values[0] = PointerGetDatum(self);
	values[1] = JsonbPGetDatum(members);
	nest = paxos_pin_search_path();
	SPI_connect();
	if (SPI_execute_with_args("SELECT count(*) FILTER (WHERE jsonb_typeof(value) <> 'string'), "
							  "       bool_or(key = $1), "
							  "       count(*) FILTER (WHERE key !~ '^[A-Za-z_][A-Za-z0-9_.-]{0,62}$'), "
							  "       encode(sha256(convert_to(string_agg(key || '=' || (value #>> '{}'), "
							  "              E'\\n' ORDER BY key COLLATE \"C\"), 'UTF8')), 'hex') "
							  "  FROM jsonb_each($2)",
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not read members");
	if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "0") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("every member's conninfo must be a string")));
	if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2), "t") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("self \"%s\" is not one of the members", text_to_cstring(self))));
	if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3), "0") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("member names must match [A-Za-z_][A-Za-z0-9_.-]* and have at most 63 bytes")));
	digest = pstrdup(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4));

	if (SPI_execute("DELETE FROM schemaevo.cluster_members", false, 0) != SPI_OK_DELETE ||
		SPI_execute_with_args("INSERT INTO schemaevo.cluster_members "
							  "SELECT key, value #>> '{}', row_number() OVER (ORDER BY key COLLATE \"C\") "
							  "  FROM jsonb_each($2)",
							  2, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "schemaevo: could not write members");
	values[1] = CStringGetTextDatum(digest);
	if (SPI_execute_with_args("INSERT INTO schemaevo.cluster_self (node_name, digest, voting) "
							  "VALUES ($1, $2, false) "
							  "ON CONFLICT (singleton) DO UPDATE "
							  "   SET node_name = excluded.node_name, digest = excluded.digest, "
							  "       voting = false, system_identifier = NULL, timeline = NULL",
							  2, (Oid[]) {TEXTOID, TEXTOID}, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "schemaevo: could not write cluster_self");
	SPI_finish();
	paxos_unpin_search_path(nest);

	if (paxos_shared)
	{
		LWLockAcquire(paxos_shared->lock, LW_EXCLUSIVE);
		paxos_shared->membership_generation++;
		LWLockRelease(paxos_shared->lock);
		paxos_wake_worker();
	}
	PG_RETURN_TEXT_P(cstring_to_text(digest));
}

/*
 * Loads the membership.  With no init_cluster() the node is a cluster of
 * one named `fallback_name`.  Caller is connected to SPI.
 */
void
paxos_membership_load(PaxosMembership *m, const char *fallback_name)
{
	uint64		i;

	memset(m, 0, sizeof(*m));
	if (SPI_execute("SELECT m.node_name, m.conninfo, m.node_index, m.node_name = s.node_name, s.digest "
					"  FROM schemaevo.cluster_members m, schemaevo.cluster_self s "
					" ORDER BY m.node_index", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "schemaevo: could not read cluster_members");

	if (SPI_processed == 0)
	{
		m->nmembers = 1;
		m->self = 0;
		strlcpy(m->members[0].name, fallback_name, NAMEDATALEN);
		m->members[0].conninfo = MemoryContextStrdup(TopMemoryContext, "");
		m->members[0].index = 1;
		m->members[0].is_self = true;
		strlcpy(m->self_name, fallback_name, NAMEDATALEN);
		return;
	}
	for (i = 0; i < SPI_processed && i < PAXOS_MAX_MEMBERS; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		PaxosMember *mem = &m->members[i];

		strlcpy(mem->name, SPI_getvalue(tup, desc, 1), NAMEDATALEN);
		mem->conninfo = MemoryContextStrdup(TopMemoryContext, SPI_getvalue(tup, desc, 2));
		mem->index = atoi(SPI_getvalue(tup, desc, 3));
		mem->is_self = strcmp(SPI_getvalue(tup, desc, 4), "t") == 0;
		if (mem->is_self)
		{
			m->self = (int) i;
			strlcpy(m->self_name, mem->name, NAMEDATALEN);
		}
		strlcpy(m->digest, SPI_getvalue(tup, desc, 5), sizeof(m->digest));
	}
	m->nmembers = (int) i;
	m->initialised = true;
}

/* Raises 08P01 unless `digest` is this node's membership digest. */
void
paxos_check_digest(const char *digest)
{
	PaxosRows	r;
	PaxosTable *self;
	const char *mine = NULL;
	bool		isnull;

	paxos_rows_begin(&r);
	self = paxos_rows_open(&r, "cluster_self", false);
	if (paxos_rows_fetch_single(&r, self))
		mine = TextDatumGetCString(paxos_rows_get(self, 3, &isnull));
	paxos_rows_end(&r);
	if (mine == NULL || strcmp(mine, digest) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("cluster membership digest mismatch"),
				 errdetail("The caller's membership digest is %s; this node's is %s.",
						   digest, mine ? mine : "unset (init_cluster was not run)"),
				 errhint("Run schemaevo.init_cluster() with the same members on every node.")));
}

/*
 * `conninfo` without its secrets (the options libpq itself would not show:
 * password, sslpassword), for display; values quoted where they need it.
 */
char *
paxos_strip_password(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	PQconninfoOption *o;
	StringInfoData buf;

	if (opts == NULL)
		return pstrdup("");
	initStringInfo(&buf);
	for (o = opts; o->keyword; o++)
	{
		const char *c;

		if (o->val == NULL || strchr(o->dispchar, '*') != NULL)
			continue;
		appendStringInfo(&buf, "%s%s=", buf.len ? " " : "", o->keyword);
		if (o->val[0] != '\0' && strpbrk(o->val, " \t\n\r\f\v'\\") == NULL)
		{
			appendStringInfoString(&buf, o->val);
			continue;
		}
		appendStringInfoChar(&buf, '\'');
		for (c = o->val; *c; c++)
		{
			if (*c == '\'' || *c == '\\')
				appendStringInfoChar(&buf, '\\');
			appendStringInfoChar(&buf, *c);
		}
		appendStringInfoChar(&buf, '\'');
	}
	PQconninfoFree(opts);
	return buf.data;
}
