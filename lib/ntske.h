/*
 * ntske: the NTS Key Establishment record codec (RFC 8915 §4), both roles,
 * on plain byte buffers (the TLS 1.3 channel is someone else's concern).
 *
 * Record format (RFC 8915 §4, Figure 2):
 *   C (1 bit) | Record Type (15 bits) | Body Length (16 bits) | Body
 * Record types 0..7 are defined in §4.1; an unknown type is ignored when its
 * critical bit is 0 and is an error when it is 1.
 *
 * Building (no allocation; every builder returns the number of bytes
 * written, or -1 when cap is too small or an argument is invalid):
 *   nk_ntske_build_request()   client: NextProtocol {0}, AEAD list (client
 *                              preference order), End of Message, all with
 *                              the critical bit set; optional Server/Port
 *                              (without it)
 *   nk_ntske_build_response()  server: NextProtocol {0}, AEAD (chosen, or an
 *                              empty record when none matched, and then
 *                              nothing else), optional Server/Port, the
 *                              cookies (at least one), End of Message
 *   nk_ntske_build_error()     server: NextProtocol ({0}, or empty when the
 *                              request did not offer NTPv4), Error(code),
 *                              End of Message
 *   nk_ntske_choose_aead()     the client's first offered AEAD the server
 *                              supports (the client's preference order)
 *
 * Parsing: one incremental parser, caller-owned (struct nk_ntske_parser,
 * about 3 KiB, no allocation). Feed it the bytes as they arrive, in chunks
 * of any size; each call returns
 *   NK_NTSKE_NEED_MORE   record(s) incomplete, feed more
 *   NK_NTSKE_DONE        End of Message reached and every check passed
 *   NK_NTSKE_ERROR       p->err says which rule was broken (enum
 *                        nk_ntske_error), e gets one line in words
 * Once DONE or ERROR the parser stays there; feeding more bytes after End of
 * Message is an error (NK_NTSKE_E_TRAILING). When the peer closes the
 * stream (or a timeout expires) before DONE, call nk_ntske_end(): it names
 * the error (closed at a record boundary → NK_NTSKE_E_EOF, inside a record
 * whose length runs past the end → NK_NTSKE_E_EOF_IN_RECORD).
 *
 * Client role (nk_ntske_client_init(), parses a response), rules applied:
 *   - at most NK_NTSKE_RESP_MAX (65536) bytes in total (§4: clients SHOULD
 *     accept at least 65536)
 *   - unknown non-critical records ignored (and counted), unknown critical
 *     ones an error
 *   - End of Message and NextProtocol must carry the critical bit
 *     (§4.1.1, §4.1.2; same in the server role); an Error or Warning record
 *     is reported whatever its bit
 *   - an Error record is an error naming the code in words (0 unrecognized
 *     critical record, 1 bad request, 2 internal server error); a Warning
 *     record is an error too (§4.1.4: no warning codes are defined and
 *     unknown ones MUST be treated as errors)
 *   - exactly one NextProtocol, and it must be {0} (NTPv4; an empty list
 *     means the server accepts nothing we offered)
 *   - exactly one AEAD record, with exactly one algorithm, one we offered
 *     (NTPsec 1.2.2 ignores the offer and always answers 15: detected and
 *     named as such)
 *   - at most one Server and one Port record; Server must be a 1..255 byte
 *     ASCII host name or address, Port two bytes and not 0
 *   - at least one cookie; each 1..NK_NTSKE_COOKIE_MAX bytes (a larger one is
 *     an error); the first NK_NTSKE_MAX_COOKIES kept, each with its own
 *     length, further ones counted in cookies_ignored
 * Server role (nk_ntske_server_init(), parses a request):
 *   - any size up to max_req (default NK_NTSKE_REQ_MAX; at least 1024 is
 *     always accepted, §4); a record whose declared body length cannot fit
 *     (with the End of Message header after it) is refused when its header
 *     arrives (same in the client role against NK_NTSKE_RESP_MAX)
 *   - unknown critical record → nk_ntske_error_code() returns 0
 *     (Unrecognized Critical Record); any other fault → 1 (Bad Request)
 *   - exactly one NextProtocol, which must include 0; exactly one AEAD
 *     record with at least one algorithm; at most one Server and one Port;
 *     no Error, Warning or Cookie records (clients MUST NOT send them)
 *   - the offered AEAD list (first NK_NTSKE_MAX_AEADS entries) is returned
 *
 * Explain: set p->explain to a FILE* (and p->explain_prefix) and every
 * record is written there in words as it completes; nk_ntske_explain()
 * does the same for a complete buffer (e.g. the request we send).
 * Cookies are printed by length only.
 */
#ifndef NK_NTSKE_H
#define NK_NTSKE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aessiv.h"
#include "util.h"

/* Record types (RFC 8915 §4.1, IANA "NTS-KE Record Types") */
#define NK_NTSKE_END        0
#define NK_NTSKE_NEXTPROTO  1
#define NK_NTSKE_ERROR_REC  2
#define NK_NTSKE_WARNING    3
#define NK_NTSKE_AEAD       4
#define NK_NTSKE_COOKIE     5
#define NK_NTSKE_SERVER     6
#define NK_NTSKE_PORT       7
#define NK_NTSKE_CRITICAL   0x8000u

