/*-------------------------------------------------------------------------
 *
 * fuzz_encode.c
 *	  libFuzzer target: arbitrary bytes as JSON documents for the encoder.
 *
 * Input: byte 0 selects the schema, the rest is JSON text (jansson).  Any
 * document the encoder accepts must give a message that decodes in EXACT
 * mode, whose every field reads, and that survives the round-trip oracle.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const codec_schema *s;
	codec_buf	out;
	codec_error err;
	long		n = 0;
	codec_visitor v;
	uint32_t	i;
	int			rc;

	if (size < 1)
		return 0;
	fuzz_init_schemas();
	s = fuzz_schemas[data[0] % FUZZ_NSCHEMAS];
	rc = fuzz_encode_text(s, (const char *) data + 1, size - 1, &out, &err);
	if (rc == 0)
	{
		fuzz_counting_visitor(&v, &n);
		rc = codec_decode(s, NULL, CODEC_DECODE_EXACT, out.data, out.len, &v,
						  NULL, &err);
		if (rc != 0)
			fprintf(stderr, "decode failed at %zu %s: %s\n", err.offset,
					err.path, err.message);
		fuzz_check(rc == 0, "an encoded message decodes");
		for (i = 0; i < s->root.nfields; i++)
		{
			codec_value val;

			fuzz_check(codec_read_field(s, CODEC_DECODE_EXACT,
										&s->root.fields[i], out.data, out.len,
										&val, &err) == 0,
					   "every field of an encoded message reads");
		}
		fuzz_roundtrip(s, out.data, out.len);
	}
	else if (rc > 0)
		fuzz_check(rc == CODEC_ERR_VALUE || rc == CODEC_ERR_LIMIT,
				   "encode fails only as value or limit");
	free(out.data);
	return 0;
}
