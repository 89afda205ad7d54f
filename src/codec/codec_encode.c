/*-------------------------------------------------------------------------
 *
 * codec_encode.c
 *	  Encoder: a JSON document seen through a codec_source, to wire
 *	  format v1.
 *
 * Invariants:
 *	- The output is the one canonical encoding of the document: fixed
 *	  fields at their offsets, NULL fixed fields zero, NULL variable fields
 *	  of length 0, bitmap padding zero.  Together with the decoder's checks
 *	  this gives encode(decode(m)) == m for every well-formed message.
 *	- Numbers are converted from their text exactly (no double for
 *	  integers and decimals), so nothing is silently rounded; a value that
 *	  does not fit is an error.
 *	- The output buffer may move whenever it grows, so positions inside it
 *	  are kept as offsets, never as pointers, across appends.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec_internal.h"

typedef struct ectx
{
	const codec_source *src;
	codec_buf  *out;
	codec_error *err;
} ectx;

static int enc_var(ectx *c, const codec_type *t, const void *node,
				   const codec_path *p);
static int enc_body(ectx *c, const codec_record *rec, const void *obj,
					const codec_path *p);

/* Texts from a source are not NUL-terminated: quote at most 40 bytes. */
#define SHOWN(len)	((int) ((len) > 40 ? 40 : (len)))

#define VALUE_ERROR(c, p, ...) \
	codec_fail((c)->err, CODEC_ERR_VALUE, 0, (p), __VA_ARGS__)

