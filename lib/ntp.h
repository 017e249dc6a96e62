/*
 * ntp: the NTPv4 wire format (RFC 5905) and its extension fields (RFC 7822).
 *
 *   - nk_ntp_hdr_encode/decode: the 48-octet header of RFC 5905 §7.3.
 *   - timestamps: the 64-bit NTP timestamp format (32.32 fixed point, seconds
 *     since 1900-01-01 00:00:00 UTC, modulo 2^32 seconds: one "era" is
 *     2^32 s, about 136 years; era 1 starts 2036-02-07T06:28:16Z).
 *     A timestamp on the wire carries no era; nk_ntp_ts_to_unix() and
 *     nk_ntp_ts_to_timespec() resolve it as THE TIME CLOSEST TO A PIVOT that
 *     the caller gives (normally the local clock, or the build time when the
 *     local clock cannot be trusted), i.e. the result lies within
 *     [pivot - 2^31 s, pivot + 2^31 s) (about +-68 years). This is correct
 *     across the 2036 rollover and for any era, also for pivots before 1970
 *     or before 1900 (negative Unix or NTP seconds).
 *   - the 32-bit short format (16.16, RFC 5905 §6) used by root delay and
 *     root dispersion.
 *   - offset and delay from t1..t4 (RFC 5905 §8): the differences are taken
 *     modulo 2^64 on the raw timestamps, which is exact and era-free when
 *     the true differences are below 68 years; everything stays in signed
 *     32.32 fixed point (nk_ntp_fx, units of 2^-32 s) until the caller
 *     converts to double with nk_ntp_fx_to_double().
 *   - an extension-field walker that never reads past the packet.
 *   - a data-minimised client header (draft-ietf-ntp-data-minimization-04 §3).
 *   - Kiss-o'-Death detection (RFC 5905 §7.4), "unsynchronised" test.
 *   - nk_ntp_explain(): a packet decoded in words (for --explain).
 * Nothing here allocates memory or keeps global state.
 */
#ifndef NK_NTP_H
#define NK_NTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

#define NK_NTP_HDR_LEN 48

/* Seconds from 1900-01-01 (NTP prime epoch) to 1970-01-01 (Unix epoch). */
#define NK_NTP_UNIX_OFFSET 2208988800LL

/* Modes (RFC 5905 §7.3, Figure 10). */
#define NK_NTP_MODE_CLIENT 3
#define NK_NTP_MODE_SERVER 4

/* Leap indicator 3 = clock unsynchronised. */
#define NK_NTP_LEAP_UNSYNC 3

/* A raw 64-bit NTP timestamp: seconds in the high 32 bits, fraction low. */
typedef uint64_t nk_ntp_ts;
/* A signed time interval in 32.32 fixed point (units of 2^-32 s). */
typedef int64_t nk_ntp_fx;

struct nk_ntp_hdr {
	uint8_t leap;       /* 0..3 */
	uint8_t version;    /* 0..7 */
	uint8_t mode;       /* 0..7 */
	uint8_t stratum;
	int8_t poll;        /* log2 seconds */
	int8_t precision;   /* log2 seconds */
	uint32_t root_delay; /* short format, raw */
	uint32_t root_disp;  /* short format, raw */
	uint8_t refid[4];
	nk_ntp_ts ref;      /* reference timestamp */
	nk_ntp_ts org;      /* origin timestamp */
	nk_ntp_ts rec;      /* receive timestamp */
	nk_ntp_ts xmt;      /* transmit timestamp */
};

/* Header encode: writes exactly NK_NTP_HDR_LEN octets. Fields out of range
 * (leap > 3, version or mode > 7) are masked to their width. */
void nk_ntp_hdr_encode(uint8_t out[NK_NTP_HDR_LEN], const struct nk_ntp_hdr *h);
/* Header decode: needs len >= NK_NTP_HDR_LEN; 0, or -1 with e filled. It
 * checks only the length: what to accept (version, mode, ...) is the
 * caller's policy. */
int nk_ntp_hdr_decode(struct nk_ntp_hdr *h, const uint8_t *pkt, size_t len,
	struct nk_err *e);

/* Timestamps ------------------------------------------------------------ */

static inline uint32_t nk_ntp_ts_sec(nk_ntp_ts t) { return (uint32_t)(t >> 32); }
static inline uint32_t nk_ntp_ts_frac(nk_ntp_ts t) { return (uint32_t)t; }

