/*-------------------------------------------------------------------------
 *
 * codec_decode.c
 *	  Validating decoder of wire format v1 into a codec_visitor.
 *
 * This runs once per row of a SQL scan, and its input is untrusted.
 *
 * Invariants:
 *	- No read outside [buf, buf + len): every length is compared with the
 *	  bytes remaining (a subtraction that cannot wrap) before it is used,
 *	  and sizes are computed in 64 bits from 32-bit factors.
 *	- Nothing is allocated; field paths are chains of stack nodes rendered
 *	  only on error.  A visitor may therefore longjmp out at any call.
 *	- Recursion follows the schema (records must match it), so its depth is
 *	  bounded by CODEC_MAX_DEPTH whatever the input.
 *	- With visitor == NULL the same code only validates; that is how
 *	  deprecated fields, projected decodes and codec_read_field check data
 *	  they do not emit.
 *
 *-------------------------------------------------------------------------
 */
#include "codec_internal.h"

typedef struct dctx
{
	const uint8_t *buf;
	size_t		len;
	const codec_visitor *v;		/* NULL: validate only */
	codec_error *err;
	codec_decode_info *info;
} dctx;

static int visit_var(dctx *c, const codec_type *t, size_t off, size_t vlen,
					 const codec_path *p);

#define MALFORMED(c, off, p, ...) \
	codec_fail((c)->err, CODEC_ERR_MALFORMED, (off), (p), __VA_ARGS__)

#define CALL_VISITOR(c, cb, ...) \
	do { \
		if ((c)->v != NULL && (c)->v->cb != NULL && \
			(c)->v->cb((c)->v->ctx, __VA_ARGS__) != 0) \
			return codec_fail((c)->err, CODEC_ERR_VISITOR, 0, NULL, \
							  "decoding stopped by the caller"); \
	} while (0)

#define CALL_VISITOR0(c, cb) \
	do { \
		if ((c)->v != NULL && (c)->v->cb != NULL && \
			(c)->v->cb((c)->v->ctx) != 0) \
			return codec_fail((c)->err, CODEC_ERR_VISITOR, 0, NULL, \
							  "decoding stopped by the caller"); \
	} while (0)

static inline void
field_node(codec_path *node, const codec_path *up, const codec_field *f)
{
	node->up = up;
	node->name = f->name;
	node->name_len = f->name_len;
	node->index = 0;
}

static int
emit_null(dctx *c, const codec_type *t)
{
	codec_value val;

	val.type = t;
	val.isnull = true;
	val.u.i = 0;
	CALL_VISITOR(c, scalar, &val);
	return 0;
}

/*
 * Decodes and checks the fixed-size value at buf[off, off + t->size); the
 * caller has checked those bounds.
 */
static int
read_fixed(dctx *c, const codec_type *t, size_t off, const codec_path *p,
		   codec_value *val)
{
	const uint8_t *q = c->buf + off;
	uint32_t	u32;
	uint64_t	u64;
	float		f32;

	val->type = t;
	val->isnull = false;
	switch (t->kind)
	{
		case CODEC_BOOL:
			if (q[0] > 1)
				return MALFORMED(c, off, p, "bool byte is %u, not 0 or 1",
								 q[0]);
			val->u.b = q[0] != 0;
			break;
		case CODEC_INT8:
			val->u.i = (int8_t) q[0];
			break;
		case CODEC_INT16:
			val->u.i = (int16_t) codec_load_u16(q);
			break;
		case CODEC_INT32:
		case CODEC_DATE:
			val->u.i = (int32_t) codec_load_u32(q);
			break;
		case CODEC_INT64:
		case CODEC_TIMESTAMP:
			val->u.i = (int64_t) codec_load_u64(q);
			break;
		case CODEC_FLOAT32:
			u32 = codec_load_u32(q);
			memcpy(&f32, &u32, 4);
			val->u.f = f32;
			break;
		case CODEC_FLOAT64:
			u64 = codec_load_u64(q);
			memcpy(&val->u.f, &u64, 8);
			break;
		case CODEC_ENUM:
			val->u.i = codec_load_u16(q);
			if ((uint32_t) val->u.i >= t->nsymbols)
				return MALFORMED(c, off, p,
								 "enum index %u is out of range (%u symbols)",
								 (unsigned) val->u.i, t->nsymbols);
			break;
		case CODEC_DECIMAL:
			val->u.i = (int64_t) codec_load_u64(q);
			if (val->u.i >= codec_pow10[t->precision] ||
				val->u.i <= -codec_pow10[t->precision])
				return MALFORMED(c, off, p,
								 "decimal exceeds precision %u",
								 t->precision);
			break;
		default:				/* UUID, FIXED */
			val->u.bytes.ptr = q;
			val->u.bytes.len = t->size;
			break;
	}
	return 0;
}

