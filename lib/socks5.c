/*
 * socks5: SOCKS5 client, RFC 1928 + RFC 1929 + Tor's extensions.
 * See socks5.h. Section numbers below are RFC 1928's unless noted.
 *
 * No function in this file calls a resolver (getaddrinfo, gethostbyname):
 * addresses are either IP literals (inet_pton) or domain names handed to
 * the proxy as they are.
 */
#include "socks5.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- words */

const char *nk_socks5_rep_str(uint8_t rep)
{
	switch (rep) {
	/* RFC 1928 §6 */
	case 0x00: return "succeeded";
	case 0x01: return "general SOCKS server failure";
	case 0x02: return "connection not allowed by ruleset";
	case 0x03: return "network unreachable";
	case 0x04: return "host unreachable";
	case 0x05: return "connection refused";
	case 0x06: return "TTL expired";
	case 0x07: return "command not supported";
	case 0x08: return "address type not supported";
	/* Tor's ExtendedErrors (tor(1), SocksPort flag ExtendedErrors) */
	case 0xF0: return "onion service descriptor can not be found (Tor)";
	case 0xF1: return "onion service descriptor is invalid (Tor)";
	case 0xF2: return "onion service introduction failed (Tor)";
	case 0xF3: return "onion service rendezvous failed (Tor)";
	case 0xF4: return "onion service missing client authorization (Tor)";
	case 0xF5: return "onion service wrong client authorization (Tor)";
	case 0xF6: return "onion service invalid address (Tor)";
	case 0xF7: return "onion service introduction timed out (Tor)";
	default:   return "unassigned reply code";
	}
}

const char *nk_socks5_method_str(uint8_t m)
{
	if (m == 0x00)
		return "no authentication required";
	if (m == 0x01)
		return "GSSAPI";
	if (m == 0x02)
		return "username/password";
	if (m == 0xFF)
		return "no acceptable methods";
	if (m <= 0x7F)
		return "IANA assigned method";
	return "private method";
}

const char *nk_socks5_cmd_str(uint8_t cmd)
{
	switch (cmd) {
	case NK_SOCKS5_CMD_CONNECT: return "CONNECT";
	case NK_SOCKS5_CMD_BIND:    return "BIND";
	case NK_SOCKS5_CMD_UDP:     return "UDP ASSOCIATE";
	case 0xF0:                  return "RESOLVE (Tor)";
	case 0xF1:                  return "RESOLVE_PTR (Tor)";
	default:                    return "unknown command";
	}
}

/* ------------------------------------------------------------ addresses */

static int domain_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 127 || s[i] == ':')
			return 0;
	return 1;
}

int nk_socks5_addr_set(struct nk_socks5_addr *a, const char *host,
	uint16_t port, struct nk_err *e)
{
	size_t n = strlen(host);

	memset(a, 0, sizeof *a);
	a->port = port;
	/* inet_pton parses literals only; it never consults a resolver. */
	if (inet_pton(AF_INET, host, a->a) == 1) {
		a->atyp = NK_SOCKS5_ATYP_IPV4;
		a->len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, a->a) == 1) {
		a->atyp = NK_SOCKS5_ATYP_IPV6;
		a->len = 16;
		return 0;
	}
	if (!domain_ok(host, n)) {
		if (n == 0 || n > 255)
			nk_errf(e, "target name must be 1 to 255 bytes (got %zu)", n);
		else if (strchr(host, ':') != NULL)
			nk_errf(e, "target '%.64s' is neither an IP address nor a host name "
				"(IPv6 zone or typo?)", host);
		else
			nk_errf(e, "target name '%.64s' contains a space or a non-ASCII byte", host);
		return -1;
	}
	a->atyp = NK_SOCKS5_ATYP_DOMAIN;
	a->len = (uint8_t)n;
	memcpy(a->a, host, n);
	return 0;
}

int nk_socks5_addr_parse(struct nk_socks5_addr *a, const char *hostport,
	uint16_t def_port, struct nk_err *e)
{
	char host[256];
	uint16_t port;

	if (nk_hostport_parse(hostport, host, sizeof host, &port, def_port, e) < 0)
		return -1;
	return nk_socks5_addr_set(a, host, port, e);
}

int nk_socks5_addr_from_sockaddr(struct nk_socks5_addr *a,
	const struct sockaddr *sa, socklen_t salen)
{
	memset(a, 0, sizeof *a);
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
		a->atyp = NK_SOCKS5_ATYP_IPV4;
		a->len = 4;
		memcpy(a->a, &s->sin_addr, 4);
		a->port = ntohs(s->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		a->atyp = NK_SOCKS5_ATYP_IPV6;
		a->len = 16;
		memcpy(a->a, &s->sin6_addr, 16);
		a->port = ntohs(s->sin6_port);
		return 0;
	}
	return -1;
}

