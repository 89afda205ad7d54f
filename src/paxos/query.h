/*-------------------------------------------------------------------------
 *
 * query.h
 *	  Statements of the log, planned once per process.
 *
 * The worker and the acceptor run the same few statements for every slot;
 * planning them each time was a third of the CPU a promotion cost (bench/,
 * consensus.cost.*).  A PaxosQuery is declared static at its call site and
 * keeps a generic plan for the life of the process; the plan cache
 * replans it when a table it reads changes (DROP/CREATE EXTENSION).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PAXOS_QUERY_H
#define PAXOS_QUERY_H

#include "postgres.h"

#include "executor/spi.h"

#define PAXOS_QUERY_MAX_ARGS 6

typedef struct PaxosQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[PAXOS_QUERY_MAX_ARGS];
	SPIPlanPtr	plan;			/* NULL until first run */
} PaxosQuery;

/*
 * Runs `q` with `values` (none null) on the caller's SPI connection; the
 * SPI result code, like SPI_execute_plan.  `read_only` as for SPI: false
 * takes a new snapshot, so the statement sees every earlier commit.
 */
extern int	paxos_query_run(PaxosQuery *q, Datum *values, bool read_only,
							long count);

/* SPI_execute_plan as the log's statements run: see query.c. */
extern int	paxos_query_execute(SPIPlanPtr plan, Datum *values, bool read_only,
								long count);

#endif							/* PAXOS_QUERY_H */
