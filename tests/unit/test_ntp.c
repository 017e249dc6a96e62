/* Unit tests for lib/ntp: header, timestamps and eras, offset/delay,
 * extension-field walker, data-minimised client header, KoD. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ntp.h"

#define ERA1_UNIX 2085978496LL /* 2036-02-07T06:28:16Z: NTP seconds wrap to 0 */
#define Y2100_UNIX 4102444800LL /* 2100-01-01T00:00:00Z */
#define Y2020_UNIX 1577836800LL /* 2020-01-01T00:00:00Z */

static void test_hdr_roundtrip(void **state)
{
	static const uint8_t pkt[48] = {
		0xe4, 0x02, 0x06, 0xe9, 0x00, 0x00, 0x01, 0x02, 0x00, 0x03, 0x00, 0x04,
		'P', 'T', 'B', 0,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	struct nk_ntp_hdr h;
	struct nk_err e;
	uint8_t out[48];
	(void)state;
	assert_int_equal(nk_ntp_hdr_decode(&h, pkt, sizeof pkt, &e), 0);
	assert_int_equal(h.leap, 3);
	assert_int_equal(h.version, 4);
	assert_int_equal(h.mode, 4);
	assert_int_equal(h.stratum, 2);
	assert_int_equal(h.poll, 6);
	assert_int_equal(h.precision, -23);
	assert_int_equal(h.root_delay, 0x102);
	assert_int_equal(h.root_disp, 0x30004);
	assert_memory_equal(h.refid, "PTB", 4);
	assert_true(h.ref == 0x0102030405060708ULL);
	assert_true(h.org == 0x090a0b0c0d0e0f10ULL);
	assert_true(h.rec == 0x1112131415161718ULL);
	assert_true(h.xmt == 0x191a1b1c1d1e1f20ULL);
	nk_ntp_hdr_encode(out, &h);
	assert_memory_equal(out, pkt, 48);
	/* short packets */
	assert_int_equal(nk_ntp_hdr_decode(&h, pkt, 47, &e), -1);
	assert_non_null(strstr(e.msg, "47 octets"));
	assert_int_equal(nk_ntp_hdr_decode(&h, pkt, 0, &e), -1);
}

static void check_era(nk_ntp_ts t, int64_t pivot, int64_t want)
{
	int64_t sec;
	uint32_t frac;
	nk_ntp_ts_to_unix(t, pivot, &sec, &frac);
	if (sec != want)
		fail_msg("ts sec %u pivot %lld: got %lld want %lld", nk_ntp_ts_sec(t),
			(long long)pivot, (long long)sec, (long long)want);
	assert_int_equal(frac, nk_ntp_ts_frac(t));
}

static void test_eras(void **state)
{
	nk_ntp_ts t;
	(void)state;
	/* the 2036 rollover: NTP seconds are 0 again at 2036-02-07T06:28:16Z */
	t = nk_ntp_ts_from_unix(ERA1_UNIX, 0);
	assert_true(t == 0);
	check_era(t, ERA1_UNIX, ERA1_UNIX);
	check_era(t, Y2020_UNIX, ERA1_UNIX);          /* pivot before the wrap */
	check_era(t, Y2100_UNIX, ERA1_UNIX);          /* pivot after it */
	/* one second before and after the wrap, pivot on either side */
	t = nk_ntp_ts_from_unix(ERA1_UNIX - 1, 0);
	assert_int_equal(nk_ntp_ts_sec(t), 0xffffffffu);
	check_era(t, ERA1_UNIX + 100, ERA1_UNIX - 1);
	check_era(t, ERA1_UNIX - 100, ERA1_UNIX - 1);
	t = nk_ntp_ts_from_unix(ERA1_UNIX + 1, 0x80000000u);
	assert_int_equal(nk_ntp_ts_sec(t), 1);
	check_era(t, ERA1_UNIX - 100, ERA1_UNIX + 1);
	/* 2100 (era 1) */
	t = nk_ntp_ts_from_unix(Y2100_UNIX, 0);
	assert_int_equal(nk_ntp_ts_sec(t), 2016466304u);
	check_era(t, Y2100_UNIX - 86400 * 365, Y2100_UNIX);
	check_era(t, ERA1_UNIX, Y2100_UNIX);
	/* the same wire seconds near 1964 (era 0) */
	check_era(t, -Y2020_UNIX / 8, Y2100_UNIX - 4294967296LL);
	/* pre-1970 pivots: 1969-01-01 is 69 years after 1900, so NTP second
	 * 0 is closer to 2036; 1950 is within 68 years of 1900 */
	check_era(0, -31536000LL, ERA1_UNIX);
	check_era(0, -631152000LL, -NK_NTP_UNIX_OFFSET);
	/* Unix epoch itself */
	t = nk_ntp_ts_from_unix(0, 0);
	assert_int_equal(nk_ntp_ts_sec(t), 2208988800u);
	check_era(t, Y2020_UNIX, 0);
	check_era(t, -1000, 0);
	/* the window is [pivot - 2^31, pivot + 2^31): ties go backwards */
	t = nk_ntp_ts_from_unix(Y2020_UNIX + 2147483647LL, 0);
	check_era(t, Y2020_UNIX, Y2020_UNIX + 2147483647LL);
	t = nk_ntp_ts_from_unix(Y2020_UNIX + 2147483648LL, 0);
	check_era(t, Y2020_UNIX, Y2020_UNIX - 2147483648LL);
	t = nk_ntp_ts_from_unix(Y2020_UNIX - 2147483648LL, 0);
	check_era(t, Y2020_UNIX, Y2020_UNIX - 2147483648LL);
	/* far eras: 2300 and 1800 */
	t = nk_ntp_ts_from_unix(10413792000LL, 7);
	check_era(t, 10413792000LL - 1000000000LL, 10413792000LL);
	t = nk_ntp_ts_from_unix(-5364662400LL, 7);
	check_era(t, -5364662400LL + 2000000000LL, -5364662400LL);
}

static void test_timespec(void **state)
{
	static const long ns[] = { 0, 1, 2, 499999999, 500000000, 999999998, 999999999, 123456789 };
	struct timespec a, b;
	nk_ntp_ts t;
	(void)state;
	for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
		a.tv_sec = (time_t)(ERA1_UNIX - 1);
		a.tv_nsec = ns[i];
		t = nk_ntp_ts_from_timespec(&a);
		nk_ntp_ts_to_timespec(t, Y2020_UNIX, &b);
		assert_int_equal(b.tv_sec, a.tv_sec);
		assert_int_equal(b.tv_nsec, a.tv_nsec);
	}
	/* every nanosecond in a sample of the range survives the round trip */
	for (long n = 0; n < 1000000000L; n += 999983) {
		a.tv_sec = 1700000000;
		a.tv_nsec = n;
		nk_ntp_ts_to_timespec(nk_ntp_ts_from_timespec(&a), 1700000000, &b);
		assert_int_equal(b.tv_nsec, n);
	}
	/* half a second is 0x80000000 */
	a.tv_sec = 0;
	a.tv_nsec = 500000000;
	assert_int_equal(nk_ntp_ts_frac(nk_ntp_ts_from_timespec(&a)), 0x80000000u);
	/* a fraction that rounds up to the next second carries */
	nk_ntp_ts_to_timespec(((nk_ntp_ts)5 << 32) | 0xffffffffu, -NK_NTP_UNIX_OFFSET, &b);
	assert_int_equal(b.tv_sec, -NK_NTP_UNIX_OFFSET + 6);
	assert_int_equal(b.tv_nsec, 0);
}