int nk_socks5_addr_to_sockaddr(const struct nk_socks5_addr *a,
	struct sockaddr_storage *ss, socklen_t *salen)
{
	memset(ss, 0, sizeof *ss);
	if (a->atyp == NK_SOCKS5_ATYP_IPV4) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, a->a, 4);
		s->sin_port = htons(a->port);
		*salen = sizeof *s;
		return 0;
	}
	if (a->atyp == NK_SOCKS5_ATYP_IPV6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a->a, 16);
		s->sin6_port = htons(a->port);
		*salen = sizeof *s;
		return 0;
	}
	return -1;
}

int nk_socks5_addr_format(char *out, size_t cap, const struct nk_socks5_addr *a)
{
	char h[256];
	int n;

	if (a->atyp == NK_SOCKS5_ATYP_IPV4) {
		inet_ntop(AF_INET, a->a, h, sizeof h);
	} else if (a->atyp == NK_SOCKS5_ATYP_IPV6) {
		inet_ntop(AF_INET6, a->a, h, sizeof h);
	} else if (a->atyp == NK_SOCKS5_ATYP_DOMAIN) {
		size_t i;
		for (i = 0; i < a->len; i++)
			h[i] = (a->a[i] > ' ' && a->a[i] < 127) ? (char)a->a[i] : '?';
		h[a->len] = 0;
	} else {
		snprintf(h, sizeof h, "(ATYP 0x%02x)", a->atyp);
	}
	n = a->atyp == NK_SOCKS5_ATYP_IPV6 ? snprintf(out, cap, "[%s]:%u", h, a->port)
					   : snprintf(out, cap, "%s:%u", h, a->port);
	return (n < 0 || (size_t)n >= cap) ? -1 : n;
}

/* ----------------------------------------------------------------- proxy */

int nk_socks5_proxy_init(struct nk_socks5_proxy *p, const char *host,
	uint16_t port, struct nk_err *e)
{
	struct nk_socks5_addr a;
	const char *lit = host;

	memset(p, 0, sizeof *p);
	p->timeout_ms = NK_SOCKS5_DEFAULT_TIMEOUT_MS;
	if (port == 0) {
		nk_errf(e, "SOCKS5 proxy '%.64s': port 0 is not allowed", host);
		return -1;
	}
	/* The proxy's address is the only one we ever connect to directly; it
	 * must be a literal so that no name lookup happens. "localhost" is
	 * taken to mean 127.0.0.1 without asking the resolver. */
	if (strcmp(host, "localhost") == 0)
		lit = "127.0.0.1";
	if (nk_socks5_addr_set(&a, lit, port, NULL) < 0 || a.atyp == NK_SOCKS5_ATYP_DOMAIN) {
		nk_errf(e, "SOCKS5 proxy '%.64s': must be an IP address or localhost "
			"(ntskit never resolves names itself)", host);
		return -1;
	}
	nk_socks5_addr_to_sockaddr(&a, &p->sa, &p->salen);
	nk_socks5_addr_format(p->name, sizeof p->name, &a);
	return 0;
}

int nk_socks5_proxy_parse(struct nk_socks5_proxy *p, const char *hostport,
	uint16_t def_port, struct nk_err *e)
{
	char host[256];
	uint16_t port;

	if (nk_hostport_parse(hostport, host, sizeof host, &port, def_port, e) < 0)
		return -1;
	return nk_socks5_proxy_init(p, host, port, e);
}

int nk_socks5_set_auth(struct nk_socks5_proxy *p, const char *user,
	const char *pass, struct nk_err *e)
{
	size_t ul = strlen(user), pl = strlen(pass);

	/* RFC 1929 §2: UNAME and PASSWD are 1 to 255 bytes each. */
	if (ul < 1 || ul > NK_SOCKS5_CRED_MAX) {
		nk_errf(e, "SOCKS5 username must be 1 to 255 bytes (got %zu)", ul);
		return -1;
	}
	if (pl < 1 || pl > NK_SOCKS5_CRED_MAX) {
		nk_errf(e, "SOCKS5 password must be 1 to 255 bytes (got %zu)", pl);
		return -1;
	}
	memcpy(p->user, user, ul + 1);
	memcpy(p->pass, pass, pl + 1);
	p->use_auth = 1;
	return 0;
}

