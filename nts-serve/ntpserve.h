/*
 * ntp: nts-serve's answers to NTP client requests (mode 3 -> 4, RFC 5905)
 * and NTS-protected ones (RFC 8915 §5), on plain buffers: the event loop
 * hands in a datagram (or a TCP relay frame's packet) and its receive
 * time, and sends what comes out, at once.
 *
 * What the server advertises comes from the `status` record nts-adjust
 * writes (nts-adjust(8)): stratum, refid, leap, root-delay, root-disp and
 * t (the reference time). The status is "good" when it parses, its leap
 * is 0..2, its stratum 1..15 and it is at most max_age seconds old (and
 * not more than max_age in the future); the root dispersion then grows by
 * 15 ppm of its age (RFC 5905 §7.3 PHI). Otherwise the answer says leap 3
 * (unsynchronised), stratum 16, refid "INIT", root delay/dispersion 0,
 * reference time 0, as an unsynchronised server must (RFC 5905 §7.3).
 *
 * Requests and what they get:
 *   - shorter than 48 octets, not mode 3, version 0 or > 4: nothing;
 *   - 48 octets, or extension fields without an NTS Cookie, or a legacy
 *     MAC: a plain 48-octet mode 4 answer (same version as the request);
 *   - NTPv4 with an NTS Cookie field: nk_nts_server_parse() with the
 *     cookie keys; authenticated -> an NTS answer (UID, 1 + placeholders
 *     new cookies, max 8, under S2C); cookie that does not open -> KoD
 *     NTSN (RFC 8915 §5.7); bad authenticator or malformed -> nothing.
 * Never more octets out than in (the NTS layer also guarantees it).
 * The transmit timestamp is read from the clock just before the answer
 * is sealed; the caller sends it immediately.
 */
#ifndef NK_SERVE_NTP_H
#define NK_SERVE_NTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cookie.h"
#include "ntp.h"
#include "util.h"

#define NK_SERVE_STATUS_MAX_AGE 10800.0  /* default: 3 hours */
#define NK_SERVE_PRECISION (-20)         /* about 1 microsecond */
#define NK_SERVE_PHI 15e-6               /* RFC 5905 frequency tolerance */

struct nk_serve_status {
	int have;               /* a status record was read */
	double t;               /* its reference time, UNIX seconds */
	uint8_t leap, stratum;
	uint8_t refid[4];
	char refid_text[16];
	double root_delay, root_disp;
};

/* Read the status file. 1: read; 0: the file does not exist (st->have =
 * 0); -1: unreadable or malformed (e says which line and field; st->have
 * = 0). */
int nk_serve_status_load(const char *path, struct nk_serve_status *st, struct nk_err *e);
/* Is the status usable at time now? */
int nk_serve_status_good(const struct nk_serve_status *st, double now, double max_age);

enum nk_serve_kind {
	NK_SERVE_NONE = 0,      /* not an NTP client request: ignored */
	NK_SERVE_PLAIN,         /* plain NTP answer */
	NK_SERVE_NTS,           /* NTS answer */
	NK_SERVE_NTSN,          /* KoD NTSN */
	NK_SERVE_BADAUTH,       /* NTS request whose authenticator failed: ignored */
	NK_SERVE_BADNTS         /* malformed NTS request: ignored */
};
const char *nk_serve_kind_name(enum nk_serve_kind k);

struct nk_serve_ntp {
	const struct nk_cookie_keys *keys;   /* NULL: NTS requests get NTSN */
	struct nk_serve_status status;
	double max_age;
	FILE *explain;                       /* NULL: quiet */
	uint64_t count[6];                   /* per enum nk_serve_kind */
};

/* Answer one request in[0..len) received at rx (CLOCK_REALTIME). in is
 * modified (NTS fields are decrypted in place). Returns the answer's
 * length (<= len) written to out, or 0 for no answer; *kind says which. */
size_t nk_serve_ntp_answer(struct nk_serve_ntp *s, uint8_t *in, size_t len,
	const struct timespec *rx, uint8_t *out, size_t cap, enum nk_serve_kind *kind);

/* A Kiss-o'-Death with code (e.g. "RATE") for the request in[0..len):
 * 48 octets (0 when len < 48 or not a client request): leap 3, stratum
 * 0, the request's version and poll, origin = its transmit timestamp. */
size_t nk_serve_ntp_kod(const uint8_t *in, size_t len, const char *code,
	uint8_t *out, size_t cap);

/* Does the request carry an NTS Cookie (i.e. is it an NTS request)? */
int nk_serve_ntp_is_nts(const uint8_t *in, size_t len);

#endif