static void test_short(void **state)
{
	(void)state;
	assert_true(nk_ntp_short_to_double(0x00018000u) == 1.5);
	assert_int_equal(nk_ntp_short_from_double(1.5), 0x00018000u);
	assert_int_equal(nk_ntp_short_from_double(-1.0), 0);
	assert_int_equal(nk_ntp_short_from_double(0.0 / 0.0), 0);
	assert_int_equal(nk_ntp_short_from_double(1e9), 0xffffffffu);
	assert_int_equal(nk_ntp_short_from_double(65535.99999), 0xffffffffu);
	assert_int_equal(nk_ntp_short_from_double(1.0 / 65536), 1);
}

static void test_offset_delay(void **state)
{
	nk_ntp_fx off, del;
	nk_ntp_ts base;
	(void)state;
	/* exact in 2^-32 s units, across the era wrap */
	base = 0xfffffffffffffff0ULL;
	assert_int_equal(nk_ntp_offset_delay(base, base + 3, base + 5, base + 10, &off, &del), 0);
	assert_int_equal(off, (3 + (5 - 10)) / 2);
	assert_int_equal(del, 10 - 2);
	/* a 1-unit offset near 2026 survives: a double holding the full
	 * timestamp (53-bit mantissa) would have lost it */
	base = nk_ntp_ts_from_unix(1790000000LL, 0x12345678u);
	assert_int_equal(nk_ntp_offset_delay(base, base + 1001, base + 1003, base + 4, &off, &del), 0);
	assert_int_equal(off, 1000);
	assert_int_equal(del, 2);
	assert_true(nk_ntp_fx_to_double(off) == 1000.0 / 4294967296.0);
	/* negative offsets and odd sums truncate towards zero */
	assert_int_equal(nk_ntp_offset_delay(base, base - 3, base - 2, base + 2, &off, &del), 0);
	assert_int_equal(off, (-3 + -4) / 2);
	assert_int_equal(del, 2 - 1);
	/* +30 s offset, 10 ms delay */
	{
		nk_ntp_fx s = (nk_ntp_fx)1 << 32, ms5 = s / 200;
		nk_ntp_ts t1 = base, t2 = t1 + (uint64_t)(30 * s + ms5), t3 = t2 + 1000,
			t4 = t1 + (uint64_t)(2 * ms5) + 1000;
		assert_int_equal(nk_ntp_offset_delay(t1, t2, t3, t4, &off, &del), 0);
		assert_int_equal(off, 30 * s);
		assert_int_equal(del, 2 * ms5);
		assert_true(nk_ntp_fx_to_double(off) == 30.0);
	}
	/* extreme but legal differences do not overflow the offset */
	assert_int_equal(nk_ntp_offset_delay(0, 0x7fffffffffffffffULL, 0x7fffffffffffffffULL, 0, &off, &del), 0);
	assert_int_equal(off, 0x7fffffffffffffffLL);
	/* a delay that overflows 64 bits is reported */
	assert_int_equal(nk_ntp_offset_delay(0, 0x8000000000000000ULL, 0x10, 0x7fffffffffffffffULL, &off, &del), -1);
	/* ts_diff wraps to signed */
	assert_int_equal(nk_ntp_ts_diff(0, 1), -1);
	assert_int_equal(nk_ntp_ts_diff(0x8000000000000000ULL, 0), INT64_MIN);
}

