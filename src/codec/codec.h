/*-------------------------------------------------------------------------
 *
 * codec.h
 *	  Public interface of the schemaevo codec core.
 *
 * The codec core knows schema definitions (JSON, parsed with jansson), their
 * compiled layouts (field ordinals, fixed offsets, variable fields), and wire
 * format v1 (docs/wire-format.md).  It includes no PostgreSQL header, so it
 * builds and is unit-tested without a server, and ships as a small library
 * and command-line tool for producers.
 *
 * Invariants:
 *	- Decoding never reads outside [buf, buf + len) and allocates nothing; a
 *	  visitor callback may therefore leave by longjmp (ereport) safely.
 *	- Every function reports failure through a codec_error (byte offset,
 *	  field path, message) and a non-zero return; none prints or aborts.
 *	- Compiled schemas are immutable after codec_schema_parse(), so one may
 *	  be shared by any number of decoders.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCHEMAEVO_CODEC_H
#define SCHEMAEVO_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODEC_MAGIC				0xE5
#define CODEC_HEADER_SIZE		16	/* magic .. fixed_length */
#define CODEC_RECORD_HEADER_SIZE 6	/* u16 field_count, u32 fixed_length */

/* Limits; each is enforced with a CODEC_ERR_LIMIT error. */
#define CODEC_MAX_NAME_LEN		63
#define CODEC_MAX_FIELDS		1024	/* fields of one record */
#define CODEC_MAX_DEPTH			16		/* nesting of records and arrays */
#define CODEC_MAX_ENUM_SYMBOLS	65535
#define CODEC_MAX_FIXED_SIZE	65536	/* fixed(N) */
#define CODEC_MAX_DEFINITION_SIZE (1024 * 1024)
#define CODEC_MAX_MESSAGE_SIZE	(256 * 1024 * 1024)
#define CODEC_MAX_ARRAY_ELEMENTS (64 * 1024 * 1024)

typedef enum codec_errcode
{
	CODEC_OK = 0,
	CODEC_ERR_SCHEMA,			/* invalid schema definition */
	CODEC_ERR_MALFORMED,		/* message does not follow wire format v1 */
	CODEC_ERR_LINEAGE,			/* message of another schema (name_hash) */
	CODEC_ERR_VALUE,			/* document does not match the schema */
	CODEC_ERR_LIMIT,			/* a documented limit was exceeded */
	CODEC_ERR_VISITOR,			/* a visitor callback asked to stop */
	CODEC_ERR_NOMEM
} codec_errcode;

typedef struct codec_error
{
	codec_errcode code;
	size_t		offset;			/* byte offset in the message (MALFORMED) */
	char		path[256];		/* field path, e.g. "items[2].sku"; "" if none */
	char		message[256];	/* lower case, no final period */
} codec_error;

typedef enum codec_kind
{
	/* fixed-size */
	CODEC_BOOL,
	CODEC_INT8,
	CODEC_INT16,
	CODEC_INT32,
	CODEC_INT64,
	CODEC_FLOAT32,
	CODEC_FLOAT64,
	CODEC_TIMESTAMP,			/* int64 microseconds since 1970-01-01 UTC */
	CODEC_DATE,					/* int32 days since 1970-01-01 */
	CODEC_UUID,
	CODEC_FIXED,
	CODEC_ENUM,					/* u16 symbol index */
	CODEC_DECIMAL,				/* int64 unscaled */
	/* variable-length */
	CODEC_STRING,
	CODEC_BYTES,
	CODEC_ARRAY,
	CODEC_RECORD
} codec_kind;

#define CODEC_KIND_IS_FIXED(k)	((k) <= CODEC_DECIMAL)

typedef struct codec_type codec_type;
typedef struct codec_field codec_field;
typedef struct codec_record codec_record;

struct codec_type
{
	codec_kind	kind;
	uint32_t	size;			/* bytes in the fixed area; 0 if variable */
	uint8_t		precision;		/* DECIMAL */
	uint8_t		scale;			/* DECIMAL */
	uint32_t	nsymbols;		/* ENUM */
	char	  **symbols;		/* ENUM */
	codec_type *element;		/* ARRAY */
	codec_record *record;		/* RECORD */
};

