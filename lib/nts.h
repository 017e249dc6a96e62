/*
 * nts: the NTS extension fields for NTPv4 (RFC 8915 §5), both roles, on
 * plain byte buffers (sockets, proxies and cookie jars are the callers').
 *
 * Client:
 *   nk_nts_client_request()  builds a request: the data-minimised header
 *     (ntp.h), then, in this order,
 *       Unique Identifier   (0x0104) 32 fresh random octets
 *       NTS Cookie          (0x0204) the one cookie given (never reuse it)
 *       N Cookie Placeholders (0x0304), each with the cookie's body length
 *       NTS Authenticator and Encrypted Extension Fields (0x0404):
 *         nonce 16 random octets (= N_REQ of §5.6, so no Additional
 *         Padding is needed), ciphertext = AEAD(C2S, A = everything
 *         before this field, N = nonce, P = empty) = the 16-octet SIV.
 *     All fields are authenticated, none encrypted; the last field is 40
 *     octets (>= 28, RFC 7822 §7.5.1.4). It returns in *st what the
 *     response must match (UID and origin = our random transmit timestamp).
 *   nk_nts_client_verify()   checks a response, in this order, each
 *     failure with its own status (enum nk_nts_status) and one line in e:
 *       length >= 48, version 4, mode 4                    MALFORMED/VERSION/MODE
 *       origin timestamp == our transmit timestamp         ORIGIN
 *       extension fields well formed (ntp.h, no MAC)       MALFORMED
 *       exactly one UID before the authenticator, == ours  NO_UID/UID
 *       an authenticator                                   NO_AUTH (or KoD, below)
 *       its nonce/ciphertext lengths consistent            AUTH_FORMAT
 *       AEAD(S2C) opens over A = packet up to it           AUTH
 *       the decrypted fields well formed                   INNER
 *       nothing after the authenticator                    TRAILING (see flags)
 *     Only the encrypted fields are used: new cookies come from NTS Cookie
 *     fields inside the ciphertext only; a cookie sent in clear is ignored
 *     (RFC 8915 §5.7: server cookies MUST be encrypted). Unknown
 *     authenticated fields are ignored (RFC 7822), and counted.
 *     The ciphertext is decrypted IN PLACE: pkt is modified and the cookie
 *     pointers returned point into it.
 *
 *   Fields after the authenticator are neither encrypted nor authenticated.
 *   RFC 8915 §5.7 says the client MUST discard them; by default the whole
 *   packet is then rejected (NK_NTS_E_TRAILING), because no server we know
 *   sends any and an on-path attacker is the likeliest author. With
 *   NK_NTS_LENIENT_TRAILING they are discarded (counted in n_discarded) and
 *   the packet is judged on the rest.
 *
 *   Kiss-o'-Death (RFC 5905 §7.4, RFC 8915 §5.7): a stratum-0 response with
 *   an ASCII kiss code gives NK_NTS_KOD with resp->kiss set, after the
 *   origin and UID checks above (a KoD without our UID is rejected: RFC
 *   8915 §5.7 requires the check once the server has answered with NTS,
 *   and we apply it always). Then:
 *     - with an authenticator: it must verify (else NK_NTS_E_AUTH) and
 *       resp->authenticated = 1 (e.g. chrony's authenticated RATE);
 *     - without: resp->authenticated = 0. An NTSN KoD is unauthenticated
 *       by nature (the server could not recover the keys), so anyone on
 *       the path who saw the request can forge it. Policy we recommend and
 *       nts-poll follows: on NTSN mark the session "needs NTS-KE" but KEEP
 *       its cookies until a new NTS-KE succeeds (RFC 8915 §5.7: "As long
 *       as the NTS-KE handshake has not succeeded, the client SHOULD
 *       continue polling the NTP server using the cookies and parameters
 *       it has"); an unauthenticated RATE may be obeyed (backing off is
 *       harmless); an unauthenticated DENY/RSTR should not make a source
 *       permanently unusable. No time sample ever comes from a KoD.
 *   Whether the server is synchronised (leap 3, stratum 0 or >= 16) is
 *   the caller's question: resp->hdr has the fields.
 *
 * Server:
 *   nk_nts_server_parse()    checks a request: version 4, mode 3, fields
 *     well formed, exactly one UID (>= 32 octets) and exactly one NTS
 *     Cookie, both before the authenticator; Cookie Placeholders before
 *     the authenticator or encrypted in it, counted when their body length
 *     equals the cookie's (others ignored, §5.5); the cookie is turned
 *     into keys by the caller's callback; the authenticator's nonce plus
 *     Additional Padding must reach N_REQ = 16 (§5.6); AEAD(C2S) must
 *     verify. Fields after the authenticator are discarded (§5.7 "MUST
 *     discard any unauthenticated extension fields"). On failure the UID
 *     (if one was found) stays in the result so that an NTSN KoD can echo
 *     it: nk_nts_server_nak() builds that KoD.
 *   nk_nts_server_response() builds the answer: the header the caller
 *     filled (forced to version 4, mode 4, origin = the request's transmit
 *     timestamp), the UID echoed, and one authenticator (nonce 16 random
 *     octets, AEAD under S2C) whose plaintext holds the new NTS Cookie
 *     fields. At most 1 + placeholders cookies (§5.7), and the response is
 *     never longer than the request (§5.5, amplification): cookies are
 *     dropped from the end until it fits.
 *
 * No malloc; keys live in caller-owned structs and are wiped with
 * nk_nts_keys_wipe(); AEAD contexts built internally are wiped before
 * return.
 */
