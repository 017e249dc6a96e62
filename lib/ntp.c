/* ntp: NTPv4 wire format (RFC 5905), extension fields (RFC 7822). See ntp.h. */
#include "ntp.h"

#include <string.h>

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* RFC 5905 §7.3, Figure 8: the packet header. */
void nk_ntp_hdr_encode(uint8_t out[NK_NTP_HDR_LEN], const struct nk_ntp_hdr *h)
{
	out[0] = (uint8_t)((h->leap & 3) << 6 | (h->version & 7) << 3 | (h->mode & 7));
	out[1] = h->stratum;
	out[2] = (uint8_t)h->poll;
	out[3] = (uint8_t)h->precision;
	put32(out + 4, h->root_delay);
	put32(out + 8, h->root_disp);
	memcpy(out + 12, h->refid, 4);
	put64(out + 16, h->ref);
	put64(out + 24, h->org);
	put64(out + 32, h->rec);
	put64(out + 40, h->xmt);
}

int nk_ntp_hdr_decode(struct nk_ntp_hdr *h, const uint8_t *pkt, size_t len,
	struct nk_err *e)
{
	if (len < NK_NTP_HDR_LEN) {
		nk_errf(e, "NTP packet of %zu octets is shorter than the %d-octet header",
			len, NK_NTP_HDR_LEN);
		return -1;
	}
	h->leap = pkt[0] >> 6;
	h->version = (pkt[0] >> 3) & 7;
	h->mode = pkt[0] & 7;
	h->stratum = pkt[1];
	h->poll = (int8_t)pkt[2];
	h->precision = (int8_t)pkt[3];
	h->root_delay = get32(pkt + 4);
	h->root_disp = get32(pkt + 8);
	memcpy(h->refid, pkt + 12, 4);
	h->ref = get64(pkt + 16);
	h->org = get64(pkt + 24);
	h->rec = get64(pkt + 32);
	h->xmt = get64(pkt + 40);
	return 0;
}

/* Timestamps (RFC 5905 §6) ------------------------------------------------ */

nk_ntp_ts nk_ntp_ts_from_unix(int64_t sec, uint32_t frac)
{
	/* Seconds since 1900 modulo 2^32: the era number is dropped (§6). The
	 * arithmetic is done unsigned, where wrap-around is defined. */
	uint32_t s = (uint32_t)((uint64_t)sec + (uint64_t)NK_NTP_UNIX_OFFSET);
	return (uint64_t)s << 32 | frac;
}

nk_ntp_ts nk_ntp_ts_from_timespec(const struct timespec *ts)
{
	uint64_t ns = (uint64_t)ts->tv_nsec;
	/* ns < 10^9, so ns << 32 < 2^62 and the result is < 2^32. */
	uint32_t frac = (uint32_t)(((ns << 32) + 500000000u) / 1000000000u);
	return nk_ntp_ts_from_unix((int64_t)ts->tv_sec, frac);
}

void nk_ntp_ts_to_unix(nk_ntp_ts t, int64_t pivot_unix, int64_t *sec,
	uint32_t *frac)
{
	/* The pivot's own NTP seconds modulo 2^32; the distance from it to
	 * the timestamp's seconds, taken modulo 2^32 into [-2^31, 2^31), is
	 * the same in every era, so the closest time is pivot + d. */
	uint32_t p = (uint32_t)((uint64_t)pivot_unix + (uint64_t)NK_NTP_UNIX_OFFSET);
	uint32_t u = nk_ntp_ts_sec(t) - p;
	int64_t d = u >= 0x80000000u ? (int64_t)u - 0x100000000LL : (int64_t)u;

	*sec = pivot_unix + d;
	*frac = nk_ntp_ts_frac(t);
}

void nk_ntp_ts_to_timespec(nk_ntp_ts t, int64_t pivot_unix,
	struct timespec *out)
{
	int64_t sec;
	uint32_t frac;
	uint64_t ns;