static int
visit_fixed(dctx *c, const codec_type *t, size_t off, const codec_path *p)
{
	codec_value val;
	int			rc = read_fixed(c, t, off, p, &val);

	if (rc != 0)
		return rc;
	CALL_VISITOR(c, scalar, &val);
	return 0;
}

void		(*codec_interrupt_hook) (void) = NULL;

static int
visit_array(dctx *c, const codec_type *elem, size_t off, size_t alen,
			const codec_path *p)
{
	uint32_t	count;
	uint32_t	i;
	size_t		pos;
	size_t		end = off + alen;
	codec_path	node;

	if (alen < 4)
		return MALFORMED(c, off, p,
						 "array needs a 4-byte count, %zu bytes remain", alen);
	count = codec_load_u32(c->buf + off);
	if (count > CODEC_MAX_ARRAY_ELEMENTS)
		return MALFORMED(c, off, p, "array count %u exceeds the limit of %d",
						 count, CODEC_MAX_ARRAY_ELEMENTS);
	pos = off + 4;
	/* a variable element takes at least its 4-byte length prefix */
	{
		uint64_t	need = (uint64_t) count *
			(elem->size ? elem->size : 4);

		if (need > end - pos)
			return MALFORMED(c, off, p,
							 "array of %u elements needs %llu bytes, "
							 "%zu remain", count, (unsigned long long) need,
							 end - pos);
		if (elem->size && need != end - pos)
			return MALFORMED(c, pos + need, p,
							 "%llu trailing bytes after array elements",
							 (unsigned long long) (end - pos - need));
	}
	CALL_VISITOR(c, begin_array, count);
	node.up = p;
	node.name = NULL;
	node.name_len = 0;
	for (i = 0; i < count; i++)
	{
		int			rc;

		node.index = i;
		if (codec_interrupt_hook && (i % CODEC_INTERRUPT_INTERVAL) ==
			CODEC_INTERRUPT_INTERVAL - 1)
			codec_interrupt_hook();
		if (elem->size)
		{
			rc = visit_fixed(c, elem, pos, &node);
			pos += elem->size;
		}
		else
		{
			uint32_t	elen;

			if (end - pos < 4)
				return MALFORMED(c, pos, &node,
								 "length prefix needs 4 bytes, %zu remain",
								 end - pos);
			elen = codec_load_u32(c->buf + pos);
			pos += 4;
			if (elen > end - pos)
				return MALFORMED(c, pos - 4, &node,
								 "length %u exceeds the %zu bytes remaining",
								 elen, end - pos);
			rc = visit_var(c, elem, pos, elen, &node);
			pos += elen;
		}
		if (rc != 0)
			return rc;
	}
	if (pos != end)
		return MALFORMED(c, pos, p, "%zu trailing bytes after array elements",
						 end - pos);
	CALL_VISITOR0(c, end_array);
	return 0;
}

/*
 * Walks a record body (root or nested) whose bitmap, fixed and variable
 * areas start at the given offsets and which ends at `end`.  The variable
 * fields of rec are the first ones of the area (a PREFIX-mode message may
 * append more).  With exact, the variable area must end at `end`.
 * With lenient_nulls, a null bit on a non-nullable field is accepted (the
 * newer writer may have relaxed it).
 */
