/*-------------------------------------------------------------------------
 *
 * query.c
 *	  Statements of the log, planned once per process (see query.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"
#include "utils/guc.h"

#include "query.h"

/*
 * The settings the log's statements are planned and run with, inside the
 * caller's GUC nest level: see paxos_query_execute().  Plain index scans
 * only: a bitmap scan does not mark the dead index entries it visits, so
 * "DELETE FROM acceptor_slots WHERE slot <= $1" would walk every slot ever
 * accepted until the next vacuum (bench/run, scale part: promotion latency
 * with a 100,000-entry log).  A sequential scan left in a plan (a table
 * without a usable index) then costs more than jit_above_cost, so JIT is
 * off too: it would compile every execution of a statement that reads one
 * row.
 */
static void
paxos_query_settings(void)
{
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_bitmapscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

int
paxos_query_run(PaxosQuery *q, Datum *values, bool read_only, long count)
{
	if (q->plan == NULL)
	{
		int			nest = NewGUCNestLevel();
		/*
		 * Generic from the start: these statements probe primary keys, so
		 * a custom plan per call would only add planning time.
		 */
		SPIPlanPtr	plan;

		paxos_query_settings();
		plan = SPI_prepare_cursor(q->sql, q->nargs, q->argtypes,
								  CURSOR_OPT_GENERIC_PLAN);
		AtEOXact_GUC(true, nest);
		if (plan == NULL)
			elog(ERROR, "schemaevo: could not prepare \"%s\": %s",
				 q->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "schemaevo: could not keep the plan of \"%s\"", q->sql);
		q->plan = plan;
	}
	return paxos_query_execute(q->plan, values, read_only, count);
}

/*
 * Every statement of the log reads a handful of rows by primary key, from
 * tables with heavy insert/delete churn (acceptor_slots holds only the
 * slots in flight, node_state one row): autovacuum trails the dead tuples,
 * so a sequential scan, planned while a table looked empty, would read more
 * dead tuples with every slot.  Index scans do not care.  The setting must
 * hold when the plan is made and whenever the plan cache makes it again.
 */
int
paxos_query_execute(SPIPlanPtr plan, Datum *values, bool read_only, long count)
{
	int			nest = NewGUCNestLevel();
	int			rc;

	paxos_query_settings();
	rc = SPI_execute_plan(plan, values, NULL, read_only, count);
	AtEOXact_GUC(true, nest);
	return rc;
}
