/*-------------------------------------------------------------------------
 *
 * query.c
 *	  Statements of the log, planned once per process (see query.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"

#include "query.h"

int
paxos_query_run(PaxosQuery *q, Datum *values, bool read_only, long count)
{
	if (q->plan == NULL)
	{
		/*
		 * Generic from the start: these statements probe primary keys, so
		 * a custom plan per call would only add planning time.
		 */
		SPIPlanPtr	plan = SPI_prepare_cursor(q->sql, q->nargs, q->argtypes,
											  CURSOR_OPT_GENERIC_PLAN);

		if (plan == NULL)
			elog(ERROR, "schemaevo: could not prepare \"%s\": %s",
				 q->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "schemaevo: could not keep the plan of \"%s\"", q->sql);
		q->plan = plan;
	}
	return SPI_execute_plan(q->plan, values, NULL, read_only, count);
}
