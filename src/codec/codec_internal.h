/*-------------------------------------------------------------------------
 *
 * codec_internal.h
 *	  Private helpers shared by the codec core's source files.
 *
 * Nothing here is part of the public API (codec.h); the PostgreSQL layer
 * must not include this header.  Everything declared here is either static
 * inline or carries the codec_ prefix.
 *
 * Invariants:
 *	- Wire integers are little-endian; loads and stores go through memcpy,
 *	  so unaligned access is never undefined behaviour.
 *	- A codec_path is a chain of stack nodes from the innermost item up to
 *	  the root; building one allocates nothing, so the decoder stays
 *	  allocation-free.  The text form is only produced on error.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCHEMAEVO_CODEC_INTERNAL_H
#define SCHEMAEVO_CODEC_INTERNAL_H

#include <stdarg.h>
#include <string.h>

#include "codec.h"

#if defined(__GNUC__)
#define CODEC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CODEC_LIKELY(x) __builtin_expect(!!(x), 1)
#define CODEC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CODEC_PRINTF(f, a)
#define CODEC_LIKELY(x) (x)
#define CODEC_UNLIKELY(x) (x)
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define CODEC_SWAP16(x) __builtin_bswap16(x)
#define CODEC_SWAP32(x) __builtin_bswap32(x)
#define CODEC_SWAP64(x) __builtin_bswap64(x)
#else
#define CODEC_SWAP16(x) (x)
#define CODEC_SWAP32(x) (x)
#define CODEC_SWAP64(x) (x)
#endif

static inline uint16_t
codec_load_u16(const uint8_t *p)
{
	uint16_t	v;

	memcpy(&v, p, sizeof(v));
	return CODEC_SWAP16(v);
}

static inline uint32_t
codec_load_u32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return CODEC_SWAP32(v);
}

static inline uint64_t
codec_load_u64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return CODEC_SWAP64(v);
}

static inline void
codec_store_u16(uint8_t *p, uint16_t v)
{
	v = CODEC_SWAP16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
codec_store_u32(uint8_t *p, uint32_t v)
{
	v = CODEC_SWAP32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
codec_store_u64(uint8_t *p, uint64_t v)
{
	v = CODEC_SWAP64(v);
	memcpy(p, &v, sizeof(v));
}

/* Effective nullability: a deprecated field is implicitly nullable. */
#define CODEC_FIELD_NULLABLE(f) ((f)->nullable || (f)->deprecated)

/*
 * One step of a field path: a named field (name != NULL) or an array index.
 * Nodes live on the stack of the recursing function.
 */
typedef struct codec_path
{
	const struct codec_path *up;
	const char *name;
	size_t		name_len;
	uint32_t	index;
} codec_path;

extern void codec_path_render(const codec_path *p, char *out, size_t outlen);

/* Fills *err; returns the code so callers can "return codec_fail(...)". */
extern int	codec_fail(codec_error *err, codec_errcode code, size_t offset,
					   const codec_path *path, const char *fmt,...)
			CODEC_PRINTF(5, 6);
extern int	codec_vfail(codec_error *err, codec_errcode code, size_t offset,
						const codec_path *path, const char *fmt, va_list ap)
			CODEC_PRINTF(5, 0);

/* ---- growable string for JSON output (codec_support.c) ---- */

typedef struct codec_strbuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;			/* an allocation failed; data is junk */
} codec_strbuf;

extern void codec_sb_init(codec_strbuf *sb);
extern bool codec_sb_reserve(codec_strbuf *sb, size_t more);
extern void codec_sb_append(codec_strbuf *sb, const char *s, size_t len);
extern void codec_sb_puts(codec_strbuf *sb, const char *s);
extern void codec_sb_printf(codec_strbuf *sb, const char *fmt,...)
			CODEC_PRINTF(2, 3);
extern void codec_sb_json_string(codec_strbuf *sb, const char *s, size_t len);
/* The NUL-terminated text, or NULL (and freed) if an allocation failed. */
extern char *codec_sb_finish(codec_strbuf *sb);

/* ---- schema storage (codec_support.c) ---- */

typedef struct codec_arena_chunk codec_arena_chunk;

/*
 * A compiled schema and the arena owning every allocation reachable from
 * it; codec_schema_free() releases the arena in one sweep.
 */
typedef struct codec_schema_impl
{
	codec_schema schema;		/* first, so the public pointer casts back */
	codec_arena_chunk *arena;
} codec_schema_impl;

extern void *codec_arena_alloc(codec_schema_impl *impl, size_t size);
extern char *codec_arena_strndup(codec_schema_impl *impl, const char *s,
								 size_t len);
extern void codec_arena_free(codec_schema_impl *impl);

/* ---- numbers (codec_text.c) ---- */

typedef enum codec_numstatus
{
	CODEC_NUM_OK = 0,
	CODEC_NUM_SYNTAX,			/* not a JSON number */
	CODEC_NUM_FRACTION,			/* more fractional digits than the scale */
	CODEC_NUM_RANGE				/* does not fit in int64 */
} codec_numstatus;

/*
 * Exact conversion of JSON number text to an int64 count of 10^-scale
 * units, without floating point.
 */
extern codec_numstatus codec_parse_scaled(const char *s, size_t len,
										  int scale, int64_t *out);
extern bool codec_json_number_valid(const char *s, size_t len);
extern const int64_t codec_pow10[19];

/* ---- encoder internals (codec_encode.c) ---- */

/*
 * Encodes one non-null value of `type` as its wire payload (fixed bytes,
 * or a variable payload without length prefix), appended to `out`.  Used
 * for defaults; `pathname` prefixes error paths.
 */
extern int	codec_encode_value(const codec_type *type, const codec_source *src,
							   const void *node, codec_buf *out,
							   const char *pathname, codec_error *err);

/* ---- JSON writer (codec_json.c) ---- */

/*
 * Writes a field's default (or null) as JSON text into sb, the same text
 * codec_decode_to_json() would produce for that value.
 */
extern int	codec_json_write_default(codec_strbuf *sb, const codec_field *field,
									 codec_error *err);

/* ---- layout helpers (codec_layout.c) ---- */

extern bool codec_type_equal(const codec_type *a, const codec_type *b);
extern void codec_write_type_json(codec_strbuf *sb, const codec_type *type);
extern int	codec_compile_record(codec_schema_impl *impl, codec_record *rec,
								 const char *path, codec_error *err);

#endif							/* SCHEMAEVO_CODEC_INTERNAL_H */
