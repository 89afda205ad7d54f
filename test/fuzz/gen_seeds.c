/*-------------------------------------------------------------------------
 *
 * gen_seeds.c
 *	  Writes the seed corpora from fuzz_schemas.h: encoded messages for
 *	  fuzz_decode (selector byte + message), their JSON documents for
 *	  fuzz_encode, and schema definitions for fuzz_schema.
 *
 *	  gen_seeds CORPUS_DIR     (writes CORPUS_DIR/{decode,encode,schema})
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

static void
write_file(const char *dir, const char *sub, int n, uint8_t prefix,
		   bool with_prefix, const void *data, size_t len)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s/seed-%02d", dir, sub, n);
	f = fopen(path, "wb");
	if (f == NULL)
	{
		perror(path);
		exit(1);
	}
	if (with_prefix)
		fputc(prefix, f);
	fwrite(data, 1, len, f);
	fclose(f);
}

int
main(int argc, char **argv)
{
	int			i;
	int			n = 0;

	if (argc != 2)
	{
		fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
		return 2;
	}
	fuzz_init_schemas();
	for (i = 0; i < FUZZ_NSEEDS; i++)
	{
		const codec_schema *s = fuzz_schemas[fuzz_seed_docs[i].schema];
		const char *doc = fuzz_seed_docs[i].doc;
		codec_buf	out;
		codec_error err;

		if (fuzz_encode_text(s, doc, strlen(doc), &out, &err) != 0)
		{
			fprintf(stderr, "seed %d: %s: %s\n", i, err.path, err.message);
			return 1;
		}
		write_file(argv[1], "decode", n, (uint8_t) fuzz_seed_docs[i].schema,
				   true, out.data, out.len);
		/* the same message in PREFIX mode */
		write_file(argv[1], "decode", n + 1,
				   (uint8_t) (fuzz_seed_docs[i].schema | 16), true,
				   out.data, out.len);
		write_file(argv[1], "encode", i, (uint8_t) fuzz_seed_docs[i].schema,
				   true, doc, strlen(doc));
		free(out.data);
		n += 2;
	}
	for (i = 0; i < FUZZ_NSCHEMAS; i++)
		write_file(argv[1], "schema", i, 0, false, fuzz_schema_defs[i],
				   strlen(fuzz_schema_defs[i]));
	return 0;
}
