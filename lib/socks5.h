/*
 * socks5: a SOCKS version 5 client (RFC 1928) with username/password
 * authentication (RFC 1929) and Tor's extensions (socks-extensions.txt:
 * extended reply codes 0xF0..0xF7, stream isolation by IsolateSOCKSAuth).
 *
 * Anonymity rule: this module NEVER resolves a name. A target given by name
 * is sent to the proxy as ATYP 0x03 (domain) and the proxy resolves it; a
 * target given as an IP literal is sent as ATYP 0x01 (IPv4) or 0x04 (IPv6).
 * The proxy's own address must be an IP literal; "localhost" is accepted
 * and taken as 127.0.0.1 without asking any resolver.
 *
 * Layers, so that everything that parses proxy bytes can be unit-tested on
 * plain buffers:
 *   1. wire format: nk_socks5_*_encode() / *_parse(), no I/O, no allocation;
 *   2. blocking I/O with a timeout on every step (TCP connect, greeting,
 *      authentication, request; UDP receive), poll()-based, EINTR- and
 *      partial-read/-write-safe:
 *        nk_socks5_connect()  CONNECT; returns the connected fd, on which
 *                             the caller then runs TLS (or anything else);
 *        nk_socks5_udp_open() UDP ASSOCIATE (§7); nk_socks5_udp_send() /
 *                             _recv() add / check the §7 UDP header;
 *                             the association lives while the control TCP
 *                             connection lives (nk_socks5_udp_close()).
 *
 * Errors: every failing function fills struct nk_err with ONE line naming
 * the proxy, the step and what was wrong, e.g.
 *   "SOCKS5 proxy 127.0.0.1:9050: CONNECT x.onion:4460: reply 0xF0: onion
 *    service descriptor can not be found (Tor)".
 */
#ifndef NK_SOCKS5_H
#define NK_SOCKS5_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util.h"

#define NK_SOCKS5_VERSION      0x05
#define NK_SOCKS5_AUTH_VERSION 0x01    /* RFC 1929 subnegotiation version */

/* RFC 1928 §3 methods */
#define NK_SOCKS5_METHOD_NONE     0x00
#define NK_SOCKS5_METHOD_GSSAPI   0x01
#define NK_SOCKS5_METHOD_USERPASS 0x02
#define NK_SOCKS5_METHOD_NO_ACCEPTABLE 0xFF

/* RFC 1928 §4 commands */
#define NK_SOCKS5_CMD_CONNECT 0x01
#define NK_SOCKS5_CMD_BIND    0x02
#define NK_SOCKS5_CMD_UDP     0x03

/* RFC 1928 §4/§5 address types */
#define NK_SOCKS5_ATYP_IPV4   0x01
#define NK_SOCKS5_ATYP_DOMAIN 0x03
#define NK_SOCKS5_ATYP_IPV6   0x04

/* RFC 1928 §6 reply codes; 0xF0..0xF7 are Tor's ExtendedErrors */
#define NK_SOCKS5_REP_OK              0x00
#define NK_SOCKS5_REP_CMD_UNSUPPORTED 0x07

/* Sizes: longest request/reply is 4 + 1 + 255 + 2 bytes; longest UDP
 * header (§7) is 2 + 1 + 1 + 1 + 255 + 2 bytes. */
#define NK_SOCKS5_MSG_MAX     262
#define NK_SOCKS5_UDP_HDR_MAX 262
#define NK_SOCKS5_CRED_MAX    255       /* RFC 1929: 1..255 bytes */
#define NK_SOCKS5_DEFAULT_TIMEOUT_MS 10000

/* Return value of nk_socks5_udp_recv() for one datagram that was dropped
 * (not from the relay, FRAG != 0, bad header); e says which and why. */
#define NK_SOCKS5_DROPPED (-2)

/* A SOCKS address (DST or BND): an IPv4 or IPv6 address, or a domain name
 * of 1..255 bytes (not NUL-terminated in a[], len gives its length). */
struct nk_socks5_addr {
	uint8_t atyp;          /* NK_SOCKS5_ATYP_* */
	uint8_t len;           /* 4, 16, or the domain's length (1..255) */
	uint8_t a[255];
	uint16_t port;         /* host order */
};

/* The proxy to talk to. Fill with nk_socks5_proxy_init(), then optionally
 * nk_socks5_set_auth() or nk_socks5_isolate(). Plain data: copying it is
 * fine (one copy per time source for isolation). */
