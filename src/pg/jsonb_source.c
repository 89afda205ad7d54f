/*-------------------------------------------------------------------------
 *
 * jsonb_source.c
 *	  A codec_source over jsonb, so encode_message feeds the encoder from
 *	  the binary jsonb without printing and re-parsing it.  Numbers reach
 *	  the codec as numeric_out text, so decimals stay exact.
 *
 * Nodes are JsonbValue pointers; nested containers stay jbvBinary.  All
 * allocations are in the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "sevo.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

static codec_jkind
sevo_src_kind(void *ctx, const void *node)
{
	const JsonbValue *v = node;

	switch (v->type)
	{
		case jbvNull:
			return CODEC_J_NULL;
		case jbvBool:
			return CODEC_J_BOOL;
		case jbvNumeric:
			return CODEC_J_NUMBER;
		case jbvString:
			return CODEC_J_STRING;
		case jbvArray:
			return CODEC_J_ARRAY;
		case jbvObject:
			return CODEC_J_OBJECT;
		case jbvBinary:
			return JsonContainerIsObject(v->val.binary.data)
				? CODEC_J_OBJECT : CODEC_J_ARRAY;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return CODEC_J_NULL;
}

static const void *
sevo_src_member(void *ctx, const void *object, const char *name)
{
	const JsonbValue *v = object;

	return getKeyJsonValueFromContainer(v->val.binary.data, name,
										strlen(name), NULL);
}

static uint32_t
sevo_src_size(void *ctx, const void *container)
{
	const JsonbValue *v = container;

	return JsonContainerSize(v->val.binary.data);
}

static const void *
sevo_src_element(void *ctx, const void *array, uint32_t index)
{
	const JsonbValue *v = array;

	return getIthJsonbValueFromContainer(v->val.binary.data, index);
}

static bool
sevo_src_boolean(void *ctx, const void *node)
{
	return ((const JsonbValue *) node)->val.boolean;
}

static const char *
sevo_src_text(void *ctx, const void *node, size_t *len)
{
	const JsonbValue *v = node;
	char	   *s;

	if (v->type == jbvString)
	{
		*len = v->val.string.len;
		return v->val.string.val;
	}
	/* the codec asks only for numbers and strings (codec_source.text) */
	if (v->type != jbvNumeric)
		elog(ERROR, "text of a jsonb value of type %d requested",
			 (int) v->type);
	s = DatumGetCString(DirectFunctionCall1(numeric_out,
											NumericGetDatum(v->val.numeric)));
	*len = strlen(s);
	return s;
}

/* The key of member `index`, for error messages only: O(members). */
static const char *
sevo_src_key(void *ctx, const void *object, uint32_t index, size_t *len)
{
	const JsonbValue *v = object;
	JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
	JsonbValue	jv;
	JsonbIteratorToken tok;
	uint32_t	i = 0;

	while ((tok = JsonbIteratorNext(&it, &jv, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		if (i++ == index)
		{
			*len = jv.val.string.len;
			return jv.val.string.val;
		}
	}
	return NULL;
}

void
sevo_jsonb_source(codec_source *src)
{
	memset(src, 0, sizeof(*src));
	src->key = sevo_src_key;
	src->kind = sevo_src_kind;
	src->member = sevo_src_member;
	src->object_size = sevo_src_size;
	src->array_size = sevo_src_size;
	src->element = sevo_src_element;
	src->boolean = sevo_src_boolean;
	src->text = sevo_src_text;
}