int nk_socks5_isolate(struct nk_socks5_proxy *p, struct nk_err *e)
{
	unsigned char r[16];
	char hu[17], hp[17];

	if (nk_random(r, sizeof r) < 0) {
		nk_errf(e, "SOCKS5 stream isolation: no random bytes from the kernel: %s",
			strerror(errno));
		return -1;
	}
	nk_hex_encode(hu, r, 8);
	nk_hex_encode(hp, r + 8, 8);
	snprintf(p->user, sizeof p->user, "ntskit-%s", hu);
	memcpy(p->pass, hp, sizeof hp);
	p->use_auth = 1;
	nk_wipe(r, sizeof r);
	nk_wipe(hp, sizeof hp);
	return 0;
}

void nk_socks5_proxy_wipe(struct nk_socks5_proxy *p)
{
	nk_wipe(p->user, sizeof p->user);
	nk_wipe(p->pass, sizeof p->pass);
	p->use_auth = 0;
}

/* ----------------------------------------------------------- wire format */

int nk_socks5_greeting_encode(uint8_t *out, size_t cap, int use_auth)
{
	/* §3: VER | NMETHODS | METHODS. With credentials we offer only
	 * username/password, so a proxy cannot silently skip the
	 * authentication Tor uses for stream isolation. */
	if (cap < 3)
		return -1;
	out[0] = NK_SOCKS5_VERSION;
	out[1] = 1;
	out[2] = use_auth ? NK_SOCKS5_METHOD_USERPASS : NK_SOCKS5_METHOD_NONE;
	return 3;
}

static int check_version(const uint8_t *in, struct nk_err *e, const char *what)
{
	if (in[0] == NK_SOCKS5_VERSION)
		return 0;
	if (in[0] == 'H' || in[0] == '<')
		nk_errf(e, "%s: not a SOCKS5 server (answer starts with '%c': HTTP?)", what, in[0]);
	else
		nk_errf(e, "%s: not a SOCKS5 answer (version byte 0x%02x, expected 0x05)", what, in[0]);
	return -1;
}

int nk_socks5_method_parse(const uint8_t *in, size_t n, int use_auth,
	struct nk_err *e)
{
	uint8_t want = use_auth ? NK_SOCKS5_METHOD_USERPASS : NK_SOCKS5_METHOD_NONE;

	if (n < 2) {
		nk_errf(e, "method selection: short answer (%zu of 2 bytes)", n);
		return -1;
	}
	if (check_version(in, e, "method selection") < 0)
		return -1;
	if (in[1] == NK_SOCKS5_METHOD_NO_ACCEPTABLE) {
		nk_errf(e, "method selection: proxy accepts none of our methods (offered %s)%s",
			nk_socks5_method_str(want),
			use_auth ? "" : ": it probably wants a username and password");
		return -1;
	}
	if (in[1] != want) {
		nk_errf(e, "method selection: proxy chose 0x%02x (%s), which we did not offer (offered 0x%02x %s)",
			in[1], nk_socks5_method_str(in[1]), want, nk_socks5_method_str(want));
		return -1;
	}
	return in[1];
}

int nk_socks5_auth_encode(uint8_t *out, size_t cap, const char *user,
	const char *pass, struct nk_err *e)
{
	size_t ul = strlen(user), pl = strlen(pass);

	/* RFC 1929 §2: VER=1 | ULEN | UNAME | PLEN | PASSWD */
	if (ul < 1 || ul > 255 || pl < 1 || pl > 255) {
		nk_errf(e, "username and password must be 1 to 255 bytes each");
		return -1;
	}
	if (cap < 3 + ul + pl) {
		nk_errf(e, "username/password request does not fit");
		return -1;
	}
	out[0] = NK_SOCKS5_AUTH_VERSION;
	out[1] = (uint8_t)ul;
	memcpy(out + 2, user, ul);
	out[2 + ul] = (uint8_t)pl;
	memcpy(out + 3 + ul, pass, pl);
	return (int)(3 + ul + pl);
}

int nk_socks5_auth_parse(const uint8_t *in, size_t n, struct nk_err *e)
{
	if (n < 2) {
		nk_errf(e, "authentication: short answer (%zu of 2 bytes)", n);
		return -1;
	}
	/* RFC 1929 §2: VER=1 | STATUS. Some servers answer VER=5; accept it. */
	if (in[0] != NK_SOCKS5_AUTH_VERSION && in[0] != NK_SOCKS5_VERSION) {
		nk_errf(e, "authentication: bad subnegotiation version 0x%02x (expected 0x01)", in[0]);
		return -1;
	}
	if (in[1] != 0) {
		nk_errf(e, "authentication failed: proxy rejected the username/password (status 0x%02x)", in[1]);
		return -1;
	}
	return 0;
}

/* ATYP + address + port, as in §4 requests and §7 headers. */
static int addr_encode(uint8_t *out, size_t cap, const struct nk_socks5_addr *a,
	struct nk_err *e)
{
	size_t n;