static void test_client_hdr(void **state)
{
	uint8_t p[48], q[48];
	nk_ntp_ts x, y;
	struct nk_ntp_hdr h;
	static const uint8_t zero[40];
	(void)state;
	assert_int_equal(nk_ntp_client_hdr(p, 0, &x, NULL), 0);
	assert_int_equal(p[0], 0x23);
	assert_int_equal(p[1], 0);
	assert_int_equal(p[2], 0);
	assert_int_equal(p[3], 0x20);
	assert_memory_equal(p + 4, zero, 36);
	assert_int_equal(nk_ntp_hdr_decode(&h, p, 48, NULL), 0);
	assert_true(h.xmt == x);
	assert_int_equal(h.mode, 3);
	assert_int_equal(h.version, 4);
	assert_int_equal(nk_ntp_client_hdr(q, 6, &y, NULL), 0);
	assert_int_equal(q[2], 6);
	assert_true(x != y); /* 2^-64 chance of a false failure */
}

static void test_kod(void **state)
{
	struct nk_ntp_hdr h;
	char c[5];
	(void)state;
	memset(&h, 0, sizeof h);
	memcpy(h.refid, "RATE", 4);
	assert_int_equal(nk_ntp_is_kod(&h, c), 1);
	assert_string_equal(c, "RATE");
	memcpy(h.refid, "NTSN", 4);
	assert_int_equal(nk_ntp_is_kod(&h, c), 1);
	assert_string_equal(c, "NTSN");
	memcpy(h.refid, "AB\0\0", 4);
	assert_int_equal(nk_ntp_is_kod(&h, c), 1);
	assert_string_equal(c, "AB");
	memcpy(h.refid, "\0ABC", 4);
	assert_int_equal(nk_ntp_is_kod(&h, c), 0);
	memcpy(h.refid, "A\0B\0", 4);
	assert_int_equal(nk_ntp_is_kod(&h, c), 0);
	memcpy(h.refid, "\x7f\x01\x02\x03", 4);
	assert_int_equal(nk_ntp_is_kod(&h, c), 0);
	memcpy(h.refid, "DENY", 4);
	h.stratum = 1;
	assert_int_equal(nk_ntp_is_kod(&h, c), 0);
}