struct codec_field
{
	char	   *name;
	uint32_t	name_len;
	char	   *path;			/* "a.b" from the message root */
	codec_type	type;
	uint32_t	ordinal;		/* position in declaration order */
	int32_t		offset;			/* in the fixed area; -1 if variable */
	int32_t		var_index;		/* among variable fields; -1 if fixed */
	bool		nullable;
	bool		deprecated;
	/*
	 * The default, encoded as the field's wire representation: the fixed
	 * bytes, or the variable payload without its length prefix.
	 */
	bool		has_default;
	uint8_t    *default_bytes;
	uint32_t	default_len;
};

struct codec_record
{
	uint32_t	nfields;
	codec_field *fields;
	uint32_t	fixed_length;	/* bytes of the fixed area */
	uint32_t	bitmap_len;		/* ceil(nfields / 8) */
	uint32_t	nvar;
	uint32_t   *var_ordinals;	/* ordinal of each variable field, in order */
	uint32_t	noutput;		/* non-deprecated fields (decoded output) */
};

typedef struct codec_schema
{
	char	   *name;
	uint32_t	version;		/* 0 when the definition states none */
	uint32_t	name_hash;		/* FNV-1a 32 of name */
	codec_record root;
	char		fingerprint[17];	/* hex FNV-1a 64 of the canonical form,
									 * version excluded */
} codec_schema;

/* The fixed header of a message. */
typedef struct codec_header
{
	uint8_t		flags;
	uint16_t	field_count;
	uint32_t	name_hash;
	uint32_t	version;
	uint32_t	fixed_length;
	size_t		bitmap_offset;	/* always CODEC_HEADER_SIZE */
	size_t		fixed_offset;	/* start of the fixed area */
	size_t		var_offset;		/* start of the variable area */
} codec_header;

/* ---- schemas (codec_schema.c, codec_layout.c) ---- */

extern uint32_t codec_fnv1a32(const void *data, size_t len);

/*
 * Parses and compiles a definition.  On success *out owns a schema to be
 * released with codec_schema_free().
 */
extern int	codec_schema_parse(const char *json, size_t len,
							   codec_schema **out, codec_error *err);
extern void codec_schema_free(codec_schema *schema);

/* Sets the version of a definition that stated none (registry use). */
extern void codec_schema_set_version(codec_schema *schema, uint32_t version);

/*
 * JSON texts (malloc'd, NUL-terminated; caller frees) describing a schema:
 * the canonical definition (keys in a fixed order, version included when
 * set), the offset map {"field": offset} of fixed top-level fields, and the
 * layout (every field with ordinal, type, offset or var_index, size).
 */
extern char *codec_schema_definition_json(const codec_schema *schema);
extern char *codec_schema_offset_map_json(const codec_schema *schema);
extern char *codec_schema_layout_json(const codec_schema *schema);

/*
 * The name of a kind as a definition writes its simple types ("float64",
 * "string"), and "fixed", "enum", "decimal", "array", "record" for the
 * others.
 */
extern const char *codec_kind_name(codec_kind kind);

/* Top-level field by name, or NULL. */
extern const codec_field *codec_schema_field(const codec_schema *schema,
											 const char *name, size_t namelen);

/*
 * True when every field of `older` keeps its name, type and position in
 * `newer` (fields only appended; removed ones kept as deprecated), so the
 * older offset map is valid for messages of the newer version.
 */
extern bool codec_schema_append_compatible(const codec_schema *older,
										   const codec_schema *newer);

/* ---- decoding (codec_decode.c) ---- */

/* A decoded value.  Pointers point into the message buffer. */
typedef struct codec_value
{
	const codec_type *type;
	bool		isnull;
	union
	{
		bool		b;
		int64_t		i;			/* INT*, TIMESTAMP, DATE, DECIMAL (unscaled),
								 * ENUM (index) */
		double		f;			/* FLOAT32, FLOAT64 */
		struct
		{
			const uint8_t *ptr;
			uint32_t	len;
		}			bytes;		/* STRING, BYTES, UUID, FIXED; ARRAY and
								 * RECORD: their encoded body */
	}			u;
} codec_value;

/*
 * Receives a decoded document in order.  Each callback returns 0 to go on,
 * anything else to stop decoding with CODEC_ERR_VISITOR.  A record's fields
 * arrive as field_name() then the value (scalar, or a nested array/record).
 */