#ifndef NK_NTS_H
#define NK_NTS_H

#include <stddef.h>
#include <stdint.h>

#include "aessiv.h"
#include "ntp.h"
#include "ntske.h"
#include "util.h"

/* Extension field types (RFC 8915 §7.5) */
#define NK_NTS_EF_UID         0x0104
#define NK_NTS_EF_COOKIE      0x0204
#define NK_NTS_EF_PLACEHOLDER 0x0304
#define NK_NTS_EF_AUTH        0x0404

#define NK_NTS_UID_LEN     32   /* what we send (§5.3: at least 32) */
#define NK_NTS_UID_MAX     64   /* longest UID a server echoes from a request */
#define NK_NTS_NONCE_LEN   16   /* what we send; N_REQ for SIV (§5.6) */
#define NK_NTS_COOKIE_MAX  NK_NTSKE_COOKIE_MAX
#define NK_NTS_MAX_COOKIES 8
#define NK_NTS_MAX_PLACEHOLDERS 7  /* §5.7: SHOULD NOT send more than 7 */

/* Options for nk_nts_client_verify() */
#define NK_NTS_LENIENT_TRAILING 1u

enum nk_nts_status {
	NK_NTS_OK = 0,          /* authenticated time response */
	NK_NTS_KOD = 1,         /* Kiss-o'-Death, see resp->kiss, ->authenticated */
	NK_NTS_E_MALFORMED = -1, /* too short, bad extension field layout, duplicates */
	NK_NTS_E_VERSION = -2,  /* not NTPv4 */
	NK_NTS_E_MODE = -3,     /* not mode 4 (client) / 3 (server) */
	NK_NTS_E_ORIGIN = -4,   /* origin timestamp is not our transmit timestamp */
	NK_NTS_E_NO_UID = -5,   /* no (authenticated) Unique Identifier */
	NK_NTS_E_UID = -6,      /* Unique Identifier differs from ours */
	NK_NTS_E_NO_AUTH = -7,  /* no NTS Authenticator field */
	NK_NTS_E_AUTH_FORMAT = -8, /* authenticator lengths inconsistent / nonce too short */
	NK_NTS_E_AUTH = -9,     /* AEAD verification failed */
	NK_NTS_E_INNER = -10,   /* decrypted extension fields malformed */
	NK_NTS_E_TRAILING = -11, /* unauthenticated field after the authenticator */
	NK_NTS_E_NO_COOKIE = -12, /* server: request without exactly one cookie */
	NK_NTS_E_COOKIE = -13,  /* server: the cookie callback refused the cookie */
	NK_NTS_E_KEYS = -14,    /* unsupported AEAD id or key length */
	NK_NTS_E_SPACE = -15,   /* output buffer too small / argument out of range */
	NK_NTS_E_RANDOM = -16   /* the system CSPRNG failed */
};

/* Short name ("auth-failed", "uid-mismatch", ...) for logs and tests. */
const char *nk_nts_status_name(int status);

/* Keys of one NTS association (RFC 8915 §5.1). */
struct nk_nts_keys {
	int aead;            /* 15, 16 or 17 */
	size_t key_len;      /* nk_siv_key_len(aead) */
	uint8_t c2s[64];
	uint8_t s2c[64];
};
void nk_nts_keys_wipe(struct nk_nts_keys *k);

/* ---- client ---- */