/* Next Protocol IDs (IANA "NTS Next Protocols") */
#define NK_NTSKE_PROTO_NTPV4 0

/* AEAD identifiers: NK_AEAD_* in aessiv.h */

/* Error codes (RFC 8915 §4.1.3) */
#define NK_NTSKE_ERR_UNRECOGNIZED_CRITICAL 0
#define NK_NTSKE_ERR_BAD_REQUEST           1
#define NK_NTSKE_ERR_INTERNAL              2

#define NK_NTSKE_RESP_MAX     65536 /* client: longest response accepted */
#define NK_NTSKE_REQ_MAX      16384 /* server: default longest request */
#define NK_NTSKE_MAX_COOKIES  8     /* cookies kept from one response */
#define NK_NTSKE_COOKIE_MAX   256   /* longest cookie accepted (chrony 100, NTPsec 104) */
#define NK_NTSKE_MAX_AEADS    16    /* AEAD ids kept from one request / offered */
#define NK_NTSKE_SERVER_MAX   255   /* longest Server record body */
#define NK_NTSKE_SCRATCH      512   /* bytes of each record body kept while parsing */

enum nk_ntske_status {
	NK_NTSKE_ERROR = -1,
	NK_NTSKE_NEED_MORE = 0,
	NK_NTSKE_DONE = 1
};

/* Which rule a message broke: one distinct value per failure. */
enum nk_ntske_error {
	NK_NTSKE_E_NONE = 0,
	NK_NTSKE_E_TOO_LONG,         /* message over the size limit */
	NK_NTSKE_E_EOF,              /* stream ended before End of Message */
	NK_NTSKE_E_EOF_IN_RECORD,    /* a record's length runs past the end of the stream */
	NK_NTSKE_E_TRAILING,         /* bytes after End of Message */
	NK_NTSKE_E_UNKNOWN_CRITICAL, /* unrecognized record type with the critical bit */
	NK_NTSKE_E_SERVER_ERROR,     /* response carries an Error record */
	NK_NTSKE_E_SERVER_WARNING,   /* response carries a Warning record */
	NK_NTSKE_E_CRITICAL_BIT,     /* a record that must be critical is not */
	NK_NTSKE_E_BAD_LENGTH,       /* body length impossible for the record type */
	NK_NTSKE_E_DUPLICATE,        /* a record that may appear once appears twice */
	NK_NTSKE_E_NEXTPROTO_MISSING,
	NK_NTSKE_E_NEXTPROTO,        /* NextProtocol is not {0} (response) / lacks 0 (request) */
	NK_NTSKE_E_AEAD_MISSING,
	NK_NTSKE_E_AEAD_EMPTY,       /* empty AEAD record: no common algorithm */
	NK_NTSKE_E_AEAD_MULTIPLE,    /* response AEAD record lists more than one */
	NK_NTSKE_E_AEAD_NOT_OFFERED, /* response AEAD is not one we offered */
	NK_NTSKE_E_NO_COOKIES,
	NK_NTSKE_E_COOKIE_TOO_BIG,
	NK_NTSKE_E_BAD_VALUE,        /* Server name not ASCII host/address, Port 0 */
	NK_NTSKE_E_FORBIDDEN,        /* request carries Error, Warning or Cookie */
	NK_NTSKE_E_COUNT
};

/* Short name of an error value ("aead-not-offered", ...). */
const char *nk_ntske_error_name(enum nk_ntske_error err);
/* Names in words; NULL-safe; unknown values give "unknown ...". */
const char *nk_ntske_type_name(uint16_t type);
const char *nk_ntske_aead_name(uint16_t aead);
const char *nk_ntske_errcode_name(uint16_t code);

/* What a response gave us (client role). */
struct nk_ntske_response {
	uint16_t aead;                    /* the AEAD the server chose */
	unsigned ncookies;                /* cookies kept (<= NK_NTSKE_MAX_COOKIES) */
	unsigned cookies_ignored;         /* cookies beyond that, dropped */
	uint16_t cookie_len[NK_NTSKE_MAX_COOKIES];
	uint8_t cookie[NK_NTSKE_MAX_COOKIES][NK_NTSKE_COOKIE_MAX];
	int has_server;
	char server[NK_NTSKE_SERVER_MAX + 1]; /* NUL-terminated */
	int has_port;
	uint16_t port;
	int has_error;                    /* an Error record was received */
	uint16_t error_code;
	unsigned nwarnings;               /* Warning records received (codes kept up to 4) */
	uint16_t warning[4];
	unsigned unknown_ignored;         /* unknown non-critical records skipped */
	int aead_critical;                /* the AEAD record had the critical bit */
};