	nk_ntp_ts_to_unix(t, pivot_unix, &sec, &frac);
	ns = ((uint64_t)frac * 1000000000u + 0x80000000u) >> 32;
	if (ns >= 1000000000u) {
		ns -= 1000000000u;
		sec++;
	}
	out->tv_sec = (time_t)sec;
	out->tv_nsec = (long)ns;
}

double nk_ntp_short_to_double(uint32_t s)
{
	return (double)s / 65536.0;
}

uint32_t nk_ntp_short_from_double(double d)
{
	if (!(d > 0))   /* also NaN */
		return 0;
	if (d >= 65536.0)
		return 0xffffffffu;
	d = d * 65536.0 + 0.5;
	return d >= 4294967295.0 ? 0xffffffffu : (uint32_t)d;
}

nk_ntp_fx nk_ntp_ts_diff(nk_ntp_ts a, nk_ntp_ts b)
{
	uint64_t u = a - b;   /* modulo 2^64 */
	/* two's complement reinterpretation without implementation-defined
	 * conversion */
	return u > (uint64_t)INT64_MAX ? -(int64_t)(~u) - 1 : (int64_t)u;
}

double nk_ntp_fx_to_double(nk_ntp_fx v)
{
	/* exact for |v| < 2^53 units, i.e. |x| < 2^21 s at full 2^-32 s
	 * resolution; beyond that the usual double rounding */
	return (double)v * (1.0 / 4294967296.0); /* exact scaling by 2^-32 */
}

/* RFC 5905 §8, "On-Wire Protocol". */
int nk_ntp_offset_delay(nk_ntp_ts t1, nk_ntp_ts t2, nk_ntp_ts t3, nk_ntp_ts t4,
	nk_ntp_fx *offset, nk_ntp_fx *delay)
{
	nk_ntp_fx a = nk_ntp_ts_diff(t2, t1), b = nk_ntp_ts_diff(t3, t4);
	nk_ntp_fx c = nk_ntp_ts_diff(t4, t1), d = nk_ntp_ts_diff(t3, t2);
	nk_ntp_fx dl;

	/* (a + b) / 2 without overflow: halves first, then the two
	 * remainders (each -1, 0 or 1); C division truncates towards zero. */
	*offset = a / 2 + b / 2 + (a % 2 + b % 2) / 2;
	if (__builtin_sub_overflow(c, d, &dl))
		return -1;
	*delay = dl;
	return 0;
}

/* draft-ietf-ntp-data-minimization-04 §3. */
int nk_ntp_client_hdr(uint8_t out[NK_NTP_HDR_LEN], int8_t poll, nk_ntp_ts *xmt,
	struct nk_err *e)
{
	uint8_t r[8];

	memset(out, 0, NK_NTP_HDR_LEN);
	out[0] = 0x23;              /* LI 0, VN 4, mode 3 */
	out[2] = (uint8_t)poll;
	out[3] = 0x20;              /* precision, as the draft says */
	do {
		if (nk_random(r, sizeof r) < 0) {
			nk_errf(e, "cannot read the system random generator");
			return -1;
		}
		*xmt = get64(r);
	} while (*xmt == 0);         /* 0 means "no timestamp" to RFC 5905 */
	memcpy(out + 40, r, 8);
	nk_wipe(r, sizeof r);
	return 0;
}

/* RFC 5905 §7.4: kiss codes are ASCII strings carried in the refid of a
 * stratum-0 packet. */
int nk_ntp_is_kod(const struct nk_ntp_hdr *h, char code[5])
{
	int i, end = 0;

	if (h->stratum != 0)
		return 0;
	if (h->refid[0] < 0x21 || h->refid[0] > 0x7e)
		return 0;
	for (i = 1; i < 4; i++) {
		uint8_t c = h->refid[i];
		if (c == 0)
			end = 1;
		else if (end || c < 0x21 || c > 0x7e)
			return 0;
	}
	if (code != NULL) {
		memcpy(code, h->refid, 4);
		code[4] = 0;
	}
	return 1;
}