static int
walk_body(dctx *c, const codec_record *rec, size_t bitmap, size_t fixed,
		  size_t var, size_t end, bool exact, bool lenient_nulls,
		  const codec_path *p)
{
	const codec_visitor *saved = c->v;
	size_t		pos = var;
	uint32_t	i;
	codec_path	node;

	CALL_VISITOR(c, begin_record, rec->noutput);
	for (i = 0; i < rec->nfields; i++)
	{
		const codec_field *f = &rec->fields[i];
		bool		isnull = (c->buf[bitmap + (i >> 3)] >> (i & 7)) & 1;
		int			rc = 0;

		field_node(&node, p, f);
		if (isnull && !CODEC_FIELD_NULLABLE(f) && !lenient_nulls)
			return MALFORMED(c, bitmap + (i >> 3), &node,
							 "null bit set for non-nullable field");
		if (f->deprecated)
			c->v = NULL;		/* validated, not emitted */
		else if (c->v != NULL && c->v->field_name != NULL &&
				 c->v->field_name(c->v->ctx, f->name, f->name_len) != 0)
			return codec_fail(c->err, CODEC_ERR_VISITOR, 0, NULL,
							  "decoding stopped by the caller");
		if (f->offset >= 0)
		{
			size_t		off = fixed + (size_t) f->offset;

			if (isnull)
			{
				uint32_t	k;

				for (k = 0; k < f->type.size; k++)
					if (c->buf[off + k] != 0)
						return MALFORMED(c, off + k, &node,
										 "null field has non-zero bytes");
				rc = emit_null(c, &f->type);
			}
			else
				rc = visit_fixed(c, &f->type, off, &node);
		}
		else
		{
			uint32_t	vlen;

			if (end - pos < 4)
				return MALFORMED(c, pos, &node,
								 "length prefix needs 4 bytes, %zu remain",
								 end - pos);
			vlen = codec_load_u32(c->buf + pos);
			pos += 4;
			if (vlen > end - pos)
				return MALFORMED(c, pos - 4, &node,
								 "length %u exceeds the %zu bytes remaining",
								 vlen, end - pos);
			if (isnull)
			{
				if (vlen != 0)
					return MALFORMED(c, pos - 4, &node,
									 "null field has length %u", vlen);
				rc = emit_null(c, &f->type);
			}
			else
			{
				if (c->info != NULL && c->v != NULL && f->var_index > 0)
					c->info->dynamic_offsets = true;
				rc = visit_var(c, &f->type, pos, vlen, &node);
			}
			pos += vlen;
		}
		c->v = saved;
		if (rc != 0)
			return rc;
	}
	if (exact && pos != end)
		return MALFORMED(c, pos, p,
						 "%zu trailing bytes after the variable area",
						 end - pos);
	CALL_VISITOR0(c, end_record);
	return 0;
}

/* Unused high bits of the last bitmap byte must be zero. */
static int
check_padding(dctx *c, size_t bitmap, uint32_t nfields, const codec_path *p)
{
	if ((nfields & 7) != 0 &&
		(c->buf[bitmap + (nfields >> 3)] >> (nfields & 7)) != 0)
		return MALFORMED(c, bitmap + (nfields >> 3), p,
						 "unused bits of the null bitmap are set");
	return 0;
}