	switch (a->atyp) {
	case NK_SOCKS5_ATYP_IPV4:
		n = 1 + 4 + 2;
		break;
	case NK_SOCKS5_ATYP_IPV6:
		n = 1 + 16 + 2;
		break;
	case NK_SOCKS5_ATYP_DOMAIN:
		if (a->len == 0) {
			nk_errf(e, "empty target name");
			return -1;
		}
		n = 1 + 1 + (size_t)a->len + 2;
		break;
	default:
		nk_errf(e, "bad address type 0x%02x", a->atyp);
		return -1;
	}
	if (cap < n) {
		nk_errf(e, "address does not fit");
		return -1;
	}
	*out++ = a->atyp;
	if (a->atyp == NK_SOCKS5_ATYP_DOMAIN) {
		*out++ = a->len;
		memcpy(out, a->a, a->len);
		out += a->len;
	} else {
		memcpy(out, a->a, a->atyp == NK_SOCKS5_ATYP_IPV4 ? 4 : 16);
		out += a->atyp == NK_SOCKS5_ATYP_IPV4 ? 4 : 16;
	}
	out[0] = (uint8_t)(a->port >> 8);
	out[1] = (uint8_t)a->port;
	return (int)n;
}

/* Length of ATYP+ADDR+PORT starting at in[0], or 0 when more bytes are
 * needed to know it (*need set), or -1 for a bad ATYP / empty name. */
static int addr_len(const uint8_t *in, size_t n, size_t *need, struct nk_err *e,
	const char *what)
{
	if (n < 1) {
		*need = 1;
		return 0;
	}
	switch (in[0]) {
	case NK_SOCKS5_ATYP_IPV4:
		return 1 + 4 + 2;
	case NK_SOCKS5_ATYP_IPV6:
		return 1 + 16 + 2;
	case NK_SOCKS5_ATYP_DOMAIN:
		if (n < 2) {
			*need = 2;
			return 0;
		}
		if (in[1] == 0) {
			nk_errf(e, "%s: empty domain name (length 0)", what);
			return -1;
		}
		return 1 + 1 + in[1] + 2;
	default:
		nk_errf(e, "%s: bad address type (ATYP 0x%02x; expected 0x01, 0x03 or 0x04)", what, in[0]);
		return -1;
	}
}

static void addr_decode(const uint8_t *in, struct nk_socks5_addr *a)
{
	size_t off;

	memset(a, 0, sizeof *a);
	a->atyp = in[0];
	if (in[0] == NK_SOCKS5_ATYP_DOMAIN) {
		a->len = in[1];
		memcpy(a->a, in + 2, in[1]);
		off = 2 + (size_t)in[1];
	} else {
		a->len = in[0] == NK_SOCKS5_ATYP_IPV4 ? 4 : 16;
		memcpy(a->a, in + 1, a->len);
		off = 1 + (size_t)a->len;
	}
	a->port = (uint16_t)(in[off] << 8 | in[off + 1]);
}

int nk_socks5_request_encode(uint8_t *out, size_t cap, uint8_t cmd,
	const struct nk_socks5_addr *dst, struct nk_err *e)
{
	int n;

	/* §4: VER | CMD | RSV=0 | ATYP | DST.ADDR | DST.PORT */
	if (cap < 3) {
		nk_errf(e, "request does not fit");
		return -1;
	}
	out[0] = NK_SOCKS5_VERSION;
	out[1] = cmd;
	out[2] = 0;
	n = addr_encode(out + 3, cap - 3, dst, e);
	return n < 0 ? -1 : n + 3;
}

int nk_socks5_reply_parse(const uint8_t *in, size_t n, uint8_t cmd,
	struct nk_socks5_addr *bnd, size_t *need, struct nk_err *e)
{
	int al;
	size_t an = 0;

	/* §6: VER | REP | RSV | ATYP | BND.ADDR | BND.PORT */
	if (n < 2) {
		*need = 2;
		return 0;
	}
	if (check_version(in, e, "reply") < 0)
		return -1;
	if (in[1] != NK_SOCKS5_REP_OK) {
		if (cmd == NK_SOCKS5_CMD_UDP && in[1] == NK_SOCKS5_REP_CMD_UNSUPPORTED)
			nk_errf(e, "the proxy does not relay UDP (reply 0x07 command not "
				"supported; Tor never does: use the TCP relay)");
		else
			nk_errf(e, "reply 0x%02x: %s", in[1], nk_socks5_rep_str(in[1]));
		return -1;
	}
	if (n < 4) {
		*need = 4;
		return 0;
	}
	/* RSV (in[2]) is reserved; it is not checked. */
	al = addr_len(in + 3, n - 3, &an, e, "reply");
	if (al < 0)
		return -1;
	if (al == 0) {
		*need = 3 + an;
		return 0;
	}
	*need = 3 + (size_t)al;
	if (n < *need)
		return 0;
	if (bnd != NULL)
		addr_decode(in + 3, bnd);
	return 1;
}