/* Extension fields (RFC 7822 §7.5, RFC 8915 §5.6) --------------------------- */

void nk_ntp_ef_begin(struct nk_ntp_ef_iter *it, const uint8_t *buf, size_t len,
	unsigned flags)
{
	memset(it, 0, sizeof *it);
	it->buf = buf;
	it->len = len;
	it->flags = flags;
	it->off = (flags & NK_NTP_EF_INNER) ? 0 : NK_NTP_HDR_LEN;
}

int nk_ntp_ef_next(struct nk_ntp_ef_iter *it, struct nk_ntp_ef *ef,
	struct nk_err *e)
{
	int inner = (it->flags & NK_NTP_EF_INNER) != 0;
	const char *where = inner ? "encrypted extension field" : "extension field";
	size_t rem, min = inner ? NK_NTP_EF_HDR_LEN : NK_NTP_EF_MIN_LEN;
	uint16_t type, flen;

	if (it->state < 0) {
		nk_errf(e, "extension field walk already failed");
		return -1;
	}
	if (it->state > 0)
		return 0;
	if (it->len < it->off) {   /* only possible for a short packet */
		nk_errf(e, "NTP packet of %zu octets is shorter than the %d-octet header",
			it->len, NK_NTP_HDR_LEN);
		goto fail;
	}
	rem = it->len - it->off;
	if (rem == 0) {
		it->state = 1;
		return 0;
	}
	if (!inner && (it->flags & NK_NTP_EF_LEGACY_MAC) && rem <= NK_NTP_MAC_MAX_LEN) {
		/* RFC 7822 §7.5.1.3/4: at most 24 octets left is a MAC
		 * (key id + digest, or a 4-octet crypto-NAK) */
		if (rem < 4 || rem % 4 != 0) {
			nk_errf(e, "%zu octets after the extension fields at offset %zu are neither a field nor a MAC",
				rem, it->off);
			goto fail;
		}
		it->mac_off = it->off;
		it->mac_len = rem;
		it->state = 1;
		return 0;
	}
	if (rem < NK_NTP_EF_HDR_LEN) {
		nk_errf(e, "%zu stray octets at offset %zu: too short for an %s header",
			rem, it->off, where);
		goto fail;
	}
	type = (uint16_t)(it->buf[it->off] << 8 | it->buf[it->off + 1]);
	flen = (uint16_t)(it->buf[it->off + 2] << 8 | it->buf[it->off + 3]);
	if (flen < min) {
		nk_errf(e, "%s type 0x%04x at offset %zu: length %u is below the minimum %zu",
			where, type, it->off, flen, min);
		goto fail;
	}
	if (flen % 4 != 0) {
		nk_errf(e, "%s type 0x%04x at offset %zu: length %u is not a multiple of 4",
			where, type, it->off, flen);
		goto fail;
	}
	if (flen > rem) {
		nk_errf(e, "%s type 0x%04x at offset %zu: length %u runs past the end (%zu octets left)",
			where, type, it->off, flen, rem);
		goto fail;
	}
	ef->type = type;
	ef->len = flen;
	ef->off = it->off;
	ef->body = it->buf + it->off + NK_NTP_EF_HDR_LEN;
	ef->body_len = (size_t)flen - NK_NTP_EF_HDR_LEN;
	it->off += flen;
	it->count++;
	return 1;
fail:
	it->state = -1;
	return -1;
}

int nk_ntp_ef_check(const uint8_t *buf, size_t len, unsigned flags,
	struct nk_err *e)
{
	struct nk_ntp_ef_iter it;
	struct nk_ntp_ef ef;
	int r;

	nk_ntp_ef_begin(&it, buf, len, flags);
	while ((r = nk_ntp_ef_next(&it, &ef, e)) > 0)
		;
	return r;
}

