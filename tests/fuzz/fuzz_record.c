/* libFuzzer target for lib/record: any input is read as a record stream.
 * Properties checked besides "no crash": every error message names the
 * source and a line; every record read is accepted by the writer and written
 * back byte for byte (the syntax is canonical); pass-through from fields
 * equals the raw line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static struct nk_rec_reader rd;
static struct nk_rec_writer wr;
static char out[NK_REC_MAX_LINE + 8];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)(uintptr_t)data, size, "r");
	struct nk_rec rec;
	struct nk_err e;
	int r, n = 0;

	if (size == 0 || f == NULL) {
		if (f)
			fclose(f);
		return 0;
	}
	nk_rec_reader_init(&rd, f, "fuzz");
	while ((r = nk_rec_read(&rd, &rec, &e)) == 1 && n++ < 10000) {
		FILE *o;
		size_t i;

		nk_recw_begin(&wr, rec.type);
		for (i = 0; i < rec.nfields; i++)
			nk_recw_str(&wr, rec.f[i].key, rec.f[i].val);
		if (wr.overflow)
			abort();        /* the writer refused a line the reader accepted */
		o = fmemopen(out, sizeof out, "w");
		if (o == NULL)
			abort();
		if (nk_recw_end(&wr, o) != 0)
			abort();
		fclose(o);
		if (strlen(out) != rec.raw_len + 1 || memcmp(out, rec.raw, rec.raw_len) != 0)
			abort();        /* not written back byte for byte */
		{
			/* typed getters must not crash on anything */
			double d;
			uint64_t u;
			int64_t s;
			unsigned char b[64];
			for (i = 0; i < rec.nfields; i++) {
				(void)nk_rec_get_double(&rec, rec.f[i].key, &d, &e);
				(void)nk_rec_get_u64(&rec, rec.f[i].key, 1000, &u, &e);
				(void)nk_rec_get_i64(&rec, rec.f[i].key, &s, &e);
				(void)nk_rec_get_hex(&rec, rec.f[i].key, b, sizeof b, &e);
				(void)nk_rec_get_b64(&rec, rec.f[i].key, b, sizeof b, &e);
			}
		}
	}
	if (r < 0 && strncmp(e.msg, "fuzz:", 5) != 0)
		abort();                /* every error names the source and line */
	fclose(f);
	return 0;
}