int nk_socks5_udp_hdr_encode(uint8_t *out, size_t cap,
	const struct nk_socks5_addr *dst, struct nk_err *e)
{
	int n;

	/* §7: RSV(2)=0 | FRAG=0 | ATYP | DST.ADDR | DST.PORT | DATA */
	if (cap < 3) {
		nk_errf(e, "UDP header does not fit");
		return -1;
	}
	out[0] = out[1] = 0;
	out[2] = 0;
	n = addr_encode(out + 3, cap - 3, dst, e);
	return n < 0 ? -1 : n + 3;
}

int nk_socks5_udp_hdr_parse(const uint8_t *in, size_t n,
	struct nk_socks5_addr *src, struct nk_err *e)
{
	int al;
	size_t an = 0;

	if (n < 4) {
		nk_errf(e, "UDP datagram too short for a SOCKS5 header (%zu bytes)", n);
		return -1;
	}
	/* §7: "An implementation that does not support fragmentation MUST
	 * drop any datagram whose FRAG field is other than X'00'." */
	if (in[2] != 0) {
		nk_errf(e, "UDP datagram with FRAG 0x%02x: fragments are not supported", in[2]);
		return -1;
	}
	al = addr_len(in + 3, n - 3, &an, e, "UDP header");
	if (al < 0)
		return -1;
	if (al == 0 || n < 3 + (size_t)al) {
		nk_errf(e, "UDP header: address runs past the end of the %zu-byte datagram", n);
		return -1;
	}
	if (src != NULL)
		addr_decode(in + 3, src);
	return 3 + al;
}

/* ------------------------------------------------------------------- I/O */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
	int64_t l = deadline - now_ms();
	return l < 0 ? 0 : (int)l;
}

/* poll one fd for ev until deadline: 1 ready, 0 timeout, -1 error */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = ev };
		int r = poll(&pf, 1, left_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r;
	}
}

/* Write all n bytes before deadline. 0 or -1 (e: "STEP: why"). */
static int send_all(int fd, const uint8_t *b, size_t n, int64_t deadline,
	const char *step, int timeout_ms, struct nk_err *e)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = send(fd, b + off, n - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLOUT, deadline);
			if (r == 0) {
				nk_errf(e, "%s: could not send within %d ms", step, timeout_ms);
				return -1;
			}
			if (r < 0) {
				nk_errf(e, "%s: poll: %s", step, strerror(errno));
				return -1;
			}
			continue;
		}
		nk_errf(e, "%s: send: %s", step, w < 0 ? strerror(errno) : "wrote nothing");
		return -1;
	}
	return 0;
}

/* Read until *have == want, before deadline. */
static int recv_until(int fd, uint8_t *b, size_t *have, size_t want,
	int64_t deadline, const char *step, int timeout_ms, struct nk_err *e)
{
	while (*have < want) {
		ssize_t r = recv(fd, b + *have, want - *have, 0);
		if (r > 0) {
			*have += (size_t)r;
			continue;
		}
		if (r == 0) {
			nk_errf(e, "%s: proxy closed the connection after %zu of %zu bytes",
				step, *have, want);
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET) {
			nk_errf(e, "%s: proxy reset the connection after %zu of %zu bytes",
				step, *have, want);
			return -1;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int p = wait_fd(fd, POLLIN, deadline);
			if (p == 0) {
				nk_errf(e, "%s: no answer within %d ms (got %zu of %zu bytes)",
					step, timeout_ms, *have, want);
				return -1;
			}
			if (p < 0) {
				nk_errf(e, "%s: poll: %s", step, strerror(errno));
				return -1;
			}
			continue;
		}
		nk_errf(e, "%s: recv: %s", step, strerror(errno));
		return -1;
	}
	return 0;
}

/* Prefix the proxy's name to a message from a lower layer. */
static void fail(struct nk_err *e, const char *proxy, const char *ctx,
	const struct nk_err *why)
{
	if (ctx != NULL)
		nk_errf(e, "SOCKS5 proxy %s: %s: %s", proxy, ctx, why->msg);
	else
		nk_errf(e, "SOCKS5 proxy %s: %s", proxy, why->msg);
}

