/*-------------------------------------------------------------------------
 *
 * fuzz_decode.c
 *	  libFuzzer target: arbitrary bytes as messages of fixed schemas.
 *
 * Input: byte 0 selects the schema (low nibble, modulo the schema count)
 * and the mode (bit 4: PREFIX); the rest is the message, copied into an
 * exact-size buffer so any over-read is caught.  Checks: decode, read every
 * field, decode through projections to the other version of the lineage,
 * and, when an EXACT decode succeeds, the round-trip oracle.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const codec_schema *s;
	int			idx;
	int			mode;
	uint8_t    *buf;
	size_t		len;
	long		n = 0;
	codec_visitor v;
	codec_error err;
	codec_decode_info info;
	uint32_t	i;
	int			rc;

	if (size < 1)
		return 0;
	fuzz_init_schemas();
	idx = (data[0] & 15) % FUZZ_NSCHEMAS;
	mode = (data[0] & 16) ? CODEC_DECODE_PREFIX : CODEC_DECODE_EXACT;
	s = fuzz_schemas[idx];
	len = size - 1;
	buf = malloc(len ? len : 1);
	memcpy(buf, data + 1, len);

	fuzz_counting_visitor(&v, &n);
	rc = codec_decode(s, NULL, mode, buf, len, &v, &info, &err);
	fuzz_check(rc == 0 || rc == CODEC_ERR_MALFORMED || rc == CODEC_ERR_LINEAGE,
			   "decode fails only as malformed or lineage");
	for (i = 0; i < s->root.nfields; i++)
	{
		codec_value val;
		int			frc = codec_read_field(s, mode, &s->root.fields[i], buf,
										   len, &val, &err);

		/* a message that decodes has every field readable */
		fuzz_check(rc != 0 || frc == 0, "read_field agrees with decode");
		if (frc == 0)
			fuzz_check(codec_visit_value(&val, &v, &err) == 0,
					   "a field read validates as a value");
	}
	if (idx == 4 || idx == 5)
	{
		const codec_schema *other = fuzz_schemas[idx == 4 ? 5 : 4];
		codec_projection *proj = codec_projection_build(other, s);
		int			prc;

		fuzz_check(proj != NULL, "projection builds");
		prc = codec_decode(s, proj, mode, buf, len, &v, &info, &err);
		fuzz_check((prc == 0) == (rc == 0), "projection agrees with decode");
		codec_projection_free(proj);
	}
	if (rc == 0 && mode == CODEC_DECODE_EXACT)
	{
		fuzz_check(codec_decode(s, NULL, CODEC_DECODE_PREFIX, buf, len, &v,
								&info, &err) == 0,
				   "an exact message also decodes in PREFIX mode");
		fuzz_roundtrip(s, buf, len);
	}
	free(buf);
	return 0;
}