size_t nk_ntp_ef_put(uint8_t *out, size_t cap, uint16_t type,
	const void *body, size_t body_len, size_t min_len)
{
	size_t n;

	if (body_len > 65532 - NK_NTP_EF_HDR_LEN)
		return 0;
	n = (NK_NTP_EF_HDR_LEN + body_len + 3) & ~(size_t)3;
	if (min_len > n)
		n = (min_len + 3) & ~(size_t)3;
	if (n > 65532 || n > cap)
		return 0;
	if (body_len > 0)
		memmove(out + NK_NTP_EF_HDR_LEN, body, body_len);
	memset(out + NK_NTP_EF_HDR_LEN + body_len, 0, n - NK_NTP_EF_HDR_LEN - body_len);
	out[0] = (uint8_t)(type >> 8);
	out[1] = (uint8_t)type;
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	return n;
}

int nk_ntp_unsynchronised(const struct nk_ntp_hdr *h)
{
	return h->leap == NK_NTP_LEAP_UNSYNC || h->stratum == 0 || h->stratum >= 16;
}

const char *nk_ntp_mode_name(unsigned mode)
{
	static const char *const names[8] = { "reserved", "symmetric active",
		"symmetric passive", "client", "server", "broadcast",
		"NTP control message", "private" };
	return names[mode & 7];
}

const char *nk_ntp_ef_name(uint16_t type)
{
	switch (type) {
	case 0x0104: return "Unique Identifier";
	case 0x0204: return "NTS Cookie";
	case 0x0304: return "NTS Cookie Placeholder";
	case 0x0404: return "NTS Authenticator and Encrypted Extension Fields";
	default: return "unknown";
	}
}

static void explain_ts(FILE *f, const char *prefix, const char *what, nk_ntp_ts t,
	int64_t pivot)
{
	struct tm tm;
	time_t tt;
	int64_t sec;
	uint32_t frac;

	if (t == 0) {
		fprintf(f, "%s%s timestamp: 0 (not set)\n", prefix, what);
		return;
	}
	nk_ntp_ts_to_unix(t, pivot, &sec, &frac);
	tt = (time_t)sec;
	if (gmtime_r(&tt, &tm) == NULL) {
		fprintf(f, "%s%s timestamp: %08x.%08x\n", prefix, what,
			nk_ntp_ts_sec(t), nk_ntp_ts_frac(t));
		return;
	}
	fprintf(f, "%s%s timestamp: %08x.%08x = %04d-%02d-%02dT%02d:%02d:%02d.%09luZ\n",
		prefix, what, nk_ntp_ts_sec(t), nk_ntp_ts_frac(t), tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		(unsigned long)(((uint64_t)frac * 1000000000u) >> 32));
}

void nk_ntp_explain_ef(FILE *f, const char *prefix, const struct nk_ntp_ef *ef)
{
	size_t n = ef->body_len;

	switch (ef->type) {
	case 0x0104:
		fprintf(f, ": %zu octets", n);
		for (size_t i = 0; i < n && i < 8; i++)
			fprintf(f, "%s%02x", i ? "" : " ", ef->body[i]);
		fprintf(f, "%s\n%s  (random, fresh for each request: the answer must echo it, "
			"RFC 8915 §5.3)", n > 8 ? "..." : "", prefix);
		break;
	case 0x0204:
		fprintf(f, ": a cookie of %zu octets, opaque to the client\n%s  (the server's "
			"sealed copy of the C2S/S2C keys; each cookie is sent once, RFC 8915 §5.4)",
			n, prefix);
		break;
	case 0x0304:
		fprintf(f, ": asks for one more cookie; its %zu-octet body is as long as the "
			"cookie\n%s  sent and is never read, so the answer is no larger than the "
			"request (RFC 8915 §5.5)", n, prefix);
		break;
	case 0x0404:
		if (n < 4)
			break;
		{
			size_t nl = (size_t)(ef->body[0] << 8 | ef->body[1]);
			size_t cl = (size_t)(ef->body[2] << 8 | ef->body[3]);
			size_t need = 4 + ((nl + 3) & ~(size_t)3) + ((cl + 3) & ~(size_t)3);
			fprintf(f, ": nonce %zu octets, ciphertext %zu octets", nl, cl);
			if (need > n) {
				fprintf(f, " (do not fit in the field)");
				break;
			}
			fprintf(f, ", additional padding %zu octets", n - need);
			if (cl >= 16)
				fprintf(f, "\n%s  (SIV: a 16-octet tag, then %zu octets of encrypted "
					"fields; it authenticates all before it, RFC 8915 §5.6)",
					prefix, cl - 16);
		}
		break;
	default:
		break;
	}
	fputc('\n', f);
}