static int
malloc_grow(codec_buf *buf, size_t mincap)
{
	size_t		cap = buf->cap < 256 ? 256 : buf->cap;
	uint8_t    *p;

	while (cap < mincap)
	{
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	p = realloc(buf->data, cap);
	if (p == NULL)
		return -1;
	buf->data = p;
	buf->cap = cap;
	return 0;
}

void
codec_buf_init_malloc(codec_buf *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->grow = malloc_grow;
	buf->ctx = NULL;
}

/* Makes room for n more bytes. */
static int
reserve(ectx *c, size_t n, const codec_path *p)
{
	codec_buf  *b = c->out;

	if (n > CODEC_MAX_MESSAGE_SIZE || b->len > CODEC_MAX_MESSAGE_SIZE - n)
		return codec_fail(c->err, CODEC_ERR_LIMIT, 0, p,
						  "message would exceed %d bytes",
						  CODEC_MAX_MESSAGE_SIZE);
	if (b->len + n <= b->cap)
		return 0;
	if (b->grow == NULL || b->grow(b, b->len + n) != 0 ||
		b->cap < b->len + n)
		return codec_fail(c->err, CODEC_ERR_NOMEM, 0, p, "out of memory");
	return 0;
}

/* Appends n zero bytes; returns their offset through *pos. */
static int
append_zero(ectx *c, size_t n, size_t *pos, const codec_path *p)
{
	int			rc = reserve(c, n, p);

	if (rc != 0)
		return rc;
	*pos = c->out->len;
	if (n > 0)
		memset(c->out->data + c->out->len, 0, n);
	c->out->len += n;
	return 0;
}

static int
append(ectx *c, const void *data, size_t n, const codec_path *p)
{
	size_t		pos;
	int			rc = append_zero(c, n, &pos, p);

	if (rc == 0 && n > 0)
		memcpy(c->out->data + pos, data, n);
	return rc;
}

static const char *
jkind_name(codec_jkind k)
{
	switch (k)
	{
		case CODEC_J_NULL:
			return "null";
		case CODEC_J_BOOL:
			return "a boolean";
		case CODEC_J_NUMBER:
			return "a number";
		case CODEC_J_STRING:
			return "a string";
		case CODEC_J_ARRAY:
			return "an array";
		case CODEC_J_OBJECT:
			return "an object";
	}
	return "?";
}

static const char *
type_name(const codec_type *t)
{
	return codec_kind_name(t->kind);
}

static int
expect_kind(ectx *c, const void *node, codec_jkind want, const codec_type *t,
			const codec_path *p)
{
	codec_jkind k = c->src->kind(c->src->ctx, node);

	if (k == want)
		return 0;
	return VALUE_ERROR(c, p, "expected %s for %s, got %s", jkind_name(want),
					   type_name(t), jkind_name(k));
}

/* Floats from number text (strtod on a NUL-terminated copy) or names. */
static int
enc_float(ectx *c, const codec_type *t, const void *node, uint8_t *dst,
		  const codec_path *p)
{
	codec_jkind k = c->src->kind(c->src->ctx, node);
	size_t		len;
	const char *s;
	char		local[128];
	char	   *tmp = local;
	double		d;
	float		f;
	uint32_t	u32;
	uint64_t	u64;

	/* a source defines text() only for numbers and strings */
	if (k != CODEC_J_STRING && k != CODEC_J_NUMBER)
		return VALUE_ERROR(c, p, "expected a number for %s, got %s",
						   type_name(t), jkind_name(k));
	s = c->src->text(c->src->ctx, node, &len);
	if (k == CODEC_J_STRING)
	{
		if (len == 3 && memcmp(s, "NaN", 3) == 0)
			d = NAN;
		else if (len == 8 && memcmp(s, "Infinity", 8) == 0)
			d = INFINITY;
		else if (len == 9 && memcmp(s, "-Infinity", 9) == 0)
			d = -INFINITY;
		else
			return VALUE_ERROR(c, p, "invalid %s \"%.*s\" (expected a number, "
							   "\"NaN\", \"Infinity\" or \"-Infinity\")",
							   type_name(t), SHOWN(len), s);
		f = (float) d;
	}
	else
	{
		if (!codec_json_number_valid(s, len))
			return VALUE_ERROR(c, p, "invalid number \"%.*s\"", SHOWN(len), s);
		if (len >= sizeof(local))
		{
			tmp = malloc(len + 1);
			if (tmp == NULL)
				return codec_fail(c->err, CODEC_ERR_NOMEM, 0, p,
								  "out of memory");
		}
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		d = strtod(tmp, NULL);
		f = strtof(tmp, NULL);
		if (tmp != local)
			free(tmp);
		if (t->kind == CODEC_FLOAT64 ? isinf(d) : isinf(f))
			return VALUE_ERROR(c, p, "value is out of range for %s",
							   type_name(t));
	}
	if (t->kind == CODEC_FLOAT64)
	{
		memcpy(&u64, &d, 8);
		codec_store_u64(dst, u64);
	}
	else
	{
		memcpy(&u32, &f, 4);
		codec_store_u32(dst, u32);
	}
	return 0;
}

/* Integers and decimals: exact from the number text. */
static int
enc_scaled(ectx *c, const codec_type *t, const void *node, uint8_t *dst,
		   const codec_path *p)
{
	size_t		len;
	const char *s;
	int			scale = t->kind == CODEC_DECIMAL ? t->scale : 0;
	int64_t		v;
	int64_t		lo;
	int64_t		hi;

	if (expect_kind(c, node, CODEC_J_NUMBER, t, p) != 0)
		return c->err->code;
	s = c->src->text(c->src->ctx, node, &len);
	switch (codec_parse_scaled(s, len, scale, &v))
	{
		case CODEC_NUM_OK:
			break;
		case CODEC_NUM_SYNTAX:
			return VALUE_ERROR(c, p, "invalid number \"%.*s\"", SHOWN(len), s);
		case CODEC_NUM_FRACTION:
			if (t->kind == CODEC_DECIMAL)
				return VALUE_ERROR(c, p, "%.*s has more than %d fractional "
								   "digits", SHOWN(len), s, scale);
			return VALUE_ERROR(c, p, "%.*s is not an integer", SHOWN(len), s);
		case CODEC_NUM_RANGE:
			return VALUE_ERROR(c, p, "%.*s is out of range for %s", SHOWN(len), s,
							   type_name(t));
	}
	switch (t->kind)
	{
		case CODEC_INT8:
			lo = INT8_MIN;
			hi = INT8_MAX;
			break;
		case CODEC_INT16:
			lo = INT16_MIN;
			hi = INT16_MAX;
			break;
		case CODEC_INT32:
			lo = INT32_MIN;
			hi = INT32_MAX;
			break;
		case CODEC_DECIMAL:
			hi = codec_pow10[t->precision] - 1;
			lo = -hi;
			break;
		default:
			lo = INT64_MIN;
			hi = INT64_MAX;
			break;
	}
	if (v < lo || v > hi)
	{
		if (t->kind == CODEC_DECIMAL)
			return VALUE_ERROR(c, p, "%.*s exceeds decimal(%d,%d)", SHOWN(len), s,
							   t->precision, t->scale);
		return VALUE_ERROR(c, p, "%.*s is out of range for %s", SHOWN(len), s,
						   type_name(t));
	}
	switch (t->size)
	{
		case 1:
			dst[0] = (uint8_t) v;
			break;
		case 2:
			codec_store_u16(dst, (uint16_t) v);
			break;
		case 4:
			codec_store_u32(dst, (uint32_t) v);
			break;
		default:
			codec_store_u64(dst, (uint64_t) v);
			break;
	}
	return 0;
}

/* Expected decoded length of padded base64 text, or -1. */
static int64_t
base64_decoded_len(const char *s, size_t len)
{
	size_t		n;

	if (len % 4 != 0)
		return -1;
	n = len / 4 * 3;
	if (len > 0 && s[len - 1] == '=')
		n--;
	if (len > 1 && s[len - 2] == '=')
		n--;
	return (int64_t) n;
}

/*
 * Writes a non-null fixed-size value at out->data[pos]; the bytes are
 * reserved (and zero) already.
 */
static int
enc_fixed(ectx *c, const codec_type *t, const void *node, size_t pos,
		  const codec_path *p)
{
	size_t		len;
	const char *s;
	uint8_t	   *dst = c->out->data + pos;
	int64_t		v;
	int32_t		days;
	uint32_t	i;
	size_t		dl;

	switch (t->kind)
	{
		case CODEC_BOOL:
			if (expect_kind(c, node, CODEC_J_BOOL, t, p) != 0)
				return c->err->code;
			dst[0] = c->src->boolean(c->src->ctx, node) ? 1 : 0;
			return 0;
		case CODEC_INT8:
		case CODEC_INT16:
		case CODEC_INT32:
		case CODEC_INT64:
		case CODEC_DECIMAL:
			return enc_scaled(c, t, node, dst, p);
		case CODEC_FLOAT32:
		case CODEC_FLOAT64:
			return enc_float(c, t, node, dst, p);
		default:
			break;
	}
	/* the remaining fixed types are all written as strings */
	if (expect_kind(c, node, CODEC_J_STRING, t, p) != 0)
		return c->err->code;
	s = c->src->text(c->src->ctx, node, &len);
	switch (t->kind)
	{
		case CODEC_TIMESTAMP:
			if (codec_parse_timestamp(s, len, &v) != 0)
				return VALUE_ERROR(c, p, "invalid timestamp \"%.*s\"",
								   SHOWN(len), s);
			codec_store_u64(dst, (uint64_t) v);
			return 0;
		case CODEC_DATE:
			if (codec_parse_date(s, len, &days) != 0)
				return VALUE_ERROR(c, p, "invalid date \"%.*s\"",
								   SHOWN(len), s);
			codec_store_u32(dst, (uint32_t) days);
			return 0;
		case CODEC_UUID:
			if (codec_parse_uuid(s, len, dst) != 0)
				return VALUE_ERROR(c, p, "invalid uuid \"%.*s\"",
								   SHOWN(len), s);
			return 0;
		case CODEC_ENUM:
			for (i = 0; i < t->nsymbols; i++)
				if (strlen(t->symbols[i]) == len &&
					memcmp(t->symbols[i], s, len) == 0)
				{
					codec_store_u16(dst, (uint16_t) i);
					return 0;
				}
			return VALUE_ERROR(c, p, "unknown enum symbol \"%.*s\"",
							   SHOWN(len), s);
		case CODEC_FIXED:
			if (base64_decoded_len(s, len) != (int64_t) t->size ||
				codec_base64_decode(s, len, dst, &dl) != 0)
				return VALUE_ERROR(c, p, "expected base64 of %u bytes for "
								   "fixed(%u)", t->size, t->size);
			return 0;
		default:
			return VALUE_ERROR(c, p, "unexpected type");
	}
}

static int
enc_array(ectx *c, const codec_type *elem, const void *node,
		  const codec_path *p)
{
	uint32_t	n;
	uint32_t	i;
	size_t		pos;
	codec_path	en;
	int			rc;

	n = c->src->array_size(c->src->ctx, node);
	if (n > CODEC_MAX_ARRAY_ELEMENTS)
		return codec_fail(c->err, CODEC_ERR_LIMIT, 0, p,
						  "array of %u elements exceeds the limit of %d", n,
						  CODEC_MAX_ARRAY_ELEMENTS);
	if ((rc = append_zero(c, 4, &pos, p)) != 0)
		return rc;
	codec_store_u32(c->out->data + pos, n);
	if (elem->size &&
		(rc = append_zero(c, (size_t) n * elem->size, &pos, p)) != 0)
		return rc;
	en.up = p;
	en.name = NULL;
	en.name_len = 0;
	for (i = 0; i < n; i++)
	{
		const void *e = c->src->element(c->src->ctx, node, i);

		en.index = i;
		if (e == NULL || c->src->kind(c->src->ctx, e) == CODEC_J_NULL)
			return VALUE_ERROR(c, &en, "array elements cannot be null");
		if (elem->size)
			rc = enc_fixed(c, elem, e, pos + (size_t) i * elem->size, &en);
		else
		{
			size_t		lpos;

			if ((rc = append_zero(c, 4, &lpos, &en)) != 0)
				return rc;
			rc = enc_var(c, elem, e, &en);
			if (rc == 0)
				codec_store_u32(c->out->data + lpos,
								(uint32_t) (c->out->len - lpos - 4));
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Appends the payload of a non-null variable-length value. */
static int
enc_var(ectx *c, const codec_type *t, const void *node, const codec_path *p)
{
	size_t		len;
	const char *s;
	size_t		pos;
	size_t		dl;
	int64_t		expect;
	uint8_t		empty[1];
	int			rc;

	switch (t->kind)
	{
		case CODEC_STRING:
			if (expect_kind(c, node, CODEC_J_STRING, t, p) != 0)
				return c->err->code;
			s = c->src->text(c->src->ctx, node, &len);
			if (!codec_utf8_valid((const uint8_t *) s, len))
				return VALUE_ERROR(c, p, "string is not valid UTF-8");
			if (memchr(s, 0, len) != NULL)
				return VALUE_ERROR(c, p, "string contains U+0000");
			return append(c, s, len, p);
		case CODEC_BYTES:
			if (expect_kind(c, node, CODEC_J_STRING, t, p) != 0)
				return c->err->code;
			s = c->src->text(c->src->ctx, node, &len);
			expect = base64_decoded_len(s, len);
			if (expect < 0)
				return VALUE_ERROR(c, p, "invalid base64");
			if ((rc = append_zero(c, (size_t) expect, &pos, p)) != 0)
				return rc;

			/*
			 * The source text stays valid: nothing was called since.  An
			 * empty value may meet a buffer not allocated yet (a default
			 * encoded on its own): no pointer arithmetic on it then.
			 */
			if (codec_base64_decode(s, len,
									expect > 0 ? c->out->data + pos : empty,
									&dl) != 0 ||
				dl != (size_t) expect)
				return VALUE_ERROR(c, p, "invalid base64");
			return 0;
		case CODEC_ARRAY:
			if (expect_kind(c, node, CODEC_J_ARRAY, t, p) != 0)
				return c->err->code;
			return enc_array(c, t->element, node, p);
		case CODEC_RECORD:
			if (expect_kind(c, node, CODEC_J_OBJECT, t, p) != 0)
				return c->err->code;
			if ((rc = append_zero(c, CODEC_RECORD_HEADER_SIZE, &pos, p)) != 0)
				return rc;
			codec_store_u16(c->out->data + pos, (uint16_t) t->record->nfields);
			codec_store_u32(c->out->data + pos + 2, t->record->fixed_length);
			return enc_body(c, t->record, node, p);
		default:
			return VALUE_ERROR(c, p, "unexpected type");
	}
}

/* Names the first member of obj that is not a field of rec. */
static int
unknown_member(ectx *c, const codec_record *rec, const void *obj,
			   const codec_path *p)
{
	uint32_t	n = c->src->object_size(c->src->ctx, obj);
	uint32_t	i;
	uint32_t	j;

	if (c->src->key != NULL)
	{
		for (i = 0; i < n; i++)
		{
			size_t		klen;
			const char *k = c->src->key(c->src->ctx, obj, i, &klen);
			bool		found = false;

			if (k == NULL)
				continue;
			for (j = 0; j < rec->nfields && !found; j++)
				found = rec->fields[j].name_len == klen &&
					memcmp(rec->fields[j].name, k, klen) == 0;
			if (!found)
				return VALUE_ERROR(c, p, "unknown field \"%.*s\"",
								   (int) (klen > 64 ? 64 : klen), k);
		}
	}
	return VALUE_ERROR(c, p, "object has members that are not fields of "
					   "the schema");
}

/* Writes bitmap, fixed area and variable area of rec from object obj. */
static int
enc_body(ectx *c, const codec_record *rec, const void *obj,
		 const codec_path *p)
{
	size_t		start;
	size_t		fixed;
	uint32_t	matched = 0;
	uint32_t	i;
	codec_path	node;
	int			rc;

	if ((rc = append_zero(c, (size_t) rec->bitmap_len + rec->fixed_length,
						  &start, p)) != 0)
		return rc;
	fixed = start + rec->bitmap_len;
	for (i = 0; i < rec->nfields; i++)
	{
		const codec_field *f = &rec->fields[i];
		const void *m = c->src->member(c->src->ctx, obj, f->name);
		bool		isnull = false;
		size_t		lpos = 0;

		node.up = p;
		node.name = f->name;
		node.name_len = f->name_len;
		node.index = 0;
		if (m != NULL)
			matched++;
		if (f->offset < 0 && (rc = append_zero(c, 4, &lpos, &node)) != 0)
			return rc;
		if (m == NULL && f->has_default)
		{
			if (f->offset >= 0)
				memcpy(c->out->data + fixed + f->offset, f->default_bytes,
					   f->type.size);
			else if ((rc = append(c, f->default_bytes, f->default_len,
								  &node)) != 0)
				return rc;
		}
		else if (m == NULL || c->src->kind(c->src->ctx, m) == CODEC_J_NULL)
		{
			if (!CODEC_FIELD_NULLABLE(f))
				return VALUE_ERROR(c, &node, m == NULL ?
								   "missing value for non-nullable field" :
								   "null value for non-nullable field");
			isnull = true;
		}
		else if (f->offset >= 0)
			rc = enc_fixed(c, &f->type, m, fixed + (size_t) f->offset, &node);
		else
			rc = enc_var(c, &f->type, m, &node);
		if (rc != 0)
			return rc;
		if (isnull)
			c->out->data[start + (i >> 3)] |= (uint8_t) (1u << (i & 7));
		if (f->offset < 0)
			codec_store_u32(c->out->data + lpos,
							(uint32_t) (c->out->len - lpos - 4));
	}
	if (matched != c->src->object_size(c->src->ctx, obj))
		return unknown_member(c, rec, obj, p);
	return 0;
}

int
codec_encode(const codec_schema *schema, const codec_source *src,
			 const void *root, codec_buf *out, codec_error *err)
{
	ectx		c;
	size_t		pos;
	int			rc;

	c.src = src;
	c.out = out;
	c.err = err;
	if (root == NULL || src->kind(src->ctx, root) != CODEC_J_OBJECT)
		return codec_fail(err, CODEC_ERR_VALUE, 0, NULL,
						  "message must be a JSON object");
	if ((rc = append_zero(&c, CODEC_HEADER_SIZE, &pos, NULL)) != 0)
		return rc;
	out->data[pos] = CODEC_MAGIC;
	out->data[pos + 1] = 0;
	codec_store_u16(out->data + pos + 2, (uint16_t) schema->root.nfields);
	codec_store_u32(out->data + pos + 4, schema->name_hash);
	codec_store_u32(out->data + pos + 8, schema->version);
	codec_store_u32(out->data + pos + 12, schema->root.fixed_length);
	return enc_body(&c, &schema->root, root, NULL);
}

int
codec_encode_value(const codec_type *type, const codec_source *src,
				   const void *node, codec_buf *out, const char *pathname,
				   codec_error *err)
{
	ectx		c;
	codec_path	root;
	size_t		pos;
	int			rc;

	c.src = src;
	c.out = out;
	c.err = err;
	root.up = NULL;
	root.name = pathname;
	root.name_len = strlen(pathname);
	root.index = 0;
	if (src->kind(src->ctx, node) == CODEC_J_NULL)
		return VALUE_ERROR(&c, &root, "null value");
	if (!CODEC_KIND_IS_FIXED(type->kind))
		return enc_var(&c, type, node, &root);
	if ((rc = append_zero(&c, type->size, &pos, &root)) != 0)
		return rc;
	return enc_fixed(&c, type, node, pos, &root);
}
