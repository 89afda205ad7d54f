/*-------------------------------------------------------------------------
 *
 * encode_sql.c
 *	  encode_message(doc jsonb, schema_id text) → bytea: the inverse of
 *	  decode_with_schema, for producers written in SQL, tests and fixtures.
 *
 * The encoder writes straight into a palloc'd bytea (VARHDRSZ reserved in
 * front), growing it as needed; a failure leaves it to the memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(sevo_encode_message);

/* codec_buf growth over palloc; data points past the varlena header. */
static int
sevo_buf_grow(codec_buf *buf, size_t mincap)
{
	size_t		cap = Max(buf->cap * 2, mincap);
	char	   *base;

	if (cap + VARHDRSZ > MaxAllocSize)
		return -1;
	base = buf->data ? (char *) buf->data - VARHDRSZ : NULL;
	base = base ? repalloc(base, cap + VARHDRSZ) : palloc(cap + VARHDRSZ);
	buf->data = (uint8_t *) base + VARHDRSZ;
	buf->cap = cap;
	return 0;
}

Datum
sevo_encode_message(PG_FUNCTION_ARGS)
{
	Jsonb	   *doc = PG_GETARG_JSONB_P(0);
	char	   *schema_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	SevoSchema *schema;
	codec_source src;
	codec_buf	out = {0};
	codec_error err;
	JsonbValue	root;
	bytea	   *result;

	sevo_cache_check();
	schema = sevo_schema_by_id(schema_id, false);

	if (!JB_ROOT_IS_OBJECT(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("document to encode must be a JSON object")));
	root.type = jbvBinary;
	root.val.binary.data = &doc->root;
	root.val.binary.len = VARSIZE(doc) - VARHDRSZ;

	sevo_jsonb_source(&src);
	out.grow = sevo_buf_grow;
	sevo_buf_grow(&out, 256);
	if (codec_encode(schema->codec, &src, &root, &out, &err) != CODEC_OK)
		sevo_report_codec_error(ERROR, &err,
								psprintf("document for schema \"%s\"",
										 schema_id));

	result = (bytea *) ((char *) out.data - VARHDRSZ);
	SET_VARSIZE(result, out.len + VARHDRSZ);
	PG_RETURN_BYTEA_P(result);
}