/* Build a packet: header + fields given as (type, length) with zero bodies. */
static size_t mkpkt(uint8_t *p, size_t cap, const uint16_t *fl, size_t n)
{
	size_t off = 48;
	memset(p, 0, cap);
	p[0] = 0x24;
	for (size_t i = 0; i < n; i++) {
		p[off] = (uint8_t)(fl[2 * i] >> 8);
		p[off + 1] = (uint8_t)fl[2 * i];
		p[off + 2] = (uint8_t)(fl[2 * i + 1] >> 8);
		p[off + 3] = (uint8_t)fl[2 * i + 1];
		off += fl[2 * i + 1] < 4 ? 4 : fl[2 * i + 1];
	}
	return off;
}

static int walk(const uint8_t *p, size_t len, unsigned flags, unsigned *count,
	struct nk_err *e)
{
	struct nk_ntp_ef_iter it;
	struct nk_ntp_ef ef;
	int r;
	nk_ntp_ef_begin(&it, p, len, flags);
	while ((r = nk_ntp_ef_next(&it, &ef, e)) > 0) {
		assert_true(ef.off + ef.len <= len);
		assert_true(ef.body + ef.body_len == p + ef.off + ef.len);
	}
	*count = it.count;
	return r;
}

static void test_ef_walk(void **state)
{
	uint8_t p[512];
	struct nk_err e;
	unsigned n;
	size_t len;
	(void)state;
	/* header only: zero fields */
	len = mkpkt(p, sizeof p, NULL, 0);
	assert_int_equal(walk(p, len, 0, &n, &e), 0);
	assert_int_equal(n, 0);
	/* shorter than the header */
	assert_int_equal(walk(p, 47, 0, &n, &e), -1);
	assert_non_null(strstr(e.msg, "shorter"));
	assert_int_equal(walk(p, 0, 0, &n, &e), -1);
	/* well-formed NTS-like request: UID 36, cookie 104, auth 40 */
	{
		const uint16_t f[] = { 0x0104, 36, 0x0204, 104, 0x0304, 104, 0x0404, 40 };
		len = mkpkt(p, sizeof p, f, 4);
		assert_int_equal(walk(p, len, 0, &n, &e), 0);
		assert_int_equal(n, 4);
		assert_int_equal(nk_ntp_ef_check(p, len, 0, &e), 0);
		/* truncated by one octet: the last field runs past the end */
		assert_int_equal(walk(p, len - 1, 0, &n, &e), -1);
		assert_non_null(strstr(e.msg, "past the end"));
		assert_int_equal(n, 3);
		/* two extra stray octets */
		assert_int_equal(walk(p, len + 2, 0, &n, &e), -1);
		assert_non_null(strstr(e.msg, "stray"));
	}
	/* length below 16, zero, not a multiple of 4, past the end */
	{
		const uint16_t f[] = { 0x0104, 12 };
		len = mkpkt(p, sizeof p, f, 1);
		assert_int_equal(walk(p, len + 4, 0, &n, &e), -1);
		assert_non_null(strstr(e.msg, "below the minimum 16"));
	}
	{
		const uint16_t f[] = { 0x0104, 0 };
		len = mkpkt(p, sizeof p, f, 1);
		assert_int_equal(walk(p, 48 + 16, 0, &n, &e), -1);
		assert_non_null(strstr(e.msg, "below the minimum"));
		assert_int_equal(walk(p, 48 + 16, NK_NTP_EF_INNER | 0, &n, &e), -1);
	}
	{
		const uint16_t f[] = { 0x0104, 18 };
		len = mkpkt(p, sizeof p, f, 1);
		assert_int_equal(walk(p, 48 + 20, 0, &n, &e), -1);
		assert_non_null(strstr(e.msg, "multiple of 4"));
	}
	{
		len = mkpkt(p, sizeof p, NULL, 0);
		p[48] = 1; p[49] = 4; p[50] = 0xff; p[51] = 0xfc;
		assert_int_equal(walk(p, 200, 0, &n, &e), -1);
		assert_non_null(strstr(e.msg, "past the end"));
	}
	/* a 16-octet last field is fine without MACs ... */
	{
		const uint16_t f[] = { 0x0104, 36, 0x2005, 16 };
		len = mkpkt(p, sizeof p, f, 2);
		assert_int_equal(walk(p, len, 0, &n, &e), 0);
		assert_int_equal(n, 2);
		/* ... but with legacy MACs allowed it is a 16-octet MAC */
		struct nk_ntp_ef_iter it;
		struct nk_ntp_ef ef;
		nk_ntp_ef_begin(&it, p, len, NK_NTP_EF_LEGACY_MAC);
		assert_int_equal(nk_ntp_ef_next(&it, &ef, &e), 1);
		assert_int_equal(nk_ntp_ef_next(&it, &ef, &e), 0);
		assert_int_equal(it.mac_off, 48 + 36);
		assert_int_equal(it.mac_len, 16);
		/* and the walk stays finished */
		assert_int_equal(nk_ntp_ef_next(&it, &ef, &e), 0);
	}
	/* legacy: header + 20-octet MAC (key id + MD5) */
	len = mkpkt(p, sizeof p, NULL, 0);
	assert_int_equal(walk(p, 48 + 20, NK_NTP_EF_LEGACY_MAC, &n, &e), 0);
	assert_int_equal(walk(p, 48 + 20, 0, &n, &e), -1);
	assert_int_equal(walk(p, 48 + 22, NK_NTP_EF_LEGACY_MAC, &n, &e), -1);
	assert_int_equal(walk(p, 48 + 2, NK_NTP_EF_LEGACY_MAC, &n, &e), -1);
	/* inner (encrypted) fields: 4-octet fields allowed, still aligned */
	{
		uint8_t q[16] = { 0x02, 0x04, 0x00, 0x04, 0x02, 0x04, 0x00, 0x08, 1, 2, 3, 4 };
		assert_int_equal(walk(q, 12, NK_NTP_EF_INNER, &n, &e), 0);
		assert_int_equal(n, 2);
		assert_int_equal(walk(q, 14, NK_NTP_EF_INNER, &n, &e), -1);
		q[7] = 6;
		assert_int_equal(walk(q, 12, NK_NTP_EF_INNER, &n, &e), -1);
		assert_non_null(strstr(e.msg, "encrypted"));
		assert_int_equal(walk(q, 0, NK_NTP_EF_INNER, &n, &e), 0);
		assert_int_equal(n, 0);
	}
	/* a failed walk stays failed */
	{
		struct nk_ntp_ef_iter it;
		struct nk_ntp_ef ef;
		nk_ntp_ef_begin(&it, p, 47, 0);
		assert_int_equal(nk_ntp_ef_next(&it, &ef, &e), -1);
		assert_int_equal(nk_ntp_ef_next(&it, &ef, &e), -1);
	}
}