/* Unix time (any era, negative allowed) -> wire timestamp. The fraction is
 * nsec * 2^32 / 10^9 rounded to nearest, so that ts_to_timespec() gives
 * back the same nanoseconds. tv_nsec must be in [0, 10^9). */
nk_ntp_ts nk_ntp_ts_from_timespec(const struct timespec *ts);
nk_ntp_ts nk_ntp_ts_from_unix(int64_t sec, uint32_t frac);

/* Wire timestamp -> Unix seconds + 32-bit fraction, in the era that puts
 * the result closest to pivot_unix (see above; ties go to the earlier
 * time, i.e. result - pivot is in [-2^31, 2^31) seconds). */
void nk_ntp_ts_to_unix(nk_ntp_ts t, int64_t pivot_unix, int64_t *sec,
	uint32_t *frac);
/* Same, as a timespec (fraction rounded to the nearest nanosecond). */
void nk_ntp_ts_to_timespec(nk_ntp_ts t, int64_t pivot_unix,
	struct timespec *out);

/* Short format (16.16 unsigned seconds, RFC 5905 §6). from_double saturates
 * to [0, 65535.99998] and maps NaN to 0. */
double nk_ntp_short_to_double(uint32_t s);
uint32_t nk_ntp_short_from_double(double d);

/* a - b as signed 32.32, modulo 2^64 (exact when |a - b| < 2^31 s). */
nk_ntp_fx nk_ntp_ts_diff(nk_ntp_ts a, nk_ntp_ts b);
double nk_ntp_fx_to_double(nk_ntp_fx v);

/* RFC 5905 §8 on-wire calculation:
 *   offset = ((t2 - t1) + (t3 - t4)) / 2     delay = (t4 - t1) - (t3 - t2)
 * t1 = client transmit (the client's clock, NOT the random origin
 * timestamp of a data-minimised request), t2 = server receive,
 * t3 = server transmit, t4 = client receive. All arithmetic is in signed
 * 64-bit fixed point: the halving is exact to 2^-33 s (truncated towards
 * zero). Returns 0, or -1 when the delay overflows 64 bits (only absurd
 * inputs, e.g. t4 - t1 near +2^31 s and t3 - t2 near -2^31 s). A negative delay is returned as is:
 * policy (RFC 5905 clamps it to the precision) is the caller's. */
int nk_ntp_offset_delay(nk_ntp_ts t1, nk_ntp_ts t2, nk_ntp_ts t3, nk_ntp_ts t4,
	nk_ntp_fx *offset, nk_ntp_fx *delay);

/* Data-minimised client header (draft-ietf-ntp-data-minimization-04 §3):
 * first octet 0x23 (LI 0, VN 4, mode 3), precision 0x20 as the draft says,
 * poll as given (the draft allows the real poll or 0), the transmit
 * timestamp uniformly random from the CSPRNG, every other field zero.
 * Writes the 48 octets to out and the transmit timestamp to *xmt: keep it,
 * it is the origin timestamp the response must echo. The caller records
 * t1 from its own clock separately. 0, or -1 when the CSPRNG fails. */
int nk_ntp_client_hdr(uint8_t out[NK_NTP_HDR_LEN], int8_t poll, nk_ntp_ts *xmt,
	struct nk_err *e);

/* Kiss-o'-Death (RFC 5905 §7.4): stratum 0 and a refid of 1 to 4 printable
 * ASCII characters (0x21..0x7e), right-padded with NUL octets. Returns 1
 * and copies the code NUL-terminated into code (may be NULL), else 0
 * (stratum 0 with a non-ASCII refid is just "unspecified or invalid"). */
int nk_ntp_is_kod(const struct nk_ntp_hdr *h, char code[5]);

/* 1 when the header says the server is not synchronised: leap 3, stratum
 * 0 (unspecified or KoD) or stratum >= 16 (RFC 5905 §7.3). No time sample
 * should come from such a packet. */
int nk_ntp_unsynchronised(const struct nk_ntp_hdr *h);

/* Names in words: mode ("client", "server", ...), extension field type
 * ("Unique Identifier", "NTS Cookie", ... or "unknown"). */
const char *nk_ntp_mode_name(unsigned mode);
const char *nk_ntp_ef_name(uint16_t type);