/* What a request asked for (server role). */
struct nk_ntske_request {
	uint16_t aead[NK_NTSKE_MAX_AEADS]; /* offered, client preference order */
	unsigned naead;                    /* kept (<= NK_NTSKE_MAX_AEADS) */
	unsigned aead_ignored;             /* offered beyond that */
	int has_server;
	char server[NK_NTSKE_SERVER_MAX + 1];
	int has_port;
	uint16_t port;
	unsigned unknown_ignored;
	int has_nextproto;                 /* the NextProtocol record was complete */
	int offers_ntpv4;                  /* ... and listed 0 (NTPv4) */
};

enum nk_ntske_role { NK_NTSKE_ROLE_CLIENT = 1, NK_NTSKE_ROLE_SERVER = 2 };

/* Caller-owned incremental parser. Fields are private except explain*,
 * err, total (bytes consumed so far; read-only) and the result (u.resp or
 * u.req). The Server record is kept as received (NUL-terminated, checked to
 * be ASCII letters, digits, '-', '.', ':', '_'); §4.1.7 says a name in it is
 * an FQDN, so a resolver should treat it as absolute. */
struct nk_ntske_parser {
	/* public */
	FILE *explain;               /* NULL: silent */
	const char *explain_prefix;  /* e.g. "nts-ke: received"; NULL: "NTS-KE" */
	enum nk_ntske_error err;     /* set when ERROR is returned */
	union {
		struct nk_ntske_response resp;  /* client role */
		struct nk_ntske_request req;    /* server role */
	} u;
	/* private */
	int role;
	int state;                   /* enum nk_ntske_status */
	size_t total, max_total;
	unsigned nrecords;
	uint8_t hdr[4];
	unsigned hdr_len;
	uint16_t type;               /* current record: type without the C bit */
	int crit;
	size_t blen, bpos;
	uint8_t scratch[NK_NTSKE_SCRATCH];
	/* list records (NextProtocol, AEAD) are checked pair by pair */
	unsigned list_count;
	uint8_t pair_hi;             /* first byte of the current pair */
	int list_flag;               /* NextProtocol: saw 0 / only 0 */
	int list_bad_id;             /* NextProtocol: first unexpected id, -1 none */
	int seen_nextproto, seen_aead, seen_server, seen_port;
	int aead_empty;
	unsigned resp_aead_count;
	uint16_t offered[NK_NTSKE_MAX_AEADS];  /* client role: what we offered */
	unsigned noffered;
	char emsg[256];              /* the error, kept for later nk_ntske_end calls */
};

/* Client role: parse a response to a request that offered these AEADs. */
void nk_ntske_client_init(struct nk_ntske_parser *p, const uint16_t *offered, size_t noffered);
/* Server role: parse a request of at most max_req bytes (0: NK_NTSKE_REQ_MAX;
 * values under 1024 are raised to 1024). */
void nk_ntske_server_init(struct nk_ntske_parser *p, size_t max_req);

/* Feed the next len bytes. Returns enum nk_ntske_status. */
int nk_ntske_feed(struct nk_ntske_parser *p, const void *data, size_t len, struct nk_err *e);
/* The stream ended (peer closed, or the caller's timeout). Returns DONE if
 * End of Message was already reached, else ERROR naming where it stopped. */
int nk_ntske_end(struct nk_ntske_parser *p, struct nk_err *e);
/* Server role: the Error code to answer with after ERROR (0 or 1). */
uint16_t nk_ntske_error_code(const struct nk_ntske_parser *p);
/* Wipe everything (cookies included). */
void nk_ntske_parser_wipe(struct nk_ntske_parser *p);

/* Builders. server and port in the request are optional (NULL / 0) and sent
 * without the critical bit (§4.1.7, §4.1.8: clients SHOULD NOT set it). */
long nk_ntske_build_request(uint8_t *out, size_t cap, const uint16_t *aeads, size_t naeads,
	const char *server, uint16_t port);

struct nk_ntske_resp_params {
	uint16_t aead;               /* chosen AEAD; 0 = none matched: empty AEAD record, no cookies */
	const uint8_t *const *cookies;
	const uint16_t *cookie_len;
	size_t ncookies;
	const char *server;          /* NULL: no Server record */
	uint16_t port;               /* 0: no Port record */
};
long nk_ntske_build_response(uint8_t *out, size_t cap, const struct nk_ntske_resp_params *rp);
/* An error response: NextProtocol {0} when ntpv4 != 0, else an empty one
 * (§4.1.2: every response carries exactly one, a subset of the request's),
 * Error(code), End of Message. */
long nk_ntske_build_error(uint8_t *out, size_t cap, uint16_t code, int ntpv4);
/* Server role: may an error response list NTPv4 in its NextProtocol? 1
 * unless the request's NextProtocol record arrived whole without 0. */
int nk_ntske_request_ntpv4(const struct nk_ntske_parser *p);

/* The client's preference (§4.1.5: its list is in decreasing preference
 * order): the first of offered[] that is in supported[], or 0 when none is. */
uint16_t nk_ntske_choose_aead(const uint16_t *offered, size_t noffered,
	const uint16_t *supported, size_t nsupported);

/* Write every record of a complete buffer in words (no validation beyond
 * framing). Returns 0, or -1 when the buffer ends inside a record (said so
 * on f too). */
int nk_ntske_explain(FILE *f, const char *prefix, const void *buf, size_t len);

#endif