static void test_ef_put(void **state)
{
	uint8_t b[64];
	(void)state;
	memset(b, 0xaa, sizeof b);
	assert_int_equal(nk_ntp_ef_put(b, sizeof b, 0x0104, "abcde", 5, 0), 12);
	assert_memory_equal(b, "\x01\x04\x00\x0c" "abcde\0\0\0", 12);
	assert_int_equal(b[12], 0xaa);
	assert_int_equal(nk_ntp_ef_put(b, sizeof b, 0x0404, "x", 1, 28), 28);
	assert_int_equal(b[3], 28);
	assert_int_equal(b[27], 0);
	assert_int_equal(nk_ntp_ef_put(b, sizeof b, 0x0404, "x", 1, 26), 28);
	assert_int_equal(nk_ntp_ef_put(b, 11, 0x0104, "abcde", 5, 0), 0);
	assert_int_equal(nk_ntp_ef_put(b, sizeof b, 0x0104, NULL, 0, 0), 4);
	assert_int_equal(nk_ntp_ef_put(b, 1 << 20, 0x0104, b, 65529, 0), 0);
}

static void test_unsync_names(void **state)
{
	struct nk_ntp_hdr h;
	(void)state;
	memset(&h, 0, sizeof h);
	h.stratum = 2;
	assert_int_equal(nk_ntp_unsynchronised(&h), 0);
	h.leap = 3;
	assert_int_equal(nk_ntp_unsynchronised(&h), 1);
	h.leap = 0;
	h.stratum = 16;
	assert_int_equal(nk_ntp_unsynchronised(&h), 1);
	h.stratum = 0;
	assert_int_equal(nk_ntp_unsynchronised(&h), 1);
	assert_string_equal(nk_ntp_mode_name(3), "client");
	assert_string_equal(nk_ntp_mode_name(4), "server");
	assert_string_equal(nk_ntp_ef_name(0x0404), "NTS Authenticator and Encrypted Extension Fields");
	assert_string_equal(nk_ntp_ef_name(0x1234), "unknown");
}