/* What the client keeps between request and response. */
struct nk_nts_client_state {
	uint8_t uid[NK_NTS_UID_LEN];
	nk_ntp_ts org;            /* our random transmit timestamp */
	unsigned placeholders;
};

/* Build a request into out[0..cap). cookie_len 1..NK_NTS_COOKIE_MAX,
 * placeholders 0..NK_NTS_MAX_PLACEHOLDERS, poll as in nk_ntp_client_hdr().
 * Returns the packet length (> 0) or a negative status. */
long nk_nts_client_request(uint8_t *out, size_t cap, const struct nk_nts_keys *k,
	const uint8_t *cookie, size_t cookie_len, unsigned placeholders,
	int8_t poll, struct nk_nts_client_state *st, struct nk_err *e);

struct nk_nts_cookie {
	const uint8_t *data;   /* points into the verified packet */
	size_t len;
};

struct nk_nts_response {
	struct nk_ntp_hdr hdr;
	char kiss[5];          /* KoD code when NK_NTS_KOD, else "" */
	int authenticated;     /* 1 when the authenticator verified */
	unsigned n_cookies;    /* new cookies (encrypted ones only) */
	struct nk_nts_cookie cookies[NK_NTS_MAX_COOKIES];
	unsigned n_cookies_ignored; /* beyond the maximum, empty or too long */
	unsigned n_unknown;    /* authenticated fields of unknown type, ignored */
	unsigned n_discarded;  /* fields after the authenticator (lenient mode) */
	unsigned n_plain_cookies; /* cookies sent unencrypted: never used */
};

/* Verify a response (see the header comment). pkt is modified in place.
 * Returns NK_NTS_OK, NK_NTS_KOD or a negative status, with e filled.
 * Replay protection needs the caller's help: accept at most one response
 * per request, i.e. forget st once a response verified (a duplicate of the
 * same datagram would verify again against the same state). */
int nk_nts_client_verify(uint8_t *pkt, size_t len, const struct nk_nts_keys *k,
	const struct nk_nts_client_state *st, unsigned flags,
	struct nk_nts_response *resp, struct nk_err *e);

/* ---- server ---- */

/* Turn a cookie (the NTS Cookie field body, padding included) back into
 * keys. Return 0 and fill *keys, or -1 when it is not a valid cookie. */
typedef int (*nk_nts_cookie_fn)(void *arg, const uint8_t *cookie, size_t len,
	struct nk_nts_keys *keys);

struct nk_nts_server_request {
	struct nk_ntp_hdr hdr;
	uint8_t uid[NK_NTS_UID_MAX];
	size_t uid_len;            /* 0 when the request had none */
	size_t cookie_len;         /* body length of the NTS Cookie field */
	unsigned placeholders;     /* valid ones */
	size_t req_len;            /* request length, the response's ceiling */
	struct nk_nts_keys keys;   /* recovered from the cookie; wipe when done */
	unsigned n_discarded;      /* fields after the authenticator */
};

/* Parse and authenticate a request. pkt is modified in place (encrypted
 * fields decrypted). Returns NK_NTS_OK or a negative status; on
 * NK_NTS_E_COOKIE and NK_NTS_E_AUTH the caller SHOULD answer with
 * nk_nts_server_nak(). */
int nk_nts_server_parse(uint8_t *pkt, size_t len, nk_nts_cookie_fn fn,
	void *arg, struct nk_nts_server_request *r, struct nk_err *e);

/* Build the authenticated response. hdr: the caller's server header
 * (stratum, refid, timestamps...). cookies: new cookies for the client
 * (each 1..NK_NTS_COOKIE_MAX octets). Returns the length or a negative
 * status. */
long nk_nts_server_response(uint8_t *out, size_t cap, const struct nk_ntp_hdr *hdr,
	const struct nk_nts_server_request *r, const struct nk_nts_cookie *cookies,
	unsigned n_cookies, struct nk_err *e);

/* Build an NTSN Kiss-o'-Death (RFC 8915 §5.7): leap 3, stratum 0, refid
 * "NTSN", origin = the request's transmit timestamp, the UID echoed when
 * the request had one, no cookie and no authenticator. hdr supplies the
 * receive/transmit timestamps (may be NULL: zero). Returns the length or
 * a negative status. */
long nk_nts_server_nak(uint8_t *out, size_t cap, const struct nk_ntp_hdr *hdr,
	const struct nk_nts_server_request *r, struct nk_err *e);

#endif