void nk_ntp_explain(FILE *f, const char *prefix, const uint8_t *pkt, size_t len,
	int64_t pivot_unix)
{
	static const char *const leap[4] = { "no warning", "last minute has 61 s",
		"last minute has 59 s", "unsynchronised" };
	struct nk_ntp_hdr h;
	struct nk_ntp_ef_iter it;
	struct nk_ntp_ef ef;
	struct nk_err e;
	char kiss[5];
	int r;

	if (nk_ntp_hdr_decode(&h, pkt, len, &e) < 0) {
		fprintf(f, "%s%s\n", prefix, e.msg);
		return;
	}
	fprintf(f, "%sNTP packet, %zu octets: leap %u (%s), version %u, mode %u (%s)\n",
		prefix, len, h.leap, leap[h.leap], h.version, h.mode, nk_ntp_mode_name(h.mode));
	fprintf(f, "%sstratum %u%s, poll %d (2^%d s), precision %d (2^%d s)\n", prefix,
		h.stratum, h.stratum == 0 ? " (unspecified or kiss-o'-death)" :
		h.stratum >= 16 ? " (unsynchronised)" : "", h.poll, h.poll, h.precision, h.precision);
	fprintf(f, "%sroot delay %.6f s, root dispersion %.6f s\n", prefix,
		nk_ntp_short_to_double(h.root_delay), nk_ntp_short_to_double(h.root_disp));
	if (nk_ntp_is_kod(&h, kiss))
		fprintf(f, "%sreference id: kiss code \"%s\"\n", prefix, kiss);
	else if (h.stratum <= 1) {
		char id[5];
		int i;
		for (i = 0; i < 4; i++)
			id[i] = (h.refid[i] >= 0x20 && h.refid[i] < 0x7f) ? (char)h.refid[i] : '.';
		id[4] = 0;
		fprintf(f, "%sreference id: \"%s\"\n", prefix, id);
	} else
		fprintf(f, "%sreference id: %u.%u.%u.%u (IPv4 address, or a hash of an IPv6 one)\n",
			prefix, h.refid[0], h.refid[1], h.refid[2], h.refid[3]);
	explain_ts(f, prefix, "reference", h.ref, pivot_unix);
	explain_ts(f, prefix, "origin", h.org, pivot_unix);
	explain_ts(f, prefix, "receive", h.rec, pivot_unix);
	explain_ts(f, prefix, "transmit", h.xmt, pivot_unix);
	nk_ntp_ef_begin(&it, pkt, len, 0);
	while ((r = nk_ntp_ef_next(&it, &ef, &e)) > 0) {
		fprintf(f, "%sextension field %u at offset %zu: type 0x%04x (%s), %u octets",
			prefix, it.count, ef.off, ef.type, nk_ntp_ef_name(ef.type), ef.len);
		nk_ntp_explain_ef(f, prefix, &ef);
	}
	if (r < 0)
		fprintf(f, "%smalformed: %s\n", prefix, e.msg);
	else if (it.count == 0)
		fprintf(f, "%sno extension fields\n", prefix);
}