static void test_explain(void **state)
{
	uint8_t p[200];
	char *buf = NULL;
	size_t blen = 0, len;
	FILE *f;
	const uint16_t fl[] = { 0x0104, 36, 0x0404, 40 };
	(void)state;
	len = mkpkt(p, sizeof p, fl, 2);
	p[1] = 0;
	memcpy(p + 12, "NTSN", 4);
	/* 2036-02-07T06:28:16.5Z as the transmit timestamp (NTP seconds 0) */
	p[44] = 0x80;
	p[48 + 36 + 5] = 16;   /* nonce length */
	p[48 + 36 + 7] = 16;   /* ciphertext length */
	f = open_memstream(&buf, &blen);
	assert_non_null(f);
	nk_ntp_explain(f, "> ", p, len, ERA1_UNIX);
	nk_ntp_explain(f, "> ", p, len - 1, ERA1_UNIX);
	nk_ntp_explain(f, "> ", p, 20, ERA1_UNIX);
	fclose(f);
	assert_non_null(strstr(buf, "> NTP packet, 124 octets: leap 0 (no warning), version 4, mode 4 (server)\n"));
	assert_non_null(strstr(buf, "kiss code \"NTSN\""));
	assert_non_null(strstr(buf, "transmit timestamp: 00000000.80000000 = 2036-02-07T06:28:16.500000000Z"));
	assert_non_null(strstr(buf, "type 0x0104 (Unique Identifier), 36 octets"));
	assert_non_null(strstr(buf, "nonce 16 octets, ciphertext 16 octets, additional padding 0 octets"));
	assert_non_null(strstr(buf, "> malformed: extension field type 0x0404 at offset 84: length 40 runs past the end"));
	assert_non_null(strstr(buf, "> NTP packet of 20 octets is shorter than the 48-octet header"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_eras),
		cmocka_unit_test(test_timespec),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_offset_delay),
		cmocka_unit_test(test_client_hdr),
		cmocka_unit_test(test_kod),
		cmocka_unit_test(test_ef_walk),
		cmocka_unit_test(test_ef_put),
		cmocka_unit_test(test_unsync_names),
		cmocka_unit_test(test_explain),
	};
	return cmocka_run_group_tests_name("ntp", tests, NULL, NULL);
}
