/*-------------------------------------------------------------------------
 *
 * fuzz_schema.c
 *	  libFuzzer target: arbitrary bytes as schema definitions.
 *
 * On success every JSON description is produced, and the canonical
 * definition must parse again to the same canonical text and fingerprint
 * (the registry relies on that to recognise re-registrations).
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	codec_schema *s = NULL;
	codec_schema *again = NULL;
	codec_error err;
	char	   *canon;
	char	   *canon2;
	char	   *t;
	int			rc;

	rc = codec_schema_parse((const char *) data, size, &s, &err);
	if (rc != 0)
	{
		fuzz_check(s == NULL, "no schema on failure");
		fuzz_check(rc == CODEC_ERR_SCHEMA || rc == CODEC_ERR_LIMIT,
				   "schema errors are SCHEMA or LIMIT");
		fuzz_check(strlen(err.message) > 0, "an error has a message");
		return 0;
	}
	canon = codec_schema_definition_json(s);
	fuzz_check(canon != NULL, "definition json");
	t = codec_schema_offset_map_json(s);
	fuzz_check(t != NULL, "offset map json");
	free(t);
	t = codec_schema_layout_json(s);
	fuzz_check(t != NULL, "layout json");
	free(t);
	rc = codec_schema_parse(canon, strlen(canon), &again, &err);
	if (rc != 0)
		fprintf(stderr, "canonical %s fails: %s: %s\n", canon, err.path,
				err.message);
	fuzz_check(rc == 0, "canonical definition parses");
	fuzz_check(strcmp(s->fingerprint, again->fingerprint) == 0,
			   "same fingerprint after re-parse");
	canon2 = codec_schema_definition_json(again);
	fuzz_check(canon2 != NULL && strcmp(canon, canon2) == 0,
			   "canonical text is a fixed point");
	fuzz_check(codec_schema_append_compatible(s, again),
			   "a schema is compatible with itself");
	free(canon);
	free(canon2);
	codec_schema_free(again);
	codec_schema_free(s);
	return 0;
}
