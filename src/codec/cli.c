/*-------------------------------------------------------------------------
 *
 * cli.c
 *	  schemaevo-codec: build and read wire-format messages offline.
 *
 *	  schemaevo-codec encode SCHEMA.json  < doc.json  > message.bin
 *	  schemaevo-codec decode SCHEMA.json  < message.bin > doc.json
 *	  schemaevo-codec layout|offsets|definition SCHEMA.json
 *
 * For producers that build messages without a database: the schema file is
 * the registered definition (its "version" should be set, since it goes
 * into the header).  Exit status 0 on success, 1 on bad input, 2 on usage.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"

static const char *codec_errnames[] = {
	"ok", "schema", "malformed", "lineage", "value", "limit", "visitor",
	"nomem"
};

static int
usage(void)
{
	fprintf(stderr,
			"usage: schemaevo-codec encode|decode|layout|offsets|definition "
			"SCHEMA.json\n"
			"  encode: JSON document on stdin, message bytes on stdout\n"
			"  decode: message bytes on stdin, JSON document on stdout\n");
	return 2;
}

/* Reads a whole stream; NULL on error. */
static char *
read_all(FILE *f, size_t *len)
{
	size_t		cap = 4096;
	size_t		n = 0;
	char	   *buf = malloc(cap);

	while (buf != NULL)
	{
		size_t		got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
		if (n == cap)
		{
			char	   *p = realloc(buf, cap * 2);

			if (p == NULL)
			{
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (buf != NULL && ferror(f))
	{
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int
report(const char *what, const codec_error *err)
{
	fprintf(stderr, "schemaevo-codec: %s: %s error", what,
			codec_errnames[err->code]);
	if (err->code == CODEC_ERR_MALFORMED)
		fprintf(stderr, " at byte %zu", err->offset);
	if (err->path[0])
		fprintf(stderr, " in \"%s\"", err->path);
	fprintf(stderr, ": %s\n", err->message);
	return 1;
}

static int
print_text(char *text)
{
	if (text == NULL)
	{
		fprintf(stderr, "schemaevo-codec: out of memory\n");
		return 1;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

static int
do_encode(const codec_schema *schema)
{
	codec_jansson_ctx jctx;
	codec_source src;
	codec_buf	out;
	codec_error err;
	json_error_t jerr;
	json_t	   *doc;
	char	   *in;
	size_t		len;
	int			rc;

	in = read_all(stdin, &len);
	if (in == NULL)
	{
		fprintf(stderr, "schemaevo-codec: cannot read stdin\n");
		return 1;
	}
	doc = json_loadb(in, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	free(in);
	if (doc == NULL)
	{
		fprintf(stderr, "schemaevo-codec: invalid JSON: %s at line %d\n",
				jerr.text, jerr.line);
		return 1;
	}
	codec_jansson_source(&src, &jctx);
	codec_buf_init_malloc(&out);
	rc = codec_encode(schema, &src, doc, &out, &err);
	json_decref(doc);
	if (rc == 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = -1;
	free(out.data);
	if (rc > 0)
		return report("encode", &err);
	return rc == 0 ? 0 : 1;
}

static int
do_decode(const codec_schema *schema)
{
	codec_error err;
	char	   *in;
	char	   *text;
	size_t		len;

	in = read_all(stdin, &len);
	if (in == NULL)
	{
		fprintf(stderr, "schemaevo-codec: cannot read stdin\n");
		return 1;
	}
	if (codec_decode_to_json(schema, (const uint8_t *) in, len, &text,
							 &err) != 0)
	{
		free(in);
		return report("decode", &err);
	}
	free(in);
	return print_text(text);
}

int
main(int argc, char **argv)
{
	codec_schema *schema;
	codec_error err;
	FILE	   *f;
	char	   *def;
	size_t		len;
	int			rc;

	if (argc != 3)
		return usage();
	f = fopen(argv[2], "rb");
	if (f == NULL)
	{
		perror(argv[2]);
		return 1;
	}
	def = read_all(f, &len);
	fclose(f);
	if (def == NULL)
	{
		fprintf(stderr, "schemaevo-codec: cannot read %s\n", argv[2]);
		return 1;
	}
	rc = codec_schema_parse(def, len, &schema, &err);
	free(def);
	if (rc != 0)
		return report(argv[2], &err);

	if (strcmp(argv[1], "encode") == 0)
		rc = do_encode(schema);
	else if (strcmp(argv[1], "decode") == 0)
		rc = do_decode(schema);
	else if (strcmp(argv[1], "layout") == 0)
		rc = print_text(codec_schema_layout_json(schema));
	else if (strcmp(argv[1], "offsets") == 0)
		rc = print_text(codec_schema_offset_map_json(schema));
	else if (strcmp(argv[1], "definition") == 0)
		rc = print_text(codec_schema_definition_json(schema));
	else
		rc = usage();
	codec_schema_free(schema);
	return rc;
}