static int
visit_record_body(dctx *c, const codec_record *rec, size_t off, size_t rlen,
				  const codec_path *p)
{
	size_t		end = off + rlen;
	uint32_t	fc;
	uint32_t	fl;
	size_t		bitmap;

	if (rlen < CODEC_RECORD_HEADER_SIZE)
		return MALFORMED(c, off, p,
						 "record header needs 6 bytes, %zu remain", rlen);
	fc = codec_load_u16(c->buf + off);
	fl = codec_load_u32(c->buf + off + 2);
	if (fc != rec->nfields)
		return MALFORMED(c, off, p,
						 "record field_count %u does not match the schema's %u",
						 fc, rec->nfields);
	if (fl != rec->fixed_length)
		return MALFORMED(c, off + 2, p,
						 "record fixed_length %u does not match the schema's %u",
						 fl, rec->fixed_length);
	bitmap = off + CODEC_RECORD_HEADER_SIZE;
	if ((uint64_t) rec->bitmap_len + fl > end - bitmap)
		return MALFORMED(c, bitmap, p,
						 "bitmap and fixed area of %llu bytes exceed the "
						 "%zu bytes remaining",
						 (unsigned long long) rec->bitmap_len + fl,
						 end - bitmap);
	if (check_padding(c, bitmap, rec->nfields, p) != 0)
		return c->err->code;
	return walk_body(c, rec, bitmap, bitmap + rec->bitmap_len,
					 bitmap + rec->bitmap_len + fl, end, true, false, p);
}

static int
visit_var(dctx *c, const codec_type *t, size_t off, size_t vlen,
		  const codec_path *p)
{
	codec_value val;

	switch (t->kind)
	{
		case CODEC_STRING:
			if (!codec_utf8_valid(c->buf + off, vlen))
				return MALFORMED(c, off, p, "string is not valid UTF-8");
			/* strings are text for PostgreSQL, which cannot hold NUL */
			if (memchr(c->buf + off, 0, vlen) != NULL)
				return MALFORMED(c, off, p, "string contains U+0000");
			/* FALLTHROUGH */
		case CODEC_BYTES:
			val.type = t;
			val.isnull = false;
			val.u.bytes.ptr = c->buf + off;
			val.u.bytes.len = (uint32_t) vlen;
			CALL_VISITOR(c, scalar, &val);
			return 0;
		case CODEC_ARRAY:
			return visit_array(c, t->element, off, vlen, p);
		case CODEC_RECORD:
			return visit_record_body(c, t->record, off, vlen, p);
		default:
			return MALFORMED(c, off, p, "fixed-size type in variable area");
	}
}

int
codec_header_read(const uint8_t *buf, size_t len, codec_header *hdr,
				  codec_error *err)
{
	size_t		bl;

	if (len < CODEC_HEADER_SIZE)
		return codec_fail(err, CODEC_ERR_MALFORMED, 0, NULL,
						  "message of %zu bytes is shorter than the "
						  "16-byte header", len);
	if (len > CODEC_MAX_MESSAGE_SIZE)
		return codec_fail(err, CODEC_ERR_LIMIT, 0, NULL,
						  "message of %zu bytes exceeds the limit of %d",
						  len, CODEC_MAX_MESSAGE_SIZE);
	if (buf[0] != CODEC_MAGIC)
		return codec_fail(err, CODEC_ERR_MALFORMED, 0, NULL,
						  "bad magic byte 0x%02x (expected 0x%02x)", buf[0],
						  CODEC_MAGIC);
	if (buf[1] != 0)
		return codec_fail(err, CODEC_ERR_MALFORMED, 1, NULL,
						  "unknown flags 0x%02x", buf[1]);
	hdr->flags = buf[1];
	hdr->field_count = codec_load_u16(buf + 2);
	hdr->name_hash = codec_load_u32(buf + 4);
	hdr->version = codec_load_u32(buf + 8);
	hdr->fixed_length = codec_load_u32(buf + 12);
	hdr->bitmap_offset = CODEC_HEADER_SIZE;
	bl = ((size_t) hdr->field_count + 7) / 8;
	if (bl > len - CODEC_HEADER_SIZE)
		return codec_fail(err, CODEC_ERR_MALFORMED, CODEC_HEADER_SIZE, NULL,
						  "null bitmap of %zu bytes exceeds the %zu bytes "
						  "remaining", bl, len - CODEC_HEADER_SIZE);
	hdr->fixed_offset = CODEC_HEADER_SIZE + bl;
	if (hdr->fixed_length > len - hdr->fixed_offset)
		return codec_fail(err, CODEC_ERR_MALFORMED, 12, NULL,
						  "fixed area of %u bytes exceeds the %zu bytes "
						  "remaining", hdr->fixed_length,
						  len - hdr->fixed_offset);
	hdr->var_offset = hdr->fixed_offset + hdr->fixed_length;
	return 0;
}

