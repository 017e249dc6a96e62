/*
 * acl: nts-serve's client allow/deny rules (nts-serve(8), ACCESS CONTROL),
 * the [serve] allow and deny keys and the --allow/--deny flags.
 *
 * Each rule is a CIDR block (IPv4 or IPv6) or "all". A client address is
 * decided by the matching rule with the LONGEST prefix; among matching
 * rules of the same prefix length, the one given LAST wins. An address no
 * rule matches is allowed when there is no allow rule at all (deny rules
 * only, or none: everyone else is served), and denied as soon as one allow
 * rule exists. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked as
 * the IPv4 address. The same rules apply to NTP over UDP, the TCP transport
 * and NTS-KE. Lookups are a scan of at most NK_CFG_MAX_ACL rules, no
 * allocation. Header-only (static inline), so that every part of nts-serve
 * and the unit tests that include those parts need no extra object.
 */
#ifndef NK_SERVE_ACL_H
#define NK_SERVE_ACL_H

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"

struct nk_acl {
	const struct nk_cfg_acl *rule;
	size_t n;
	int has_allow;
};

/* The rules (kept by the caller) in order. */
static inline void nk_acl_init(struct nk_acl *a, const struct nk_cfg_acl *rule, size_t n)
{
	a->rule = rule;
	a->n = n;
	a->has_allow = 0;
	for (size_t i = 0; i < n; i++)
		if (rule[i].allow)
			a->has_allow = 1;
}

/* Whether the first prefix bits of x and net agree. */
static inline int nk_acl_prefix_match(const uint8_t *x, const uint8_t *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(x, net, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((x[full] ^ net[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

/* 1: serve this client; 0: refuse it. */
static inline int nk_acl_allowed(const struct nk_acl *a, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *x;
	int family, best = -1, verdict;

	if (a->n == 0)
		return 1;
	if (sa->sa_family == AF_INET) {
		x = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		family = 4;
	} else if (sa->sa_family == AF_INET6) {
		x = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		family = 6;
		if (memcmp(x, mapped, sizeof mapped) == 0) {
			x += 12;
			family = 4;
		}
	} else {
		return 0;
	}
	verdict = !a->has_allow;
	for (size_t i = 0; i < a->n; i++) {
		const struct nk_cfg_acl *r = &a->rule[i];

		if (r->family != 0 && (r->family != family || !nk_acl_prefix_match(x, r->addr, r->prefix)))
			continue;
		/* >=: of two rules as specific, the later one wins */
		if ((int)r->prefix >= best) {
			best = r->prefix;
			verdict = r->allow;
		}
	}
	return verdict;
}

#endif