/* The timeout for one step; a value <= 0 means the default. */
static int step_ms(const struct nk_socks5_proxy *p)
{
	return p->timeout_ms > 0 ? p->timeout_ms : NK_SOCKS5_DEFAULT_TIMEOUT_MS;
}

/* TCP connection to the proxy, non-blocking, with timeout. */
static int tcp_open(const struct nk_socks5_proxy *p, struct nk_err *why)
{
	int fd, err = 0;
	socklen_t el = sizeof err;
	int64_t deadline = now_ms() + step_ms(p);

	fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		nk_errf(why, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&p->sa, p->salen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR) {
		nk_errf(why, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	switch (wait_fd(fd, POLLOUT, deadline)) {
	case 0:
		nk_errf(why, "connect: no connection within %d ms", step_ms(p));
		close(fd);
		return -1;
	case -1:
		nk_errf(why, "connect: poll: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err != 0) {
		nk_errf(why, "connect: %s", strerror(err));
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect, greet (§3) and authenticate (RFC 1929). fd or -1. */
static int handshake(const struct nk_socks5_proxy *p, struct nk_err *e)
{
	struct nk_err why;
	uint8_t b[3 + 2 * NK_SOCKS5_CRED_MAX];
	size_t have = 0;
	int64_t dl;
	int fd, n;

	why.msg[0] = 0;
	fd = tcp_open(p, &why);
	if (fd < 0) {
		fail(e, p->name, NULL, &why);
		return -1;
	}
	/* greeting: its own timeout */
	dl = now_ms() + step_ms(p);
	n = nk_socks5_greeting_encode(b, sizeof b, p->use_auth);
	if (send_all(fd, b, (size_t)n, dl, "greeting", step_ms(p), &why) < 0 ||
	    recv_until(fd, b, &have, 2, dl, "method selection", step_ms(p), &why) < 0 ||
	    nk_socks5_method_parse(b, have, p->use_auth, &why) < 0)
		goto bad;
	if (!p->use_auth)
		return fd;
	/* username/password subnegotiation: its own timeout */
	dl = now_ms() + step_ms(p);
	n = nk_socks5_auth_encode(b, sizeof b, p->user, p->pass, &why);
	if (n < 0)
		goto bad;
	if (send_all(fd, b, (size_t)n, dl, "authentication", step_ms(p), &why) < 0) {
		nk_wipe(b, sizeof b);
		goto bad;
	}
	nk_wipe(b, sizeof b);
	have = 0;
	if (recv_until(fd, b, &have, 2, dl, "authentication", step_ms(p), &why) < 0 ||
	    nk_socks5_auth_parse(b, have, &why) < 0)
		goto bad;
	return fd;
bad:
	fail(e, p->name, NULL, &why);
	close(fd);
	return -1;
}

/* Send a §4 request and read the §6 reply: 0 or -1 (why filled). */
static int request(const struct nk_socks5_proxy *p, int fd, uint8_t cmd,
	const struct nk_socks5_addr *dst, struct nk_socks5_addr *bnd,
	struct nk_err *why)
{
	uint8_t b[NK_SOCKS5_MSG_MAX];
	size_t have = 0, need = 0;
	int64_t dl = now_ms() + step_ms(p);
	int n, r;

	n = nk_socks5_request_encode(b, sizeof b, cmd, dst, why);
	if (n < 0 || send_all(fd, b, (size_t)n, dl, "request", step_ms(p), why) < 0)
		return -1;
	while ((r = nk_socks5_reply_parse(b, have, cmd, bnd, &need, why)) == 0) {
		if (need > sizeof b || need <= have) {        /* cannot happen */
			nk_errf(why, "reply: internal length error");
			return -1;
		}
		if (recv_until(fd, b, &have, need, dl, "reply", step_ms(p), why) < 0)
			return -1;
	}
	return r < 0 ? -1 : 0;
}

static int set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

int nk_socks5_connect(const struct nk_socks5_proxy *p,
	const struct nk_socks5_addr *dst, struct nk_socks5_addr *bnd,
	struct nk_err *e)
{
	struct nk_socks5_addr b;
	struct nk_err why;
	char ctx[300], t[300];
	int fd;

	if (nk_socks5_addr_format(t, sizeof t, dst) < 0)
		snprintf(t, sizeof t, "(target)");
	snprintf(ctx, sizeof ctx, "CONNECT %.200s", t);
	if (dst->port == 0) {
		nk_errf(e, "SOCKS5 proxy %s: %s: port 0 is not a valid target", p->name, ctx);
		return -1;
	}
	fd = handshake(p, e);
	if (fd < 0)
		return -1;
	why.msg[0] = 0;
	if (request(p, fd, NK_SOCKS5_CMD_CONNECT, dst, &b, &why) < 0) {
		fail(e, p->name, ctx, &why);
		close(fd);
		return -1;
	}
	if (set_blocking(fd) < 0) {
		nk_errf(e, "SOCKS5 proxy %s: fcntl: %s", p->name, strerror(errno));
		close(fd);
		return -1;
	}
	if (bnd != NULL)
		*bnd = b;
	return fd;
}

static int is_unspecified(const struct nk_socks5_addr *a)
{
	static const uint8_t z[16];
	return (a->atyp == NK_SOCKS5_ATYP_IPV4 || a->atyp == NK_SOCKS5_ATYP_IPV6) &&
	       memcmp(a->a, z, a->len) == 0;
}

int nk_socks5_udp_open(struct nk_socks5_udp *u, const struct nk_socks5_proxy *p,
	struct nk_err *e)
{
	struct nk_socks5_addr decl, bnd;
	struct sockaddr_storage tl;
	socklen_t tll = sizeof tl;
	struct nk_err why;
	const char *ctx = "UDP ASSOCIATE";

	memset(u, 0, sizeof *u);
	u->tcp = u->udp = -1;
	snprintf(u->proxy, sizeof u->proxy, "%s", p->name);
	why.msg[0] = 0;
	u->tcp = handshake(p, e);
	if (u->tcp < 0)
		return -1;
	/* §7 and dante: the UDP socket is bound before the request, on the
	 * local address of the control connection, and that address:port is
	 * declared as DST, so the relay accepts our datagrams. */
	if (getsockname(u->tcp, (struct sockaddr *)&tl, &tll) < 0) {
		nk_errf(&why, "getsockname: %s", strerror(errno));
		goto bad;
	}
	if (tl.ss_family == AF_INET)
		((struct sockaddr_in *)&tl)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&tl)->sin6_port = 0;
	u->udp = socket(tl.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->udp < 0) {
		nk_errf(&why, "UDP socket: %s", strerror(errno));
		goto bad;
	}
	if (bind(u->udp, (struct sockaddr *)&tl, tll) < 0) {
		nk_errf(&why, "UDP bind: %s", strerror(errno));
		goto bad;
	}
	u->locallen = sizeof u->local;
	if (getsockname(u->udp, (struct sockaddr *)&u->local, &u->locallen) < 0) {
		nk_errf(&why, "UDP getsockname: %s", strerror(errno));
		goto bad;
	}
	nk_socks5_addr_from_sockaddr(&decl, (struct sockaddr *)&u->local, u->locallen);
	if (p->udp_declare_any) {
		memset(decl.a, 0, sizeof decl.a);
		decl.port = 0;
	}
	if (request(p, u->tcp, NK_SOCKS5_CMD_UDP, &decl, &bnd, &why) < 0)
		goto bad;
	/* BND.ADDR:BND.PORT is the relay. An unspecified BND.ADDR means "the
	 * address you reached me at" (common practice): use the proxy's. */
	if (bnd.atyp == NK_SOCKS5_ATYP_DOMAIN) {
		char t[300];
		nk_socks5_addr_format(t, sizeof t, &bnd);
		nk_errf(&why, "relay named by a domain (%.200s); ntskit does not resolve names", t);
		goto bad;
	}
	if (bnd.port == 0) {
		nk_errf(&why, "reply names relay port 0");
		goto bad;
	}
	if (is_unspecified(&bnd)) {
		uint16_t port = bnd.port;
		nk_socks5_addr_from_sockaddr(&bnd, (const struct sockaddr *)&p->sa, p->salen);
		bnd.port = port;
	}
	nk_socks5_addr_to_sockaddr(&bnd, &u->relay, &u->relaylen);
	nk_socks5_addr_format(u->relay_name, sizeof u->relay_name, &bnd);
	if (u->relay.ss_family != tl.ss_family) {
		nk_errf(&why, "relay %s is of another address family than our UDP socket",
			u->relay_name);
		goto bad;
	}
	return 0;
bad:
	fail(e, p->name, ctx, &why);
	nk_socks5_udp_close(u);
	return -1;
}

/* §7: "A UDP association terminates when the TCP connection that the UDP
 * ASSOCIATE request arrived on terminates." 1 while the control connection
 * is open (anything the proxy sends on it is discarded), else 0. */
static int control_alive(struct nk_socks5_udp *u)
{
	uint8_t junk[64];
	ssize_t r;

	if (u->tcp < 0)
		return 0;
	for (;;) {
		r = recv(u->tcp, junk, sizeof junk, MSG_DONTWAIT);
		if (r > 0)
			continue;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		close(u->tcp);          /* EOF or error: the association is over */
		u->tcp = -1;
		return 0;
	}
}

int nk_socks5_udp_send(struct nk_socks5_udp *u, const struct nk_socks5_addr *dst,
	const void *data, size_t len, struct nk_err *e)
{
	uint8_t h[NK_SOCKS5_UDP_HDR_MAX];
	struct nk_err why;
	struct iovec iov[2];
	struct msghdr m;
	int hl;
	ssize_t w;

	if (u->udp < 0 || !control_alive(u)) {
		nk_errf(e, "SOCKS5 proxy %s: UDP association ended: the control connection is closed",
			u->proxy);
		return -1;
	}
	hl = nk_socks5_udp_hdr_encode(h, sizeof h, dst, &why);
	if (hl < 0) {
		fail(e, u->proxy, "UDP send", &why);
		return -1;
	}
	if (len > 65507 - (size_t)hl) {
		nk_errf(e, "SOCKS5 proxy %s: UDP send: %zu bytes do not fit in a datagram", u->proxy, len);
		return -1;
	}
	iov[0].iov_base = h;
	iov[0].iov_len = (size_t)hl;
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	memset(&m, 0, sizeof m);
	m.msg_name = &u->relay;
	m.msg_namelen = u->relaylen;
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	do
		w = sendmsg(u->udp, &m, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		nk_errf(e, "SOCKS5 proxy %s: UDP send to relay %s: %s", u->proxy,
			u->relay_name, strerror(errno));
		return -1;
	}
	if ((size_t)w != (size_t)hl + len) {
		nk_errf(e, "SOCKS5 proxy %s: UDP send to relay %s: short write", u->proxy,
			u->relay_name);
		return -1;
	}
	return 0;
}

static int same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return 0;
}

long nk_socks5_udp_recv(struct nk_socks5_udp *u, void *buf, size_t cap,
	struct nk_socks5_addr *src, int timeout_ms, struct nk_err *e)
{
	int64_t dl = now_ms() + timeout_ms;
	uint8_t *b = buf;

	if (u->tcp < 0 || u->udp < 0) {
		nk_errf(e, "SOCKS5 proxy %s: UDP association is closed", u->proxy);
		return -1;
	}
	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = u->udp, .events = POLLIN },
			{ .fd = u->tcp, .events = POLLIN },
		};
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		struct nk_err why;
		ssize_t r;
		int hl, pr;

		pr = poll(pf, 2, left_ms(dl));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			nk_errf(e, "SOCKS5 proxy %s: UDP receive: poll: %s", u->proxy, strerror(errno));
			return -1;
		}
		if (pr == 0) {
			nk_errf(e, "SOCKS5 proxy %s: UDP receive: no datagram from relay %s within %d ms",
				u->proxy, u->relay_name, timeout_ms);
			return -1;
		}
		if (pf[1].revents != 0 && !control_alive(u)) {
			nk_errf(e, "SOCKS5 proxy %s: UDP association ended: proxy closed the control connection",
				u->proxy);
			return -1;
		}
		if (pf[0].revents == 0)
			continue;
		r = recvfrom(u->udp, b, cap, MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			nk_errf(e, "SOCKS5 proxy %s: UDP receive: %s", u->proxy, strerror(errno));
			return -1;
		}
		if (!same_sockaddr(&from, &u->relay)) {
			struct nk_socks5_addr fa;
			char t[80] = "(unknown)";
			if (nk_socks5_addr_from_sockaddr(&fa, (struct sockaddr *)&from, fl) == 0)
				nk_socks5_addr_format(t, sizeof t, &fa);
			nk_errf(e, "SOCKS5 proxy %s: dropped a %zd-byte UDP datagram from %s: not the relay %s",
				u->proxy, r, t, u->relay_name);
			return NK_SOCKS5_DROPPED;
		}
		if ((size_t)r > cap) {
			nk_errf(e, "SOCKS5 proxy %s: dropped a %zd-byte UDP datagram: larger than the %zu-byte buffer",
				u->proxy, r, cap);
			return NK_SOCKS5_DROPPED;
		}
		hl = nk_socks5_udp_hdr_parse(b, (size_t)r, src, &why);
		if (hl < 0) {
			nk_errf(e, "SOCKS5 proxy %s: dropped a UDP datagram from relay %s: %s",
				u->proxy, u->relay_name, why.msg);
			return NK_SOCKS5_DROPPED;
		}
		memmove(b, b + hl, (size_t)r - (size_t)hl);
		return (long)((size_t)r - (size_t)hl);
	}
}

void nk_socks5_udp_close(struct nk_socks5_udp *u)
{
	if (u->udp >= 0)
		close(u->udp);
	if (u->tcp >= 0)
		close(u->tcp);
	u->udp = u->tcp = -1;
}