/*
 * Checks a header read by codec_header_read() against the writer schema
 * and the mode (shared by codec_decode and codec_read_field).
 */
static int
check_header(const codec_schema *writer, int mode, const uint8_t *buf,
			 const codec_header *hdr, codec_error *err)
{
	const codec_record *rec = &writer->root;

	if (hdr->name_hash != writer->name_hash)
		return codec_fail(err, CODEC_ERR_LINEAGE, 4, NULL,
						  "message belongs to another schema (name hash "
						  "%08x, \"%s\" has %08x)", hdr->name_hash,
						  writer->name, writer->name_hash);
	if (mode == CODEC_DECODE_EXACT)
	{
		/* a schema without a version (not registered) accepts any */
		if (writer->version != 0 && hdr->version != writer->version)
			return codec_fail(err, CODEC_ERR_MALFORMED, 8, NULL,
							  "schema_version %u does not match the schema's %u",
							  hdr->version, writer->version);
		if (hdr->field_count != rec->nfields)
			return codec_fail(err, CODEC_ERR_MALFORMED, 2, NULL,
							  "field_count %u does not match the schema's %u",
							  hdr->field_count, rec->nfields);
		if (hdr->fixed_length != rec->fixed_length)
			return codec_fail(err, CODEC_ERR_MALFORMED, 12, NULL,
							  "fixed_length %u does not match the schema's %u",
							  hdr->fixed_length, rec->fixed_length);
	}
	else
	{
		if (hdr->field_count < rec->nfields)
			return codec_fail(err, CODEC_ERR_MALFORMED, 2, NULL,
							  "field_count %u is less than the schema's %u",
							  hdr->field_count, rec->nfields);
		if (hdr->fixed_length < rec->fixed_length)
			return codec_fail(err, CODEC_ERR_MALFORMED, 12, NULL,
							  "fixed_length %u is less than the schema's %u",
							  hdr->fixed_length, rec->fixed_length);
	}
	if ((hdr->field_count & 7) != 0 &&
		(buf[CODEC_HEADER_SIZE + hdr->field_count / 8] >>
		 (hdr->field_count & 7)) != 0)
		return codec_fail(err, CODEC_ERR_MALFORMED,
						  CODEC_HEADER_SIZE + hdr->field_count / 8, NULL,
						  "unused bits of the null bitmap are set");
	return 0;
}

static int
visit_default(const codec_field *f, const codec_visitor *v,
			  const codec_path *p, codec_error *err)
{
	dctx		d;

	d.buf = f->default_bytes;
	d.len = f->default_len;
	d.v = v;
	d.err = err;
	d.info = NULL;
	if (!f->has_default)
		return emit_null(&d, &f->type);
	if (f->offset >= 0)
		return visit_fixed(&d, &f->type, 0, p);
	return visit_var(&d, &f->type, 0, f->default_len, p);
}

/*
 * Emits the projected fields in reader order, after a validating pass.
 * Variable fields are found by walking length prefixes from a cursor that
 * only rewinds when the reader asks for an earlier one.
 */