struct nk_socks5_proxy {
	struct sockaddr_storage sa;     /* proxy address (from a literal) */
	socklen_t salen;
	char name[64];                  /* "127.0.0.1:9050", for messages */
	char user[NK_SOCKS5_CRED_MAX + 1], pass[NK_SOCKS5_CRED_MAX + 1];
	int use_auth;                   /* 1: offer only username/password */
	int timeout_ms;                 /* for each step (<= 0: 10000) */
	int udp_declare_any;            /* 1: UDP ASSOCIATE declares 0.0.0.0:0
	                                   instead of our UDP socket's address */
};

/* A UDP association (RFC 1928 §7). */
struct nk_socks5_udp {
	int tcp;                        /* control connection; -1 when closed */
	int udp;                        /* our UDP socket */
	struct sockaddr_storage relay;  /* where datagrams go and must come from */
	socklen_t relaylen;
	struct sockaddr_storage local;  /* our UDP socket's address */
	socklen_t locallen;
	char proxy[64];                 /* proxy name for messages */
	char relay_name[64];            /* relay as text, for messages */
};

/* --- setup ------------------------------------------------------------ */

/* host must be an IPv4/IPv6 literal or "localhost" (→ 127.0.0.1); no
 * resolver is used. port 1..65535. Clears credentials, timeout default. */
int nk_socks5_proxy_init(struct nk_socks5_proxy *p, const char *host,
	uint16_t port, struct nk_err *e);
/* Same from "HOST:PORT" / "[V6]:PORT" (def_port used when no port). */
int nk_socks5_proxy_parse(struct nk_socks5_proxy *p, const char *hostport,
	uint16_t def_port, struct nk_err *e);
/* Username/password (RFC 1929): each 1..255 bytes, no NUL. */
int nk_socks5_set_auth(struct nk_socks5_proxy *p, const char *user,
	const char *pass, struct nk_err *e);
/* Tor stream isolation (IsolateSOCKSAuth): a fresh random username
 * "ntskit-<16 hex>" and password "<16 hex>" from the kernel CSPRNG. Call it
 * on a per-source copy of the proxy, once per run: different credentials
 * make Tor use different circuits. */
int nk_socks5_isolate(struct nk_socks5_proxy *p, struct nk_err *e);
/* Wipe credentials. */
void nk_socks5_proxy_wipe(struct nk_socks5_proxy *p);

/* Target address: an IP literal gives ATYP IPv4/IPv6, anything else is a
 * domain name for the proxy to resolve (1..255 printable ASCII bytes, no
 * space). Never resolves. port may be 0 only for UDP ASSOCIATE's DST. */
int nk_socks5_addr_set(struct nk_socks5_addr *a, const char *host,
	uint16_t port, struct nk_err *e);
/* Same from "HOST:PORT" / "[V6]:PORT" (def_port used when no port). */
int nk_socks5_addr_parse(struct nk_socks5_addr *a, const char *hostport,
	uint16_t def_port, struct nk_err *e);
/* From / to a socket address (IPv4 or IPv6 only). to_sockaddr fails for
 * a domain name. 0 or -1. */
int nk_socks5_addr_from_sockaddr(struct nk_socks5_addr *a,
	const struct sockaddr *sa, socklen_t salen);
int nk_socks5_addr_to_sockaddr(const struct nk_socks5_addr *a,
	struct sockaddr_storage *ss, socklen_t *salen);
/* "host:port" ("[v6]:port"); a domain with unprintable bytes is shown
 * with '?' in their place. Returns the length or -1 when it does not fit. */
int nk_socks5_addr_format(char *out, size_t cap, const struct nk_socks5_addr *a);

/* --- words -------------------------------------------------------------- */

/* Reply code in words: RFC 1928 §6 for 0x00..0x08, "(Tor)" for Tor's
 * extended codes 0xF0..0xF7, "unassigned reply code" otherwise. */
const char *nk_socks5_rep_str(uint8_t rep);
/* Method in words (RFC 1928 §3). */
const char *nk_socks5_method_str(uint8_t method);
/* Command in words ("CONNECT", "BIND", "UDP ASSOCIATE", ...). */
const char *nk_socks5_cmd_str(uint8_t cmd);

/* --- wire format (no I/O) ----------------------------------------------- */