/* Decode pkt[0..len) in words to f, one item a line, each line starting
 * with prefix: header fields (timestamps as hex and as UTC, era resolved
 * around pivot_unix), then each extension field (type, name, length; for
 * the NTS authenticator its nonce/ciphertext/padding lengths), then what
 * is wrong if the layout is malformed. Never reads past len. */
void nk_ntp_explain(FILE *f, const char *prefix, const uint8_t *pkt, size_t len,
	int64_t pivot_unix);

/* Extension fields ------------------------------------------------------ */

#define NK_NTP_EF_HDR_LEN 4
#define NK_NTP_EF_MIN_LEN 16   /* RFC 7822 §7.5 */
#define NK_NTP_EF_MIN_LAST 28  /* RFC 7822 §7.5.1.4, no MAC */
#define NK_NTP_MAC_MAX_LEN 24  /* RFC 7822 §7.5.1.3 */

/* Walker flags.
 *
 * Default (0), for the extension fields of a whole NTPv4 packet, as NTS
 * uses them: the fields start at offset 48 and must tile the rest of the
 * packet exactly; each has a 4-octet type/length header, a length that is
 * a multiple of 4, at least 16 (RFC 7822 §7.5), and not past the end of
 * the packet. NTS packets carry no legacy MAC, so anything left over that
 * is not a valid field is an error. The RFC 7822 §7.5.1.4 rule "the last
 * field is at least 28 octets" is NOT enforced by default: it exists only
 * so that a receiver can tell a last field from a legacy MAC (at most 24
 * octets), and that question does not arise when MACs are not accepted.
 * Senders in this project still follow it (nts.c pads to it).
 *
 * NK_NTP_EF_LEGACY_MAC: RFC 7822 §7.5.1.3/4 disambiguation. When 4 to 24
 * octets remain where a field would start, they are a legacy MAC: the walk
 * ends and nk_ntp_ef_mac() reports it. This implies the "last field >= 28"
 * rule (a shorter last field is read as a MAC).
 *
 * NK_NTP_EF_INNER: the plaintext of an NTS Authenticator and Encrypted
 * Extension Fields field (RFC 8915 §5.6 "P"): fields may be arbitrarily
 * short (at least the 4-octet header) but still a multiple of 4; the walk
 * starts at offset 0 of the given buffer. */
#define NK_NTP_EF_LEGACY_MAC 1u
#define NK_NTP_EF_INNER      2u

struct nk_ntp_ef {
	uint16_t type;
	uint16_t len;        /* whole field, header included */
	const uint8_t *body; /* len - 4 octets (value + padding) */
	size_t body_len;
	size_t off;          /* offset of the field in the buffer */
};

/* The rest of an --explain line for one extension field (after its type and
 * length): what it is for and, for NTS fields, what its body says; may add
 * indented lines starting with prefix. Ends with a newline. */
void nk_ntp_explain_ef(FILE *f, const char *prefix, const struct nk_ntp_ef *ef);

struct nk_ntp_ef_iter {
	const uint8_t *buf;
	size_t len, off;
	unsigned flags;
	unsigned count;      /* fields returned so far */
	size_t mac_off, mac_len; /* with LEGACY_MAC: the MAC found, else 0 */
	int state;           /* 0 walking, 1 done, -1 error */
};

/* Start a walk over buf[0..len). Without NK_NTP_EF_INNER, buf is the whole
 * packet and len must be >= 48 (checked by the first ef_next call). */
void nk_ntp_ef_begin(struct nk_ntp_ef_iter *it, const uint8_t *buf, size_t len,
	unsigned flags);
/* Next field: 1 and *ef filled; 0 at the end; -1 with e filled (the walk
 * stays failed: every later call returns -1 again). */
int nk_ntp_ef_next(struct nk_ntp_ef_iter *it, struct nk_ntp_ef *ef,
	struct nk_err *e);
/* Validate the whole extension area in one go: 0 or -1. */
int nk_ntp_ef_check(const uint8_t *buf, size_t len, unsigned flags,
	struct nk_err *e);

/* Write one field (type, body, zero padding to a multiple of 4 and to at
 * least min_len) at out; returns the field length, or 0 when it does not
 * fit in cap or would exceed 65532 octets. */
size_t nk_ntp_ef_put(uint8_t *out, size_t cap, uint16_t type,
	const void *body, size_t body_len, size_t min_len);

#endif