static int
emit_projected(dctx *c, const codec_projection *proj, const codec_header *hdr)
{
	const codec_record *rec = &proj->writer->root;
	uint32_t	cur_index = 0;
	size_t		cur_pos = hdr->var_offset;
	uint32_t	k;
	codec_path	node;

	CALL_VISITOR(c, begin_record, proj->nout);
	for (k = 0; k < proj->nout; k++)
	{
		const codec_field *rf = proj->out_fields[k];
		int32_t		w = proj->writer_ordinals[k];
		const codec_field *f;
		int			rc;

		field_node(&node, NULL, rf);
		CALL_VISITOR(c, field_name, rf->name, rf->name_len);
		if (w < 0)
		{
			c->info->defaults_used++;
			rc = visit_default(rf, c->v, &node, c->err);
		}
		else
		{
			f = &rec->fields[w];
			if ((c->buf[CODEC_HEADER_SIZE + (w >> 3)] >> (w & 7)) & 1)
				rc = emit_null(c, &f->type);
			else if (f->offset >= 0)
				rc = visit_fixed(c, &f->type,
								 hdr->fixed_offset + (size_t) f->offset, &node);
			else
			{
				uint32_t	target = (uint32_t) f->var_index;
				uint32_t	vlen;

				if (target < cur_index)
				{
					cur_index = 0;
					cur_pos = hdr->var_offset;
				}
				/* the validating pass checked every prefix we step over */
				for (; cur_index < target; cur_index++)
					cur_pos += 4 + (size_t) codec_load_u32(c->buf + cur_pos);
				vlen = codec_load_u32(c->buf + cur_pos);
				if (target > 0)
					c->info->dynamic_offsets = true;
				rc = visit_var(c, &f->type, cur_pos + 4, vlen, &node);
			}
		}
		if (rc != 0)
			return rc;
	}
	CALL_VISITOR0(c, end_record);
	return 0;
}

int
codec_decode(const codec_schema *writer, const codec_projection *proj,
			 int mode, const uint8_t *buf, size_t len,
			 const codec_visitor *visitor, codec_decode_info *info,
			 codec_error *err)
{
	codec_header hdr;
	int			rc;

	if (info != NULL)
	{
		info->dynamic_offsets = false;
		info->defaults_used = 0;
	}
	if (proj != NULL && proj->writer != writer)
		return codec_fail(err, CODEC_ERR_VALUE, 0, NULL,
						  "projection was built for another writer schema");
	rc = codec_header_read(buf, len, &hdr, err);
	if (rc != 0)
		return rc;
	return codec_decode_hdr(writer, proj, mode, buf, len, &hdr, visitor,
							info, err);
}

int
codec_decode_hdr(const codec_schema *writer, const codec_projection *proj,
				 int mode, const uint8_t *buf, size_t len,
				 const codec_header *header, const codec_visitor *visitor,
				 codec_decode_info *info, codec_error *err)
{
	codec_decode_info dummy;
	codec_header hdr = *header;
	dctx		c;
	int			rc;

	if (info == NULL)
		info = &dummy;
	info->dynamic_offsets = false;
	info->defaults_used = 0;
	if (proj != NULL && proj->writer != writer)
		return codec_fail(err, CODEC_ERR_VALUE, 0, NULL,
						  "projection was built for another writer schema");
	rc = check_header(writer, mode, buf, &hdr, err);
	if (rc != 0)
		return rc;
	c.buf = buf;
	c.len = len;
	c.v = visitor;
	c.err = err;
	c.info = info;
	if (proj == NULL || proj->identity)
		return walk_body(&c, &writer->root, CODEC_HEADER_SIZE,
						 hdr.fixed_offset, hdr.var_offset, len,
						 mode == CODEC_DECODE_EXACT,
						 mode != CODEC_DECODE_EXACT, NULL);
	c.v = NULL;
	rc = walk_body(&c, &writer->root, CODEC_HEADER_SIZE, hdr.fixed_offset,
				   hdr.var_offset, len, mode == CODEC_DECODE_EXACT,
				   mode != CODEC_DECODE_EXACT, NULL);
	if (rc != 0)
		return rc;
	c.v = visitor;
	return emit_projected(&c, proj, &hdr);
}

int
codec_read_field(const codec_schema *writer, int mode,
				 const codec_field *field, const uint8_t *buf, size_t len,
				 codec_value *value, codec_error *err)
{
	codec_header hdr;
	int			rc;

	if (field == NULL || field->ordinal >= writer->root.nfields ||
		field != &writer->root.fields[field->ordinal])
		return codec_fail(err, CODEC_ERR_VALUE, 0, NULL,
						  "field is not a top-level field of schema \"%s\"",
						  writer->name);
	rc = codec_header_read(buf, len, &hdr, err);
	if (rc != 0)
		return rc;
	return codec_read_field_hdr(writer, mode, field, buf, len, &hdr, value,
								err);
}