/* Greeting (§3): VER NMETHODS METHODS. Offers only 0x02 when use_auth,
 * else only 0x00. Returns bytes written (3) or -1 if cap is too small. */
int nk_socks5_greeting_encode(uint8_t *out, size_t cap, int use_auth);
/* Method selection (§3), exactly 2 bytes. Returns the selected method when
 * it is the one offered, else -1 (0xFF, wrong version, not offered...). */
int nk_socks5_method_parse(const uint8_t *in, size_t n, int use_auth,
	struct nk_err *e);
/* Username/password request (RFC 1929 §2). Returns length or -1. */
int nk_socks5_auth_encode(uint8_t *out, size_t cap, const char *user,
	const char *pass, struct nk_err *e);
/* Username/password response, exactly 2 bytes: 0 when STATUS is 0. */
int nk_socks5_auth_parse(const uint8_t *in, size_t n, struct nk_err *e);
/* Request (§4): VER CMD RSV ATYP DST.ADDR DST.PORT. Returns length or -1. */
int nk_socks5_request_encode(uint8_t *out, size_t cap, uint8_t cmd,
	const struct nk_socks5_addr *dst, struct nk_err *e);

/* Reply (§6) to command cmd, parsed from the bytes received so far:
 *   1  complete and REP = succeeded: *bnd is set, *need = reply length;
 *   0  incomplete: read until n == *need and call again;
 *  -1  error (wrong version, REP != 0 (in words; 0x07 to UDP ASSOCIATE
 *      says the proxy does not relay UDP), bad ATYP, empty domain).
 * A failure code is reported as soon as the 2 bytes VER REP are there. */
int nk_socks5_reply_parse(const uint8_t *in, size_t n, uint8_t cmd,
	struct nk_socks5_addr *bnd, size_t *need, struct nk_err *e);

/* UDP request header (§7): RSV(2)=0 FRAG=0 ATYP DST.ADDR DST.PORT.
 * Returns header length or -1. */
int nk_socks5_udp_hdr_encode(uint8_t *out, size_t cap,
	const struct nk_socks5_addr *dst, struct nk_err *e);
/* Parse the header of a datagram of n bytes: returns the header length
 * (data starts there) and fills *src, or -1 (too short, FRAG != 0, bad
 * ATYP, address past the end). RSV is not checked. */
int nk_socks5_udp_hdr_parse(const uint8_t *in, size_t n,
	struct nk_socks5_addr *src, struct nk_err *e);

/* --- blocking I/O, each step with p->timeout_ms --------------------------- */

/* CONNECT to dst through the proxy. Returns the connected socket (blocking
 * mode, close-on-exec) ready for application data, or -1. *bnd (may be
 * NULL) receives BND.ADDR:BND.PORT. */
int nk_socks5_connect(const struct nk_socks5_proxy *p,
	const struct nk_socks5_addr *dst, struct nk_socks5_addr *bnd,
	struct nk_err *e);

/* UDP ASSOCIATE: connects to the proxy, binds a UDP socket on the local
 * address of that connection, declares it as DST (dante drops datagrams
 * from any other source), and records the relay (BND; an unspecified
 * BND.ADDR 0.0.0.0 / :: means the proxy's own address). 0 or -1. */
int nk_socks5_udp_open(struct nk_socks5_udp *u, const struct nk_socks5_proxy *p,
	struct nk_err *e);
/* Send data to dst (an IP or a name the proxy resolves) through the relay.
 * 0, or -1 (also when the proxy has closed the control connection). */
int nk_socks5_udp_send(struct nk_socks5_udp *u, const struct nk_socks5_addr *dst,
	const void *data, size_t len, struct nk_err *e);
/* Wait up to timeout_ms for one datagram from the relay. The data (header
 * removed) is moved to the start of buf; *src (may be NULL) gets the
 * origin the relay names. Returns its length, NK_SOCKS5_DROPPED for a
 * datagram that was dropped (e says why; call again), or -1 on timeout,
 * closed control connection or socket error. */
long nk_socks5_udp_recv(struct nk_socks5_udp *u, void *buf, size_t cap,
	struct nk_socks5_addr *src, int timeout_ms, struct nk_err *e);
/* End the association (closes both sockets). Safe to call twice. */
void nk_socks5_udp_close(struct nk_socks5_udp *u);

#endif