typedef struct codec_visitor
{
	void	   *ctx;
	int			(*begin_record) (void *ctx, uint32_t nfields);
	int			(*field_name) (void *ctx, const char *name, size_t len);
	int			(*scalar) (void *ctx, const codec_value *value);
	int			(*begin_array) (void *ctx, uint32_t count);
	int			(*end_array) (void *ctx);
	int			(*end_record) (void *ctx);
} codec_visitor;

/*
 * How a message's fields map onto a reader schema: for each non-deprecated
 * reader field, the writer ordinal holding its value, or -1 (the reader's
 * default, else null).
 */
typedef struct codec_projection
{
	const codec_schema *reader;
	const codec_schema *writer;
	uint32_t	nout;
	const codec_field **out_fields;	/* reader fields, in reader order */
	int32_t    *writer_ordinals;
	uint32_t	nmissing;		/* reader fields the writer lacks */
	bool		identity;		/* same layout, every field */
} codec_projection;

extern codec_projection *codec_projection_build(const codec_schema *reader,
												const codec_schema *writer);
extern void codec_projection_free(codec_projection *proj);

/*
 * Reads and checks the header: magic, flags, lengths within len.  Does not
 * check the schema.
 */
extern int	codec_header_read(const uint8_t *buf, size_t len,
							  codec_header *hdr, codec_error *err);

/* Decoding modes. */
#define CODEC_DECODE_EXACT	0	/* header must match the writer's layout */
#define CODEC_DECODE_PREFIX 1	/* message may have more fields than the
								 * writer schema (a newer, unregistered
								 * version read through an older map) */

typedef struct codec_decode_info
{
	bool		dynamic_offsets;	/* a variable field was located by
									 * walking length prefixes */
	uint32_t	defaults_used;	/* reader fields filled from defaults/null */
} codec_decode_info;

/*
 * Decodes a whole message written with `writer`, projected through `proj`
 * (NULL: every non-deprecated writer field, in order), into `visitor`.
 * Validates everything it reads: lengths, UTF-8, enum indexes, nested
 * records; in EXACT mode also that no byte is left over.
 */
extern int	codec_decode(const codec_schema *writer,
						 const codec_projection *proj, int mode,
						 const uint8_t *buf, size_t len,
						 const codec_visitor *visitor,
						 codec_decode_info *info, codec_error *err);

/*
 * Reads one top-level field in O(1) for fixed fields (header, bitmap,
 * offset) and by walking the length prefixes before it for variable ones.
 * Validates only what it reads.  ARRAY and RECORD values come back as their
 * body; pass them to codec_visit_value().
 */
extern int	codec_read_field(const codec_schema *writer, int mode,
							 const codec_field *field,
							 const uint8_t *buf, size_t len,
							 codec_value *value, codec_error *err);

/*
 * When set, called every CODEC_INTERRUPT_INTERVAL array elements while
 * decoding, so that a host can honour cancellation on huge messages.  It
 * may leave by longjmp: the decoder holds no resources.
 */
#define CODEC_INTERRUPT_INTERVAL 4096
extern void (*codec_interrupt_hook) (void);

/*
 * codec_decode and codec_read_field for a caller that has already read the
 * header of `buf` with codec_header_read() (or holds the header read from a
 * message whose first CODEC_HEADER_SIZE bytes are identical, and has
 * checked var_offset <= len <= CODEC_MAX_MESSAGE_SIZE): they skip reading
 * it again and check everything else as their counterparts do.
 */
extern int	codec_decode_hdr(const codec_schema *writer,
							 const codec_projection *proj, int mode,
							 const uint8_t *buf, size_t len,
							 const codec_header *hdr,
							 const codec_visitor *visitor,
							 codec_decode_info *info, codec_error *err);
extern int	codec_read_field_hdr(const codec_schema *writer, int mode,
								 const codec_field *field,
								 const uint8_t *buf, size_t len,
								 const codec_header *hdr,
								 codec_value *value, codec_error *err);

/* Emits one value (recursing into arrays and records) into `visitor`. */
extern int	codec_visit_value(const codec_value *value,
							  const codec_visitor *visitor,
							  codec_error *err);