int
codec_read_field_hdr(const codec_schema *writer, int mode,
					 const codec_field *field, const uint8_t *buf, size_t len,
					 const codec_header *header, codec_value *value,
					 codec_error *err)
{
	codec_header hdr = *header;
	dctx		c;
	codec_path	node;
	uint32_t	o;
	bool		isnull;
	int			rc;

	if (field == NULL || field->ordinal >= writer->root.nfields ||
		field != &writer->root.fields[field->ordinal])
		return codec_fail(err, CODEC_ERR_VALUE, 0, NULL,
						  "field is not a top-level field of schema \"%s\"",
						  writer->name);
	rc = check_header(writer, mode, buf, &hdr, err);
	if (rc != 0)
		return rc;
	c.buf = buf;
	c.len = len;
	c.v = NULL;
	c.err = err;
	c.info = NULL;
	field_node(&node, NULL, field);
	o = field->ordinal;
	value->type = &field->type;
	value->isnull = false;
	isnull = (buf[CODEC_HEADER_SIZE + (o >> 3)] >> (o & 7)) & 1;
	if (isnull && !CODEC_FIELD_NULLABLE(field) && mode == CODEC_DECODE_EXACT)
		return MALFORMED(&c, CODEC_HEADER_SIZE + (o >> 3), &node,
						 "null bit set for non-nullable field");
	if (field->offset >= 0)
	{
		size_t		off = hdr.fixed_offset + (size_t) field->offset;

		if (isnull)
		{
			uint32_t	k;

			for (k = 0; k < field->type.size; k++)
				if (buf[off + k] != 0)
					return MALFORMED(&c, off + k, &node,
									 "null field has non-zero bytes");
			value->isnull = true;
			value->u.i = 0;
			return 0;
		}
		return read_fixed(&c, &field->type, off, &node, value);
	}
	else
	{
		size_t		pos = hdr.var_offset;
		uint32_t	j;
		uint32_t	vlen = 0;

		for (j = 0; j <= (uint32_t) field->var_index; j++)
		{
			if (len - pos < 4)
				return MALFORMED(&c, pos, &node,
								 "length prefix needs 4 bytes, %zu remain",
								 len - pos);
			vlen = codec_load_u32(buf + pos);
			pos += 4;
			if (vlen > len - pos)
				return MALFORMED(&c, pos - 4, &node,
								 "length %u exceeds the %zu bytes remaining",
								 vlen, len - pos);
			if (j < (uint32_t) field->var_index)
				pos += vlen;
		}
		if (isnull)
		{
			if (vlen != 0)
				return MALFORMED(&c, pos - 4, &node,
								 "null field has length %u", vlen);
			value->isnull = true;
			value->u.bytes.ptr = NULL;
			value->u.bytes.len = 0;
			return 0;
		}
		/* validate the payload; arrays and records are checked in depth */
		rc = visit_var(&c, &field->type, pos, vlen, &node);
		if (rc != 0)
			return rc;
		value->u.bytes.ptr = buf + pos;
		value->u.bytes.len = vlen;
		return 0;
	}
}

int
codec_visit_value(const codec_value *value, const codec_visitor *visitor,
				  codec_error *err)
{
	dctx		c;

	c.buf = value->u.bytes.ptr;
	c.len = value->u.bytes.len;
	c.v = visitor;
	c.err = err;
	c.info = NULL;
	if (value->isnull || CODEC_KIND_IS_FIXED(value->type->kind) ||
		value->type->kind == CODEC_STRING || value->type->kind == CODEC_BYTES)
	{
		CALL_VISITOR(&c, scalar, value);
		return 0;
	}
	return visit_var(&c, value->type, 0, value->u.bytes.len, NULL);
}

int
codec_visit_default(const codec_field *field, const codec_visitor *visitor,
					codec_error *err)
{
	codec_path	node;

	field_node(&node, NULL, field);
	return visit_default(field, visitor, &node, err);
}
