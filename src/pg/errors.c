/*-------------------------------------------------------------------------
 *
 * errors.c
 *	  Turns a codec_error into ereport() with the right SQLSTATE.
 *
 * The codec core only reports (code, byte offset, field path, message);
 * this is the one place that decides how each kind surfaces in SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

static int
sevo_codec_sqlstate(codec_errcode code)
{
	switch (code)
	{
		case CODEC_ERR_MALFORMED:
		case CODEC_ERR_LINEAGE:
			return ERRCODE_INVALID_BINARY_REPRESENTATION;
		case CODEC_ERR_SCHEMA:
			return ERRCODE_INVALID_OBJECT_DEFINITION;
		case CODEC_ERR_VALUE:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case CODEC_ERR_LIMIT:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case CODEC_ERR_NOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		default:
			return ERRCODE_INTERNAL_ERROR;
	}
}

/*
 * Raises (or, below ERROR, logs) `err`.  `what` names the object being
 * processed, e.g. "message" or "schema definition".
 */
void
sevo_report_codec_error(int elevel, const codec_error *err, const char *what)
{
	if (err->code == CODEC_ERR_MALFORMED)
		ereport(elevel,
				(errcode(sevo_codec_sqlstate(err->code)),
				 err->path[0]
				 ? errmsg("malformed %s at byte %zu, field \"%s\": %s",
						  what, err->offset, err->path, err->message)
				 : errmsg("malformed %s at byte %zu: %s",
						  what, err->offset, err->message)));
	else if (err->path[0])
		ereport(elevel,
				(errcode(sevo_codec_sqlstate(err->code)),
				 errmsg("invalid %s: %s", what, err->message),
				 errdetail("At field \"%s\".", err->path)));
	else
		ereport(elevel,
				(errcode(sevo_codec_sqlstate(err->code)),
				 errmsg("invalid %s: %s", what, err->message)));
}