/* Emits a field's default (or null) as if it had been decoded. */
extern int	codec_visit_default(const codec_field *field,
								const codec_visitor *visitor,
								codec_error *err);

/* ---- encoding (codec_encode.c) ---- */

typedef enum codec_jkind
{
	CODEC_J_NULL,
	CODEC_J_BOOL,
	CODEC_J_NUMBER,
	CODEC_J_STRING,
	CODEC_J_ARRAY,
	CODEC_J_OBJECT
} codec_jkind;

/*
 * A JSON document seen through callbacks, so that both jansson (tools,
 * tests) and jsonb (the server) can feed the encoder without converting.
 * Nodes are opaque pointers of the source's own kind.
 */
typedef struct codec_source
{
	void	   *ctx;
	codec_jkind (*kind) (void *ctx, const void *node);
	/* member of an object, or NULL when absent */
	const void *(*member) (void *ctx, const void *object, const char *name);
	uint32_t	(*object_size) (void *ctx, const void *object);
	uint32_t	(*array_size) (void *ctx, const void *array);
	const void *(*element) (void *ctx, const void *array, uint32_t index);
	bool		(*boolean) (void *ctx, const void *node);
	/*
	 * The text of a NUMBER in JSON notation, or of a STRING (UTF-8); not
	 * NUL-terminated, valid until the next call.
	 */
	const char *(*text) (void *ctx, const void *node, size_t *len);
	/*
	 * Optional (may be NULL): the key of an object's index'th member, used
	 * only to name an unknown member in an error message.
	 */
	const char *(*key) (void *ctx, const void *object, uint32_t index,
						size_t *len);
} codec_source;

/* A growable output buffer; grow must return 0 or fail with non-zero. */
typedef struct codec_buf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	int			(*grow) (struct codec_buf *buf, size_t mincap);
	void	   *ctx;
} codec_buf;

/* malloc-backed buffer; release with free(buf->data). */
extern void codec_buf_init_malloc(codec_buf *buf);

/* Encodes the object `root` as a message of `schema`. */
extern int	codec_encode(const codec_schema *schema, const codec_source *src,
						 const void *root, codec_buf *out, codec_error *err);

/* ---- jansson adapters and text forms (codec_json.c, codec_text.c) ---- */

/* Source over jansson nodes (json_t *); ctx must point to a codec_jansson_ctx. */
typedef struct codec_jansson_ctx
{
	char		numbuf[64];
} codec_jansson_ctx;
extern void codec_jansson_source(codec_source *src, codec_jansson_ctx *ctx);

/* Decodes a message into JSON text (malloc'd), the DESIGN.md mapping. */
extern int	codec_decode_to_json(const codec_schema *writer,
								 const uint8_t *buf, size_t len,
								 char **out, codec_error *err);

/* Text forms of the JSON mapping; each returns the length written. */
#define CODEC_TIMESTAMP_BUFLEN 40
#define CODEC_DATE_BUFLEN 24
#define CODEC_UUID_BUFLEN 37
#define CODEC_DECIMAL_BUFLEN 24
#define CODEC_FLOAT_BUFLEN 32
extern size_t codec_format_timestamp(int64_t usec, char *buf);
extern size_t codec_format_date(int32_t days, char *buf);
extern size_t codec_format_uuid(const uint8_t *uuid, char *buf);
extern size_t codec_format_decimal(int64_t unscaled, int scale, char *buf);
extern size_t codec_format_float64(double f, char *buf);
extern size_t codec_format_float32(float f, char *buf);
extern size_t codec_base64_encoded_len(size_t len);
extern size_t codec_base64_encode(const uint8_t *src, size_t len, char *dst);

/* Parsers of the same forms; return 0 on success, -1 on bad input. */
extern int	codec_parse_timestamp(const char *s, size_t len, int64_t *usec);
extern int	codec_parse_date(const char *s, size_t len, int32_t *days);
extern int	codec_parse_uuid(const char *s, size_t len, uint8_t *uuid);
extern int	codec_parse_decimal(const char *s, size_t len, int precision,
								int scale, int64_t *unscaled);
extern int	codec_base64_decode(const char *s, size_t len, uint8_t *dst,
								size_t *dstlen);

extern bool codec_utf8_valid(const uint8_t *s, size_t len);

#endif							/* SCHEMAEVO_CODEC_H */
