/*
 * tlscert: trust stores, chain validation, host name checks and server
 * credentials for the TLS 1.3 engine (see tlscert.h).
 *
 * What nk_cert_validate checks, in this order:
 *  1. every certificate parses with the small DER reader below (bounds
 *     checked at every step): TBSCertificate, issuer, validity, subject,
 *     extensions; the leaf's subjectAltName and extKeyUsage are kept;
 *  2. the validity window (RFC 5280 §4.1.2.5: notBefore <= t <= notAfter,
 *     inclusive) of every certificate from the leaf up to the one whose
 *     issuer is a trust anchor (certificates after it are not part of the
 *     path and are ignored, as BearSSL ignores them); skipped when
 *     skip_window is set;
 *  3. on the path of a chain that reaches an anchor (see cert_policy()):
 *     no MD2/MD4/MD5/SHA-1 signature on any certificate whose signature is
 *     checked (a self-signed anchor's own signature never is, so a SHA-1
 *     root stays usable), inner and outer signature algorithms equal, RSA
 *     keys of at least 2048 bits, the leaf not a CA (basicConstraints cA),
 *     an intermediate's extKeyUsage, if present, includes serverAuth
 *     (anyExtendedKeyUsage alone does not do). A directly trusted leaf
 *     (non-CA anchor, the same key) is the anchor: neither its signature
 *     nor its key size is checked;
 *  4. the chain through br_x509_minimal: issuer/subject DN chaining,
 *     signatures up to a trust anchor (or direct trust of the leaf's key
 *     for a non-CA anchor), basicConstraints CA on issuers, keyUsage,
 *     unknown critical extensions refused. BearSSL
 *     also checks each window against the time given to it: t itself, or,
 *     with skip_window, a time inside every window of the path (the latest
 *     notBefore, which must not be after the earliest notAfter; when the
 *     windows do not overlap at all the chain is refused as malformed,
 *     since no single time makes it valid). A certificate with critical
 *     nameConstraints, which br_x509_minimal does not implement and would
 *     refuse, cuts the chain in two runs: see nk_cert_validate;
 *  5. nameConstraints (dNSName, iPAddress; RFC 5280 §4.2.1.10) of every CA
 *     of the path and of the anchor that verified it, critical or not, on
 *     the leaf's subjectAltName entries (see nc_apply()); the anchor's RSA
 *     key size;
 *  6. the leaf key can sign (keyUsage digitalSignature when present) and, if
 *     the leaf has extKeyUsage, it contains id-kp-serverAuth or
 *     anyExtendedKeyUsage (RFC 5280 §4.2.1.12);
 *  7. the host name (RFC 9525 §6.3): DNS-IDs and IP-IDs in subjectAltName
 *     only, never the CN; see name_matches().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlscert.h"
#include "ec.h"

/* ------------------------------------------------------- DER reader */

struct span {
	const unsigned char *p;
	size_t n;
};

/* Read one TLV from *in (advancing it): tag (low-tag-number form only),
 * definite length (short form or 1..4 length octets, minimal), value span.
 * 0 or -1. */
static int der_read(struct span *in, unsigned *tag, struct span *val)
{
	size_t off = 0, len;
	if (in->n < 2)
		return -1;
	*tag = in->p[off++];
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	unsigned b = in->p[off++];
	if (b < 0x80) {
		len = b;
	} else {
		unsigned k = b & 0x7f;
		if (k == 0 || k > 4 || in->n - off < k)
			return -1;           /* indefinite length or too long */
		len = 0;
		for (unsigned i = 0; i < k; i++)
			len = (len << 8) | in->p[off++];
		if (len < 0x80 || (k > 1 && in->p[off - k] == 0))
			return -1;           /* not minimal */
	}
	if (len > in->n - off)
		return -1;
	val->p = in->p + off;
	val->n = len;
	in->p += off + len;
	in->n -= off + len;
	return 0;
}

/* Read a TLV that must have tag 'want'. */
static int der_expect(struct span *in, unsigned want, struct span *val)
{
	unsigned tag;
	return der_read(in, &tag, val) == 0 && tag == want ? 0 : -1;
}

static int span_eq(struct span a, const void *b, size_t n)
{
	return a.n == n && memcmp(a.p, b, n) == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), after H. Hinnant. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const unsigned char *p, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

/* Time ::= UTCTime (YYMMDDHHMMSSZ) | GeneralizedTime (YYYYMMDDHHMMSSZ),
 * the forms RFC 5280 §4.1.2.5 allows; to Unix seconds. */
static int der_time(struct span *in, int64_t *out)
{
	unsigned tag, y, mo, d, h, mi, s;
	struct span v;
	if (der_read(in, &tag, &v) != 0)
		return -1;
	const unsigned char *p = v.p;
	if (tag == 0x17 && v.n == 13) {
		if (digits(p, 2, &y) != 0)
			return -1;
		y += y < 50 ? 2000 : 1900;   /* RFC 5280 §4.1.2.5.1 */
		p += 2;
	} else if (tag == 0x18 && v.n == 15) {
		if (digits(p, 4, &y) != 0)
			return -1;
		p += 4;
	} else {
		return -1;
	}
	if (digits(p, 2, &mo) || digits(p + 2, 2, &d) || digits(p + 4, 2, &h)
		|| digits(p + 6, 2, &mi) || digits(p + 8, 2, &s) || p[10] != 'Z')
		return -1;
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

/* What we read from one certificate. */
struct certinfo {
	struct span issuer, subject;   /* whole Name TLVs' contents */
	struct span issuer_tlv, subject_tlv; /* with tag+length, as BearSSL stores DNs */
	int64_t nb, na;
	int has_san, has_eku;
	struct span san, eku;          /* contents of the extnValue OCTET STRINGs */
	struct span tbs_tlv;           /* the TBSCertificate as signed (tag and length too) */
	struct span sigalg_in, sigalg_out; /* signature AlgorithmIdentifier TLVs: TBS, outer */
	struct span sigoid;            /* the outer algorithm's OID contents */
	struct span sig;               /* signatureValue BIT STRING contents */
	struct span spki;              /* SubjectPublicKeyInfo contents */
	int has_bc, bc_ca;
	long bc_pathlen;               /* -1: none */
	int has_ku;
	unsigned ku0;                  /* first octet of the KeyUsage bits */
	int has_nc, nc_critical;
	struct span nc;                /* nameConstraints extnValue contents */
	int other_critical;            /* a critical extension br_x509_minimal does not know */
};

static const unsigned char OID_SAN[] = { 0x55, 0x1d, 0x11 };
static const unsigned char OID_EKU[] = { 0x55, 0x1d, 0x25 };
static const unsigned char OID_KP_SERVERAUTH[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };
static const unsigned char OID_ANY_EKU[] = { 0x55, 0x1d, 0x25, 0x00 };
static const unsigned char OID_BC[] = { 0x55, 0x1d, 0x13 };
static const unsigned char OID_KU[] = { 0x55, 0x1d, 0x0f };
static const unsigned char OID_NC[] = { 0x55, 0x1d, 0x1e };

/* Extensions br_x509_minimal processes or ignores even when critical
 * (BearSSL 0.6, x509_minimal.t0): basicConstraints, keyUsage,
 * subjectAltName, authority/subjectKeyIdentifier, issuerAltName,
 * subjectDirectoryAttributes, cRLDistributionPoints, freshestCRL,
 * authority/subjectInfoAccess. Any other critical extension makes it
 * refuse the certificate (certificatePolicies is refused here too when
 * critical, which is stricter than BearSSL). */
static int ext_known_to_bearssl(struct span oid)
{
	static const unsigned char ce[] = { 0x13, 0x0f, 0x11, 0x23, 0x0e, 0x12, 0x09, 0x1f, 0x2e };
	static const unsigned char pe[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01 };
	if (oid.n == 3 && oid.p[0] == 0x55 && oid.p[1] == 0x1d)
		return memchr(ce, oid.p[2], sizeof ce) != NULL;
	return oid.n == sizeof pe + 1 && memcmp(oid.p, pe, sizeof pe) == 0
		&& (oid.p[sizeof pe] == 0x01 || oid.p[sizeof pe] == 0x0b);
}

/* BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE,
 * pathLenConstraint INTEGER (0..MAX) OPTIONAL }. 0 or -1. */
static int parse_bc(struct span v, int *ca, long *pathlen)
{
	struct span seq, x;
	*ca = 0;
	*pathlen = -1;
	if (der_expect(&v, 0x30, &seq) != 0 || v.n != 0)
		return -1;
	if (seq.n > 0 && seq.p[0] == 0x01) {
		if (der_expect(&seq, 0x01, &x) != 0 || x.n != 1)
			return -1;
		*ca = x.p[0] != 0;
	}
	if (seq.n > 0) {
		if (der_expect(&seq, 0x02, &x) != 0 || x.n < 1 || x.n > 3 || (x.p[0] & 0x80))
			return -1;
		long pl = 0;
		for (size_t i = 0; i < x.n; i++)
			pl = (pl << 8) | x.p[i];
		*pathlen = pl;
	}
	return seq.n == 0 ? 0 : -1;
}

/* The TLV (tag, length, value) starting at in->p, as a span, advancing in. */
static int der_tlv(struct span *in, unsigned want, struct span *tlv, struct span *val)
{
	const unsigned char *start = in->p;
	if (der_expect(in, want, val) != 0)
		return -1;
	tlv->p = start;
	tlv->n = (size_t)(in->p - start);
	return 0;
}

/* RFC 5280 §4.1 Certificate / TBSCertificate. 0 or -1 with *why set. */
static int cert_parse(const unsigned char *der, size_t len, struct certinfo *ci, const char **why)
{
	struct span in = { der, len }, cert, tbs, v;
	unsigned tag;
	memset(ci, 0, sizeof *ci);
	*why = "not a DER SEQUENCE";
	if (der_expect(&in, 0x30, &cert) != 0 || in.n != 0)
		return -1;
	*why = "bad TBSCertificate";
	if (der_tlv(&cert, 0x30, &ci->tbs_tlv, &tbs) != 0)
		return -1;
	if (tbs.n > 0 && tbs.p[0] == 0xa0 && der_read(&tbs, &tag, &v) != 0)   /* version */
		return -1;
	if (der_expect(&tbs, 0x02, &v) != 0 || der_tlv(&tbs, 0x30, &ci->sigalg_in, &v) != 0) /* serial, sigalg */
		return -1;
	*why = "bad issuer";
	if (der_tlv(&tbs, 0x30, &ci->issuer_tlv, &ci->issuer) != 0)
		return -1;
	*why = "bad validity";
	struct span val;
	if (der_expect(&tbs, 0x30, &val) != 0 || der_time(&val, &ci->nb) != 0
		|| der_time(&val, &ci->na) != 0 || val.n != 0)
		return -1;
	*why = "bad subject";
	if (der_tlv(&tbs, 0x30, &ci->subject_tlv, &ci->subject) != 0)
		return -1;
	*why = "bad subjectPublicKeyInfo";
	if (der_expect(&tbs, 0x30, &ci->spki) != 0)
		return -1;
	ci->bc_pathlen = -1;
	*why = "bad extensions";
	while (tbs.n > 0) {
		if (der_read(&tbs, &tag, &v) != 0)
			return -1;
		if (tag == 0x81 || tag == 0x82)        /* issuer/subjectUniqueID */
			continue;
		if (tag != 0xa3)
			return -1;
		struct span exts;
		if (der_expect(&v, 0x30, &exts) != 0 || v.n != 0)
			return -1;
		while (exts.n > 0) {
			struct span ext, oid, val2;
			if (der_expect(&exts, 0x30, &ext) != 0 || der_expect(&ext, 0x06, &oid) != 0)
				return -1;
			int crit = 0;
			if (ext.n > 0 && ext.p[0] == 0x01) {
				if (der_expect(&ext, 0x01, &v) != 0 || v.n != 1)
					return -1;     /* critical BOOLEAN */
				crit = v.p[0] != 0;
			}
			if (der_expect(&ext, 0x04, &val2) != 0 || ext.n != 0)
				return -1;
			if (crit && !ext_known_to_bearssl(oid) && !span_eq(oid, OID_NC, sizeof OID_NC))
				ci->other_critical = 1;
			if (span_eq(oid, OID_BC, sizeof OID_BC)) {
				*why = "bad basicConstraints";
				if (ci->has_bc || parse_bc(val2, &ci->bc_ca, &ci->bc_pathlen) != 0)
					return -1;
				ci->has_bc = 1;
				*why = "bad extensions";
			} else if (span_eq(oid, OID_KU, sizeof OID_KU)) {
				struct span bits, kv = val2;
				if (ci->has_ku || der_expect(&kv, 0x03, &bits) != 0 || kv.n != 0 || bits.n < 1)
					return -1;
				ci->has_ku = 1;
				ci->ku0 = bits.n > 1 ? bits.p[1] : 0;
			} else if (span_eq(oid, OID_NC, sizeof OID_NC)) {
				if (ci->has_nc)
					return -1;
				ci->has_nc = 1;
				ci->nc_critical = crit;
				ci->nc = val2;
			} else if (span_eq(oid, OID_SAN, sizeof OID_SAN)) {
				if (ci->has_san)
					return -1;     /* RFC 5280 §4.2: at most one instance */
				ci->has_san = 1;
				ci->san = val2;
			} else if (span_eq(oid, OID_EKU, sizeof OID_EKU)) {
				if (ci->has_eku)
					return -1;
				ci->has_eku = 1;
				ci->eku = val2;
			}
		}
	}
	*why = "bad signature fields";
	if (der_tlv(&cert, 0x30, &ci->sigalg_out, &v) != 0 || der_expect(&v, 0x06, &ci->sigoid) != 0
		|| der_expect(&cert, 0x03, &ci->sig) != 0 || cert.n != 0)
		return -1;
	*why = "";
	return 0;
}

/* ----------------------------------------------------- readable DNs */

static void buf_add(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *pos + 1 < cap; i++)
		out[(*pos)++] = s[i];
	out[*pos] = 0;
}

/* Bytes as they are when printable ASCII, else as \xHH (a backslash too). */
static void buf_add_escaped(char *out, size_t cap, size_t *pos, struct span v)
{
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = v.p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			buf_add(out, cap, pos, (const char *)&c, 1);
		} else {
			char t[8];
			snprintf(t, sizeof t, "\\x%02x", c);
			buf_add(out, cap, pos, t, 4);
		}
	}
}

static const struct { unsigned char oid[10]; size_t len; const char *name; } dn_names[] = {
	{ { 0x55, 0x04, 0x03 }, 3, "CN" },
	{ { 0x55, 0x04, 0x0a }, 3, "O" },
	{ { 0x55, 0x04, 0x0b }, 3, "OU" },
	{ { 0x55, 0x04, 0x06 }, 3, "C" },
	{ { 0x55, 0x04, 0x07 }, 3, "L" },
	{ { 0x55, 0x04, 0x08 }, 3, "ST" },
	{ { 0x55, 0x04, 0x05 }, 3, "serialNumber" },
	{ { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19 }, 10, "DC" },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01 }, 9, "emailAddress" },
};

/* Name ::= SEQUENCE OF RDN; RDN ::= SET OF { type OID, value }.
 * Written in certificate order as "CN=x, O=y"; unknown types as dotted
 * OIDs; bytes outside printable ASCII as \xHH. */
static void dn_format(struct span name, char *out, size_t cap)
{
	size_t pos = 0;
	out[0] = 0;
	while (name.n > 0) {
		struct span rdn, atv, oid, val;
		unsigned tag;
		if (der_expect(&name, 0x31, &rdn) != 0)
			goto bad;
		while (rdn.n > 0) {
			if (der_expect(&rdn, 0x30, &atv) != 0 || der_expect(&atv, 0x06, &oid) != 0
				|| der_read(&atv, &tag, &val) != 0)
				goto bad;
			if (pos > 0)
				buf_add(out, cap, &pos, ", ", 2);
			const char *nm = NULL;
			for (size_t i = 0; i < sizeof dn_names / sizeof dn_names[0]; i++)
				if (span_eq(oid, dn_names[i].oid, dn_names[i].len))
					nm = dn_names[i].name;
			if (nm) {
				buf_add(out, cap, &pos, nm, strlen(nm));
			} else {
				/* dotted OID (X.690 §8.19) */
				char t[24];
				uint64_t acc = 0;
				int first = 1;
				for (size_t i = 0; i < oid.n; i++) {
					acc = (acc << 7) | (oid.p[i] & 0x7f);
					if (oid.p[i] & 0x80)
						continue;
					if (first) {
						unsigned a = acc < 40 ? 0 : acc < 80 ? 1 : 2;
						snprintf(t, sizeof t, "%u.%llu", a, (unsigned long long)(acc - 40 * a));
						first = 0;
					} else {
						snprintf(t, sizeof t, ".%llu", (unsigned long long)acc);
					}
					buf_add(out, cap, &pos, t, strlen(t));
					acc = 0;
				}
			}
			buf_add(out, cap, &pos, "=", 1);
			buf_add_escaped(out, cap, &pos, val);
		}
	}
	return;
bad:
	pos = 0;
	out[0] = 0;
	buf_add(out, cap, &pos, "(undecodable name)", 18);
}

/* ------------------------------------------------------ name checks */

static int lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ci_eq(const char *a, const unsigned char *b, size_t n)
{
	if (strlen(a) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lc((unsigned char)a[i]) != lc(b[i]))
			return 0;
	return 1;
}

/* A DNS-ID from the certificate against the reference host (already without
 * a trailing dot), RFC 9525 §6.3:
 *  - case-insensitive comparison of ASCII (A-label) names;
 *  - a wildcard only as the complete left-most label "*." and matching
 *    exactly one non-empty label of the host; no partial-label wildcards
 *    ("f*.example.com", "*x.example.com") and no "*" anywhere else;
 *  - the part after "*." must hold at least two labels, so "*.test" or
 *    "*.com" (a single, public-suffix-like label) never match. */
static int dns_id_matches(const char *host, const unsigned char *id, size_t n)
{
	if (n > 0 && id[n - 1] == '.')
		n--;
	if (n == 0 || memchr(id, 0, n) != NULL)
		return 0;
	if (n >= 2 && id[0] == '*' && id[1] == '.') {
		const unsigned char *rest = id + 2;
		size_t rn = n - 2;
		if (rn == 0 || memchr(rest, '*', rn) != NULL || memchr(rest, '.', rn) == NULL
			|| rest[0] == '.' || rest[rn - 1] == '.')
			return 0;
		const char *dot = strchr(host, '.');
		if (dot == NULL || dot == host)   /* host's first label must not be empty */
			return 0;
		return ci_eq(dot + 1, rest, rn);
	}
	if (memchr(id, '*', n) != NULL)
		return 0;
	return ci_eq(host, id, n);
}

/* Match the leaf's subjectAltName against host. 1 match, 0 none, -1 malformed. */
int nk_cert_window(const unsigned char *der, size_t len, int64_t *not_before, int64_t *not_after,
	struct nk_err *e)
{
	struct certinfo ci;
	const char *why;

	*not_before = *not_after = 0;
	if (cert_parse(der, len, &ci, &why) != 0) {
		nk_errf(e, "certificate: %s", why);
		return -1;
	}
	*not_before = ci.nb;
	*not_after = ci.na;
	return 0;
}

/* The names a leaf is for, for messages: its subjectAltName dNSNames and
 * iPAddresses in certificate order, ", "-separated; cut with "..." when
 * longer than cap. */
static void san_format(const struct certinfo *ci, char *out, size_t cap)
{
	struct span gns, sans = ci->san;
	size_t pos = 0;

	out[0] = 0;
	if (!ci->has_san || der_expect(&sans, 0x30, &gns) != 0) {
		buf_add(out, cap, &pos, "(no subjectAltName)", 19);
		return;
	}
	while (gns.n > 0) {
		char ip[INET6_ADDRSTRLEN];
		unsigned tag;
		struct span v;

		if (der_read(&gns, &tag, &v) != 0)
			break;
		if (tag != 0x82 && !(tag == 0x87 && (v.n == 4 || v.n == 16)))
			continue;       /* other name forms: not what a host name matches */
		if (pos > 0)
			buf_add(out, cap, &pos, ", ", 2);
		if (tag == 0x82)
			buf_add_escaped(out, cap, &pos, v);
		else if (inet_ntop(v.n == 4 ? AF_INET : AF_INET6, v.p, ip, sizeof ip) != NULL)
			buf_add(out, cap, &pos, ip, strlen(ip));
	}
	if (pos == 0)
		buf_add(out, cap, &pos, "(no DNS name or IP address)", 27);
	if (pos + 1 >= cap && cap > 4)
		memcpy(out + cap - 4, "...", 4);
}

int nk_cert_describe(const unsigned char *der, size_t len, struct nk_cert_desc *d, struct nk_err *e)
{
	struct certinfo ci;
	const char *why;

	memset(d, 0, sizeof *d);
	if (cert_parse(der, len, &ci, &why) != 0) {
		nk_errf(e, "certificate: %s", why);
		return -1;
	}
	dn_format(ci.subject, d->subject, sizeof d->subject);
	dn_format(ci.issuer, d->issuer, sizeof d->issuer);
	san_format(&ci, d->names, sizeof d->names);
	d->not_before = ci.nb;
	d->not_after = ci.na;
	return 0;
}

static int name_matches(const struct certinfo *ci, const char *host_in)
{
	unsigned char ip[16];
	size_t iplen = 0;
	char host[256];
	size_t hl = strlen(host_in);
	if (hl == 0 || hl >= sizeof host)
		return 0;
	memcpy(host, host_in, hl + 1);
	if (inet_pton(AF_INET, host, ip) == 1)
		iplen = 4;
	else if (inet_pton(AF_INET6, host, ip) == 1)
		iplen = 16;
	else if (host[hl - 1] == '.')
		host[--hl] = 0;                   /* absolute name: "a.example." */
	if (hl == 0 || !ci->has_san || (iplen == 0 && strchr(host, '*') != NULL))
		return 0;                         /* a reference identifier has no wildcard */
	struct span gns, sans = ci->san;
	if (der_expect(&sans, 0x30, &gns) != 0 || sans.n != 0)
		return -1;
	int found = 0;
	while (gns.n > 0) {
		unsigned tag;
		struct span v;
		if (der_read(&gns, &tag, &v) != 0)
			return -1;
		if (tag == 0x82 && iplen == 0) {        /* dNSName [2] IA5String */
			if (dns_id_matches(host, v.p, v.n))
				found = 1;
		} else if (tag == 0x87 && iplen != 0) { /* iPAddress [7] OCTET STRING */
			if (v.n == iplen && memcmp(v.p, ip, iplen) == 0)
				found = 1;
		}
	}
	return found;
}

/* id-kp-serverAuth (or, if any_ok, anyExtendedKeyUsage) in
 * ExtKeyUsageSyntax; no extKeyUsage at all allows everything. 1, 0, -1. */
static int eku_server_ok(const struct certinfo *ci, int any_ok)
{
	struct span seq, e = ci->eku;
	if (!ci->has_eku)
		return 1;
	if (der_expect(&e, 0x30, &seq) != 0 || e.n != 0)
		return -1;
	while (seq.n > 0) {
		struct span oid;
		if (der_expect(&seq, 0x06, &oid) != 0)
			return -1;
		if (span_eq(oid, OID_KP_SERVERAUTH, sizeof OID_KP_SERVERAUTH)
			|| (any_ok && span_eq(oid, OID_ANY_EKU, sizeof OID_ANY_EKU)))
			return 1;
	}
	return 0;
}

/* ------------------------------------------- chain policy (items 9-12) */

/* Signature algorithms by OID: hash (BearSSL id), signer key type, and
 * the name of a broken hash (refused wherever a signature is checked). */
static const struct sigalg {
	unsigned char oid[9];
	unsigned char len;
	int hash, kt;
	const char *weak;
} sigalgs[] = {
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x02 }, 9, 0, BR_KEYTYPE_RSA, "MD2" },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x03 }, 9, 0, BR_KEYTYPE_RSA, "MD4" },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04 }, 9, br_md5_ID, BR_KEYTYPE_RSA, "MD5" },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05 }, 9, br_sha1_ID, BR_KEYTYPE_RSA, "SHA-1" },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e }, 9, br_sha224_ID, BR_KEYTYPE_RSA, NULL },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b }, 9, br_sha256_ID, BR_KEYTYPE_RSA, NULL },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c }, 9, br_sha384_ID, BR_KEYTYPE_RSA, NULL },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d }, 9, br_sha512_ID, BR_KEYTYPE_RSA, NULL },
	{ { 0x2b, 0x0e, 0x03, 0x02, 0x03 }, 5, br_md5_ID, BR_KEYTYPE_RSA, "MD5" },     /* OIW md5WithRSA */
	{ { 0x2b, 0x0e, 0x03, 0x02, 0x1d }, 5, br_sha1_ID, BR_KEYTYPE_RSA, "SHA-1" },  /* OIW sha1WithRSA */
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01 }, 7, br_sha1_ID, BR_KEYTYPE_EC, "SHA-1" },
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01 }, 8, br_sha224_ID, BR_KEYTYPE_EC, NULL },
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 }, 8, br_sha256_ID, BR_KEYTYPE_EC, NULL },
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 }, 8, br_sha384_ID, BR_KEYTYPE_EC, NULL },
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 }, 8, br_sha512_ID, BR_KEYTYPE_EC, NULL },
	{ { 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03 }, 7, br_sha1_ID, 0, "SHA-1" },   /* dsa-with-sha1 */
};

static const struct sigalg *sigalg_find(struct span oid)
{
	for (size_t i = 0; i < sizeof sigalgs / sizeof sigalgs[0]; i++)
		if (span_eq(oid, sigalgs[i].oid, sigalgs[i].len))
			return &sigalgs[i];
	return NULL;
}

static const unsigned char OID_RSA_ENC[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
static const unsigned char OID_EC_PUB[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const unsigned char OID_P256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char OID_P384[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const unsigned char OID_P521[] = { 0x2b, 0x81, 0x04, 0x00, 0x23 };

/* The RSA or EC (named P-256/384/521) key of a SubjectPublicKeyInfo,
 * pointing into the DER. 1 key set, 0 another key type, -1 malformed. */
static int spki_key(struct span spki, br_x509_pkey *pk)
{
	struct span alg, oid, bits;
	memset(pk, 0, sizeof *pk);
	if (der_expect(&spki, 0x30, &alg) != 0 || der_expect(&alg, 0x06, &oid) != 0
		|| der_expect(&spki, 0x03, &bits) != 0 || spki.n != 0 || bits.n < 1 || bits.p[0] != 0)
		return -1;
	bits.p++;
	bits.n--;
	if (span_eq(oid, OID_RSA_ENC, sizeof OID_RSA_ENC)) {
		struct span seq, n, e;
		if (der_expect(&bits, 0x30, &seq) != 0 || bits.n != 0 || der_expect(&seq, 0x02, &n) != 0
			|| der_expect(&seq, 0x02, &e) != 0 || seq.n != 0)
			return -1;
		while (n.n > 0 && n.p[0] == 0) {
			n.p++;
			n.n--;
		}
		while (e.n > 0 && e.p[0] == 0) {
			e.p++;
			e.n--;
		}
		if (n.n == 0 || e.n == 0)
			return -1;
		pk->key_type = BR_KEYTYPE_RSA;
		pk->key.rsa.n = (unsigned char *)(uintptr_t)n.p;
		pk->key.rsa.nlen = n.n;
		pk->key.rsa.e = (unsigned char *)(uintptr_t)e.p;
		pk->key.rsa.elen = e.n;
		return 1;
	}
	if (span_eq(oid, OID_EC_PUB, sizeof OID_EC_PUB)) {
		struct span cv;
		int curve;
		if (der_expect(&alg, 0x06, &cv) != 0)
			return 0;             /* explicit parameters: not supported */
		if (span_eq(cv, OID_P256, sizeof OID_P256))
			curve = BR_EC_secp256r1;
		else if (span_eq(cv, OID_P384, sizeof OID_P384))
			curve = BR_EC_secp384r1;
		else if (span_eq(cv, OID_P521, sizeof OID_P521))
			curve = BR_EC_secp521r1;
		else
			return 0;
		if (bits.n == 0)
			return -1;
		pk->key_type = BR_KEYTYPE_EC;
		pk->key.ec.curve = curve;
		pk->key.ec.q = (unsigned char *)(uintptr_t)bits.p;
		pk->key.ec.qlen = bits.n;
		return 1;
	}
	return 0;
}

/* Size of an RSA modulus in bits (leading zero octets already stripped). */
static unsigned rsa_bits(const br_rsa_public_key *k)
{
	const unsigned char *n = k->n;
	size_t nl = k->nlen;
	while (nl > 0 && n[0] == 0) {
		n++;
		nl--;
	}
	if (nl == 0)
		return 0;
	unsigned bits = (unsigned)nl * 8;
	for (unsigned char top = n[0]; !(top & 0x80); top <<= 1)
		bits--;
	return bits;
}

/* Is the signature of ci made by pk? 1 yes, 0 no, -1 algorithm not
 * supported or not for this key type (broken hashes included). */
static int cert_sig_ok(const struct certinfo *ci, const br_x509_pkey *pk)
{
	const struct sigalg *a = sigalg_find(ci->sigoid);
	const br_hash_class *h;
	const unsigned char *hoid;
	if (a == NULL || a->weak != NULL || a->kt != pk->key_type)
		return -1;
	switch (a->hash) {
	case br_sha224_ID: h = &br_sha224_vtable; hoid = BR_HASH_OID_SHA224; break;
	case br_sha256_ID: h = &br_sha256_vtable; hoid = BR_HASH_OID_SHA256; break;
	case br_sha384_ID: h = &br_sha384_vtable; hoid = BR_HASH_OID_SHA384; break;
	case br_sha512_ID: h = &br_sha512_vtable; hoid = BR_HASH_OID_SHA512; break;
	default: return -1;
	}
	br_hash_compat_context hc;
	unsigned char hv[64], out[64];
	size_t hl = (h->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
	h->init(&hc.vtable);
	h->update(&hc.vtable, ci->tbs_tlv.p, ci->tbs_tlv.n);
	h->out(&hc.vtable, hv);
	if (ci->sig.n < 2 || ci->sig.p[0] != 0)
		return 0;
	const unsigned char *sg = ci->sig.p + 1;
	size_t sl = ci->sig.n - 1;
	if (pk->key_type == BR_KEYTYPE_RSA)
		return br_rsa_pkcs1_vrfy_get_default()(sg, sl, hoid, hl, &pk->key.rsa, out) == 1
			&& memcmp(out, hv, hl) == 0;
	return br_ecdsa_vrfy_asn1_get_default()(&nk_ec_all, hv, hl, &pk->key.ec, sg, sl) == 1;
}

static const char *cert_role(size_t i)
{
	return i == 0 ? "leaf" : "intermediate";
}

#define NK_RSA_MIN_BITS 2048

/* Checks on certificate i of the path that br_x509_minimal does not make.
 * signed_: its signature is verified (not a directly trusted leaf):
 * RFC 5280 §4.1.1.2 (both algorithm fields equal), no MD2/MD4/MD5/SHA-1,
 * RSA keys of at least 2048 bits. Always: the leaf is not a CA
 * (basicConstraints cA), an intermediate's extKeyUsage, if present,
 * includes id-kp-serverAuth (anyExtendedKeyUsage alone does not do:
 * CA/Browser Forum Baseline Requirements §7.1.2.10.6 want serverAuth in
 * a TLS CA and forbid anyExtendedKeyUsage there). */
static enum nk_cert_status cert_policy(const struct certinfo *ci, size_t i, int signed_, struct nk_err *e)
{
	if (signed_) {
		if (ci->sigalg_in.n != ci->sigalg_out.n
			|| memcmp(ci->sigalg_in.p, ci->sigalg_out.p, ci->sigalg_in.n) != 0) {
			nk_errf(e, "certificate %zu (%s): the signature algorithm inside TBSCertificate differs from the outer one",
				i + 1, cert_role(i));
			return NK_CERT_MALFORMED;
		}
		const struct sigalg *a = sigalg_find(ci->sigoid);
		if (a != NULL && a->weak != NULL) {
			nk_errf(e, "certificate %zu (%s) signed with %s: refused", i + 1, cert_role(i), a->weak);
			return NK_CERT_UNSUPPORTED;
		}
		br_x509_pkey pk;
		if (spki_key(ci->spki, &pk) == 1 && pk.key_type == BR_KEYTYPE_RSA
			&& rsa_bits(&pk.key.rsa) < NK_RSA_MIN_BITS) {
			nk_errf(e, "certificate %zu (%s) has a %u-bit RSA key: refused (at least %d bits)",
				i + 1, cert_role(i), rsa_bits(&pk.key.rsa), NK_RSA_MIN_BITS);
			return NK_CERT_UNSUPPORTED;
		}
	}
	if (i == 0 && ci->bc_ca) {
		nk_errf(e, "certificate 1 (leaf) is a CA certificate (basicConstraints CA:TRUE): refused as a server certificate");
		return NK_CERT_BAD_USAGE;
	}
	if (i > 0) {
		int k = eku_server_ok(ci, 0);
		if (k < 0) {
			nk_errf(e, "certificate %zu (intermediate) extKeyUsage is malformed", i + 1);
			return NK_CERT_MALFORMED;
		}
		if (k == 0) {
			nk_errf(e, "certificate %zu (intermediate) extKeyUsage does not include serverAuth: refused", i + 1);
			return NK_CERT_BAD_USAGE;
		}
	}
	return NK_CERT_OK;
}

/* What br_x509_minimal checks on a CA certificate, for certificates it
 * does not see as CAs (see the segments in nk_cert_validate): cA set,
 * pathLenConstraint (i - 1 intermediates below it), keyCertSign when
 * keyUsage is present, no critical extension it would not know. */
static enum nk_cert_status ca_checks(const struct certinfo *ci, size_t i, struct nk_err *e)
{
	if (!ci->bc_ca) {
		nk_errf(e, "certificate chain: certificate %zu is not a CA (basicConstraints)", i + 1);
		return NK_CERT_BAD_USAGE;
	}
	if (ci->bc_pathlen >= 0 && (long)i - 1 > ci->bc_pathlen) {
		nk_errf(e, "certificate chain: certificate %zu allows %ld intermediate(s) below it, the chain has %zu",
			i + 1, ci->bc_pathlen, i - 1);
		return NK_CERT_BAD_USAGE;
	}
	if (ci->has_ku && !(ci->ku0 & 0x04)) {
		nk_errf(e, "certificate chain: certificate %zu key usage lacks keyCertSign", i + 1);
		return NK_CERT_BAD_USAGE;
	}
	if (ci->other_critical) {
		nk_errf(e, "certificate chain: certificate %zu has an unsupported critical extension", i + 1);
		return NK_CERT_UNSUPPORTED;
	}
	return NK_CERT_OK;
}

/* ------------------------------------------------- name constraints */

static int ci_eqn(const unsigned char *a, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lc(a[i]) != lc(b[i]))
			return 0;
	return 1;
}

/* RFC 5280 §4.2.1.10 dNSName subtree: the base and every name made by
 * adding labels on its left ("nts.test": nts.test, a.nts.test, not
 * xnts.test); a base with a leading dot (".nts.test", as OpenSSL and
 * others read it): proper subdomains only; an empty base: every name.
 * Names are compared as strings, so a wildcard "*.nts.test" is inside
 * the subtree of nts.test and of .nts.test. One final dot is ignored. */
static int dns_in_subtree(const unsigned char *nm, size_t nn, const unsigned char *c, size_t cn)
{
	if (nn > 0 && nm[nn - 1] == '.')
		nn--;
	if (cn > 0 && c[cn - 1] == '.')
		cn--;
	if (cn == 0)
		return 1;
	if (nn < cn || !ci_eqn(nm + nn - cn, c, cn))
		return 0;
	if (c[0] == '.')
		return nn > cn;
	return nn == cn || nm[nn - cn - 1] == '.';
}

/* For excluded subtrees: can the name denote something inside? Also true
 * for a wildcard "*.R" when the base is one label over R (the wildcard
 * may stand for that label). */
static int dns_may_be_in(const unsigned char *nm, size_t nn, const unsigned char *c, size_t cn)
{
	if (dns_in_subtree(nm, nn, c, cn))
		return 1;
	if (nn > 0 && nm[nn - 1] == '.')
		nn--;
	if (cn > 0 && c[cn - 1] == '.')
		cn--;
	if (nn < 3 || nm[0] != '*' || nm[1] != '.' || cn == 0 || c[0] == '.')
		return 0;
	size_t rn = nn - 1;                   /* ".R" */
	return cn > rn && ci_eqn(c + cn - rn, nm + 1, rn) && memchr(c, '.', cn - rn) == NULL;
}

static int ip_in_subtree(const unsigned char *ip, size_t il, const unsigned char *c, size_t cl)
{
	if (cl != 2 * il)
		return 0;                         /* the other address family */
	for (size_t i = 0; i < il; i++)
		if ((ip[i] ^ c[i]) & c[il + i])
			return 0;
	return 1;
}

/* A CIDR mask: ones, then zeros. */
static int mask_ok(const unsigned char *m, size_t n)
{
	int zero = 0;
	for (size_t i = 0; i < n; i++)
		for (int b = 7; b >= 0; b--) {
			if (!(m[i] >> b & 1))
				zero = 1;
			else if (zero)
				return 0;
		}
	return 1;
}

static const char *gn_form(unsigned tag)
{
	switch (tag) {
	case 0xa0: return "otherName";
	case 0x81: return "rfc822Name (email)";
	case 0xa3: return "x400Address";
	case 0xa4: return "directoryName";
	case 0xa5: return "ediPartyName";
	case 0x86: return "uniformResourceIdentifier";
	case 0x88: return "registeredID";
	default:   return "unknown";
	}
}

/* Does any subtree of type tag in subs hold the name? excl: the
 * "may denote" reading for wildcards. */
static int subtrees_match(struct span subs, unsigned tag, const unsigned char *nm, size_t nn, int excl)
{
	while (subs.n > 0) {
		struct span st, base;
		unsigned bt;
		if (der_expect(&subs, 0x30, &st) != 0 || der_read(&st, &bt, &base) != 0)
			return 0;                 /* checked before */
		if (bt != tag)
			continue;
		if (tag == 0x82 && (excl ? dns_may_be_in(nm, nn, base.p, base.n) : dns_in_subtree(nm, nn, base.p, base.n)))
			return 1;
		if (tag == 0x87 && ip_in_subtree(nm, nn, base.p, base.n))
			return 1;
	}
	return 0;
}

static void name_str(unsigned tag, const unsigned char *p, size_t n, char *out, size_t cap)
{
	if (tag == 0x87) {
		if (inet_ntop(n == 4 ? AF_INET : AF_INET6, p, out, (socklen_t)cap) == NULL)
			snprintf(out, cap, "?");
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < cap; i++)
		out[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[k] = 0;
}

/* Apply one nameConstraints extension (of "who") to the leaf's
 * subjectAltName dNSName and iPAddress entries (the CN is never used as a
 * name, so it is not checked). Excluded subtrees win; a type with a
 * permitted subtree puts every name of that type without a matching
 * subtree outside (an IPv4 address with only IPv6 subtrees too).
 * minimum/maximum (which RFC 5280 forbids) are malformed; other name
 * forms are refused in a critical extension and ignored otherwise. */
static enum nk_cert_status nc_apply(struct span nc, int critical, const struct certinfo *leaf,
	const char *who, struct nk_err *e)
{
	struct span seq, in = nc, sub[2] = { { NULL, 0 }, { NULL, 0 } };
	int has[2] = { 0, 0 }, perm[2] = { 0, 0 };   /* permitted dNSName, iPAddress present */
	if (der_expect(&in, 0x30, &seq) != 0 || in.n != 0)
		goto bad;
	while (seq.n > 0) {
		unsigned tag;
		struct span v;
		if (der_read(&seq, &tag, &v) != 0 || (tag != 0xa0 && tag != 0xa1) || has[tag & 1])
			goto bad;
		has[tag & 1] = 1;
		sub[tag & 1] = v;
	}
	for (int k = 0; k < 2; k++) {
		struct span s = sub[k];
		if (has[k] && s.n == 0)
			goto bad;                 /* SIZE (1..MAX) */
		while (s.n > 0) {
			struct span st, base;
			unsigned bt;
			if (der_expect(&s, 0x30, &st) != 0 || der_read(&st, &bt, &base) != 0 || st.n != 0)
				goto bad;
			if (bt == 0x82) {
				perm[0] |= k == 0;
			} else if (bt == 0x87) {
				if ((base.n != 8 && base.n != 32) || !mask_ok(base.p + base.n / 2, base.n / 2))
					goto bad;
				perm[1] |= k == 0;
			} else if (critical) {
				nk_errf(e, "%s: critical nameConstraints on %s names are not supported: refused",
					who, gn_form(bt));
				return NK_CERT_UNSUPPORTED;
			}
		}
	}
	if (!leaf->has_san)
		return NK_CERT_OK;
	struct span gns, sans = leaf->san;
	if (der_expect(&sans, 0x30, &gns) != 0 || sans.n != 0) {
		nk_errf(e, "certificate subjectAltName is malformed");
		return NK_CERT_MALFORMED;
	}
	while (gns.n > 0) {
		unsigned tag;
		struct span v;
		char nm[300];
		if (der_read(&gns, &tag, &v) != 0) {
			nk_errf(e, "certificate subjectAltName is malformed");
			return NK_CERT_MALFORMED;
		}
		if (tag != 0x82 && !(tag == 0x87 && (v.n == 4 || v.n == 16)))
			continue;
		const char *kind = tag == 0x82 ? "DNS name" : "IP address";
		if (has[1] && subtrees_match(sub[1], tag, v.p, v.n, 1)) {
			name_str(tag, v.p, v.n, nm, sizeof nm);
			nk_errf(e, "%s %s of certificate 1 (leaf) is in the excluded names of %s", kind, nm, who);
			return NK_CERT_BAD_NAME;
		}
		if (perm[tag == 0x87] && !subtrees_match(sub[0], tag, v.p, v.n, 0)) {
			name_str(tag, v.p, v.n, nm, sizeof nm);
			nk_errf(e, "%s %s of certificate 1 (leaf) is outside the permitted names of %s", kind, nm, who);
			return NK_CERT_BAD_NAME;
		}
	}
	return NK_CERT_OK;
bad:
	nk_errf(e, "%s: nameConstraints are malformed", who);
	return NK_CERT_MALFORMED;
}

/* ------------------------------------------------------ trust store */

void nk_trust_init(struct nk_trust *t)
{
	t->ta = NULL;
	t->nc = NULL;
	t->n = 0;
	t->cap = 0;
}

void nk_trust_free(struct nk_trust *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->ta[i].dn.data);   /* one block: DN, key bytes, nameConstraints */
	free(t->ta);
	free(t->nc);
	nk_trust_init(t);
}

struct dnbuf {
	unsigned char *p;
	size_t n, cap;
	int oom;
};

static void dn_append(void *ctx, const void *buf, size_t len)
{
	struct dnbuf *d = ctx;
	if (d->oom)
		return;
	if (d->n + len > d->cap) {
		size_t nc = (d->n + len) * 2 + 64;
		unsigned char *p = realloc(d->p, nc);
		if (p == NULL) {
			d->oom = 1;
			return;
		}
		d->p = p;
		d->cap = nc;
	}
	memcpy(d->p + d->n, buf, len);
	d->n += len;
}

static const char *x509_err_str(int err);

/* Decode one DER certificate into an anchor; 1 added, 0 skipped
 * (unsupported key type, or a certificate BearSSL decodes but the reader
 * above does not), -1 error. */
static int trust_add(struct nk_trust *t, const void *der, size_t len, const char *what, struct nk_err *e)
{
	br_x509_decoder_context dc;
	struct dnbuf dn = { 0 };
	br_x509_decoder_init(&dc, dn_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
	int err = br_x509_decoder_last_error(&dc);
	if (pk == NULL || dn.oom) {
		free(dn.p);
		if (err == BR_ERR_X509_UNSUPPORTED)
			return 0;
		nk_errf(e, "%s: cannot decode certificate: %s", what, dn.oom ? "out of memory" : x509_err_str(err));
		return -1;
	}
	size_t klen = pk->key_type == BR_KEYTYPE_RSA ? pk->key.rsa.nlen + pk->key.rsa.elen : pk->key.ec.qlen;
	/* the anchor's nameConstraints; a certificate our reader cannot parse
	 * (BearSSL could) is skipped rather than trusted without them */
	struct certinfo ci;
	const char *why;
	if (cert_parse(der, len, &ci, &why) != 0) {
		free(dn.p);
		return 0;
	}
	size_t nclen = ci.has_nc ? ci.nc.n : 0;
	unsigned char *blk = malloc(dn.n + klen + nclen + 1);
	if (blk == NULL) {
		free(dn.p);
		nk_errf(e, "%s: out of memory", what);
		return -1;
	}
	if (t->n == t->cap) {
		size_t nc = t->cap ? 2 * t->cap : 16;
		br_x509_trust_anchor *na = realloc(t->ta, nc * sizeof *na);
		if (na != NULL)
			t->ta = na;
		struct nk_trust_nc *nn = na == NULL ? NULL : realloc(t->nc, nc * sizeof *nn);
		if (nn == NULL) {
			free(blk);
			free(dn.p);
			nk_errf(e, "%s: out of memory", what);
			return -1;
		}
		t->nc = nn;
		t->cap = nc;
	}
	br_x509_trust_anchor *ta = &t->ta[t->n];
	memset(ta, 0, sizeof *ta);
	if (dn.n)
		memcpy(blk, dn.p, dn.n);
	free(dn.p);
	ta->dn.data = blk;
	ta->dn.len = dn.n;
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	unsigned char *k = blk + dn.n;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		memcpy(k, pk->key.rsa.n, pk->key.rsa.nlen);
		memcpy(k + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.n = k;
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = k + pk->key.rsa.nlen;
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
	} else {
		memcpy(k, pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = k;
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
	}
	t->nc[t->n].der = blk + dn.n + klen;
	t->nc[t->n].len = nclen;
	t->nc[t->n].critical = ci.nc_critical;
	if (nclen)
		memcpy(blk + dn.n + klen, ci.nc.p, nclen);
	t->n++;
	return 1;
}

int nk_trust_add_der(struct nk_trust *t, const void *der, size_t len, struct nk_err *e)
{
	int r = trust_add(t, der, len, "certificate", e);
	if (r == 0) {
		nk_errf(e, "certificate: unsupported key or signature algorithm");
		return -1;
	}
	return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------- PEM */

struct pem_obj {
	unsigned char *der;
	size_t len, cap;
	int oom;
};

static void pem_dest(void *ctx, const void *buf, size_t len)
{
	struct pem_obj *o = ctx;
	if (o->oom)
		return;
	if (o->len + len > o->cap) {
		size_t nc = (o->len + len) * 2 + 256;
		unsigned char *p = realloc(o->der, nc);
		if (p == NULL) {
			o->oom = 1;
			return;
		}
		o->der = p;
		o->cap = nc;
	}
	memcpy(o->der + o->len, buf, len);
	o->len += len;
}

/* Read a whole file (set-up time; at most 16 MiB). */
static unsigned char *read_file(const char *path, size_t *len, struct nk_err *e)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		nk_errf(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	unsigned char *b = malloc(cap);
	while (b != NULL) {
		if (n == cap) {
			if (cap >= (16u << 20)) {
				nk_errf(e, "%s: file too large", path);
				free(b);
				fclose(f);
				return NULL;
			}
			unsigned char *nb = realloc(b, cap * 2);
			if (nb == NULL) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (b == NULL || ferror(f)) {
		nk_errf(e, "%s: %s", path, b == NULL ? "out of memory" : "read error");
		free(b);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return b;
}

/* Call fn for every PEM object of the file; fn returns 0 to go on, -1 to
 * stop with an error. Returns the number of objects, or -1. */
typedef int (*pem_fn)(void *arg, const char *name, const unsigned char *der, size_t len,
	unsigned idx, struct nk_err *e);

static long pem_each(const char *path, pem_fn fn, void *arg, struct nk_err *e)
{
	size_t flen;
	unsigned char *f = read_file(path, &flen, e);
	if (f == NULL)
		return -1;
	br_pem_decoder_context pc;
	struct pem_obj o = { 0 };
	char name[128];
	long count = 0;
	int inobj = 0, rc = 0;
	br_pem_decoder_init(&pc);
	/* BearSSL's decoder ends an object on the newline after "-----END";
	 * feed one extra newline in case the file lacks a final one. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		const unsigned char *p = pass == 0 ? f : (const unsigned char *)"\n";
		size_t n = pass == 0 ? flen : 1;
		while (n > 0 && rc == 0) {
			size_t k = br_pem_decoder_push(&pc, p, n);
			p += k;
			n -= k;
			switch (br_pem_decoder_event(&pc)) {
			case BR_PEM_BEGIN_OBJ:
				snprintf(name, sizeof name, "%s", br_pem_decoder_name(&pc));
				o.len = 0;
				inobj = 1;
				br_pem_decoder_setdest(&pc, pem_dest, &o);
				break;
			case BR_PEM_END_OBJ:
				if (o.oom) {
					nk_errf(e, "%s: out of memory", path);
					rc = -1;
				} else if (inobj && fn(arg, name, o.der, o.len, (unsigned)count, e) != 0) {
					rc = -1;
				}
				inobj = 0;
				count++;
				break;
			case BR_PEM_ERROR:
				nk_errf(e, "%s: malformed PEM (object %ld)", path, count + 1);
				rc = -1;
				break;
			default:
				break;
			}
		}
	}
	if (rc == 0 && inobj) {
		nk_errf(e, "%s: PEM object \"%s\" not terminated", path, name);
		rc = -1;
	}
	if (o.der)
		nk_wipe(o.der, o.cap);   /* may have held a private key */
	free(o.der);
	nk_wipe(f, flen);
	free(f);
	return rc == 0 ? count : -1;
}

static int is_cert_name(const char *n)
{
	return strcmp(n, "CERTIFICATE") == 0 || strcmp(n, "X509 CERTIFICATE") == 0;
}

struct trust_load {
	struct nk_trust *t;
	const char *path;
	size_t added, skipped;
};

static int trust_pem_cb(void *arg, const char *name, const unsigned char *der, size_t len,
	unsigned idx, struct nk_err *e)
{
	struct trust_load *tl = arg;
	char what[300];
	if (!is_cert_name(name))
		return 0;            /* other objects (keys, CRLs) are not anchors */
	snprintf(what, sizeof what, "%s: certificate %u", tl->path, idx + 1);
	int r = trust_add(tl->t, der, len, what, e);
	if (r < 0)
		return -1;
	if (r == 0)
		tl->skipped++;
	else
		tl->added++;
	return 0;
}

/* Certificates whose key BearSSL does not support (e.g. Ed25519 roots in a
 * system bundle) are skipped and counted; any malformed certificate is an
 * error; a file with no usable certificate is an error. */
int nk_trust_load_file(struct nk_trust *t, const char *path, struct nk_err *e)
{
	struct trust_load tl = { t, path, 0, 0 };
	if (pem_each(path, trust_pem_cb, &tl, e) < 0)
		return -1;
	if (tl.added == 0) {
		nk_errf(e, "%s: no usable certificate found%s", path,
			tl.skipped ? " (all have unsupported key types)" : "");
		return -1;
	}
	return 0;
}

/* -------------------------------------------------------- validation */

const char *nk_cert_status_str(enum nk_cert_status s)
{
	switch (s) {
	case NK_CERT_OK:            return "ok";
	case NK_CERT_MALFORMED:     return "malformed certificate";
	case NK_CERT_UNTRUSTED:     return "untrusted certificate";
	case NK_CERT_EXPIRED:       return "certificate expired";
	case NK_CERT_NOT_YET_VALID: return "certificate not yet valid";
	case NK_CERT_BAD_NAME:      return "certificate name mismatch";
	case NK_CERT_UNSUPPORTED:   return "unsupported certificate";
	case NK_CERT_BAD_USAGE:     return "certificate usage forbids TLS server authentication";
	}
	return "unknown certificate status";
}

static const char *x509_err_str(int err)
{
	switch (err) {
	case BR_ERR_X509_INVALID_VALUE:     return "invalid value";
	case BR_ERR_X509_TRUNCATED:         return "truncated";
	case BR_ERR_X509_EMPTY_CHAIN:       return "empty chain";
	case BR_ERR_X509_INNER_TRUNC:       return "inner element truncated";
	case BR_ERR_X509_BAD_TAG_CLASS:     return "bad tag class";
	case BR_ERR_X509_BAD_TAG_VALUE:     return "bad tag value";
	case BR_ERR_X509_INDEFINITE_LENGTH: return "indefinite length";
	case BR_ERR_X509_EXTRA_ELEMENT:     return "extra element";
	case BR_ERR_X509_UNEXPECTED:        return "unexpected element";
	case BR_ERR_X509_NOT_CONSTRUCTED:   return "element not constructed";
	case BR_ERR_X509_NOT_PRIMITIVE:     return "element not primitive";
	case BR_ERR_X509_PARTIAL_BYTE:      return "partial byte in BIT STRING";
	case BR_ERR_X509_BAD_BOOLEAN:       return "bad BOOLEAN";
	case BR_ERR_X509_OVERFLOW:          return "value overflow";
	case BR_ERR_X509_BAD_DN:            return "bad distinguished name";
	case BR_ERR_X509_BAD_TIME:          return "bad time";
	case BR_ERR_X509_UNSUPPORTED:       return "unsupported algorithm or key";
	case BR_ERR_X509_LIMIT_EXCEEDED:    return "implementation limit exceeded";
	case BR_ERR_X509_WRONG_KEY_TYPE:    return "key type does not match signature algorithm";
	case BR_ERR_X509_BAD_SIGNATURE:     return "signature does not verify";
	case BR_ERR_X509_TIME_UNKNOWN:      return "validation time unknown";
	case BR_ERR_X509_EXPIRED:           return "expired or not yet valid";
	case BR_ERR_X509_DN_MISMATCH:       return "issuer/subject name chaining mismatch";
	case BR_ERR_X509_BAD_SERVER_NAME:   return "server name mismatch";
	case BR_ERR_X509_CRITICAL_EXTENSION: return "unsupported critical extension";
	case BR_ERR_X509_NOT_CA:            return "issuer is not a CA";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE: return "key usage forbids this use";
	case BR_ERR_X509_WEAK_PUBLIC_KEY:   return "public key too weak";
	case BR_ERR_X509_NOT_TRUSTED:       return "no path to a trust anchor";
	default:                            return "decoding error";
	}
}

static enum nk_cert_status x509_err_status(int err)
{
	switch (err) {
	case BR_ERR_X509_NOT_TRUSTED:
	case BR_ERR_X509_BAD_SIGNATURE:
	case BR_ERR_X509_DN_MISMATCH:
		return NK_CERT_UNTRUSTED;
	case BR_ERR_X509_EXPIRED:
		return NK_CERT_EXPIRED;
	case BR_ERR_X509_UNSUPPORTED:
	case BR_ERR_X509_WRONG_KEY_TYPE:
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
	case BR_ERR_X509_CRITICAL_EXTENSION:
	case BR_ERR_X509_LIMIT_EXCEEDED:
		return NK_CERT_UNSUPPORTED;
	case BR_ERR_X509_NOT_CA:
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
		return NK_CERT_BAD_USAGE;
	case BR_ERR_X509_BAD_SERVER_NAME:
		return NK_CERT_BAD_NAME;
	default:
		return NK_CERT_MALFORMED;
	}
}

/* BearSSL counts days since 0000-01-01 (proleptic Gregorian) and seconds
 * in the day; 1970-01-01 is day 719528 in that count. */
static void bearssl_time(int64_t t, uint32_t *days, uint32_t *secs)
{
	int64_t d = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t s = t - d * 86400;
	d += 719528;
	if (d < 0) {
		d = 0;
		s = 0;
	}
	if (d > UINT32_MAX)
		d = UINT32_MAX;
	*days = (uint32_t)d;
	*secs = (uint32_t)s;
}

static void fmt_time(int64_t t, char *out, size_t cap)
{
	int64_t z = (t >= 0 ? t / 86400 : -((-t + 86399) / 86400));
	int64_t sod = t - z * 86400;
	/* civil_from_days (H. Hinnant) */
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(out, cap, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
		(unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
}

/* DER-encoded DN equality with some anchor's DN. */
static int anchor_dn(const struct nk_trust *t, struct span dn_tlv, int need_ca)
{
	for (size_t i = 0; i < t->n; i++) {
		if (need_ca && !(t->ta[i].flags & BR_X509_TA_CA))
			continue;
		if (t->ta[i].dn.len == dn_tlv.n && memcmp(t->ta[i].dn.data, dn_tlv.p, dn_tlv.n) == 0)
			return 1;
	}
	return 0;
}

/* Is the leaf directly trusted as br_x509_minimal sees it: a non-CA
 * anchor with the leaf's subject DN and the same key? */
static int leaf_direct(const struct nk_trust *t, const struct certinfo *leaf)
{
	br_x509_pkey pk;
	if (spki_key(leaf->spki, &pk) != 1)
		return 0;
	for (size_t i = 0; i < t->n; i++) {
		const br_x509_trust_anchor *ta = &t->ta[i];
		if ((ta->flags & BR_X509_TA_CA) || ta->pkey.key_type != pk.key_type
			|| ta->dn.len != leaf->subject_tlv.n || memcmp(ta->dn.data, leaf->subject_tlv.p, ta->dn.len) != 0)
			continue;
		if (pk.key_type == BR_KEYTYPE_RSA) {
			br_rsa_public_key a = ta->pkey.key.rsa;
			while (a.nlen > 0 && a.n[0] == 0) {
				a.n++;
				a.nlen--;
			}
			while (a.elen > 0 && a.e[0] == 0) {
				a.e++;
				a.elen--;
			}
			if (a.nlen == pk.key.rsa.nlen && a.elen == pk.key.rsa.elen
				&& memcmp(a.n, pk.key.rsa.n, a.nlen) == 0 && memcmp(a.e, pk.key.rsa.e, a.elen) == 0)
				return 1;
		} else if (ta->pkey.key.ec.curve == pk.key.ec.curve && ta->pkey.key.ec.qlen == pk.key.ec.qlen
			&& memcmp(ta->pkey.key.ec.q, pk.key.ec.q, pk.key.ec.qlen) == 0) {
			return 1;
		}
	}
	return 0;
}

/* The first CA anchor (BearSSL's order) with ci's issuer name whose key
 * verifies ci's signature; t->n when there is none. */
static size_t anchor_of(const struct nk_trust *t, const struct certinfo *ci)
{
	for (size_t a = 0; a < t->n; a++) {
		const br_x509_trust_anchor *ta = &t->ta[a];
		if ((ta->flags & BR_X509_TA_CA) && ta->dn.len == ci->issuer_tlv.n
			&& memcmp(ta->dn.data, ci->issuer_tlv.p, ta->dn.len) == 0 && cert_sig_ok(ci, &ta->pkey) == 1)
			return a;
	}
	return t->n;
}

static enum nk_cert_status chain_err(unsigned err, struct nk_err *e)
{
	nk_errf(e, "certificate chain: %s", x509_err_str((int)err));
	return x509_err_status((int)err);
}

/* br_x509_minimal over der[from..to-1] with the anchors ta[0..nta-1] at
 * the given time; *end is the certificate at which the chain was accepted
 * (BearSSL ignores the ones after it). 0 or a BR_ERR_X509_* code. */
static unsigned run_minimal(br_x509_minimal_context *xc, const br_x509_trust_anchor *ta, size_t nta,
	const unsigned char *const *der, const size_t *der_len, size_t from, size_t to,
	uint32_t days, uint32_t secs, size_t *end)
{
	br_x509_minimal_init_full(xc, ta, nta);
	/* the fast BearSSL implementations (default getters), not the generic ones */
	br_x509_minimal_set_ecdsa(xc, &nk_ec_all, br_ecdsa_vrfy_asn1_get_default());
	br_x509_minimal_set_rsa(xc, br_rsa_pkcs1_vrfy_get_default());
	br_x509_minimal_set_time(xc, days, secs);
	xc->vtable->start_chain(&xc->vtable, NULL);   /* names are checked here, not by BearSSL */
	*end = to - 1;
	for (size_t i = from; i < to; i++) {
		xc->vtable->start_cert(&xc->vtable, (uint32_t)der_len[i]);
		xc->vtable->append(&xc->vtable, der[i], der_len[i]);
		xc->vtable->end_cert(&xc->vtable);
		/* a key is there only once the engine has accepted the chain */
		if (xc->vtable->get_pkey(&xc->vtable, NULL) != NULL) {
			*end = i;
			break;
		}
	}
	return xc->vtable->end_chain(&xc->vtable);
}

static enum nk_cert_status take_leaf_key(br_x509_minimal_context *xc, struct nk_certval_result *res,
	unsigned *usages, struct nk_err *e)
{
	const br_x509_pkey *pk = xc->vtable->get_pkey(&xc->vtable, usages);
	if (pk == NULL || nk_pubkey_set(&res->leaf_key, pk) != 0) {
		nk_errf(e, "certificate key unsupported");
		return NK_CERT_UNSUPPORTED;
	}
	return NK_CERT_OK;
}

enum nk_cert_status nk_cert_validate(const struct nk_trust *t,
	const unsigned char *const *der, const size_t *der_len, size_t n,
	const struct nk_certval_opts *o, struct nk_certval_result *res,
	struct nk_err *e)
{
	struct certinfo leaf = { 0 }, ci;
	const char *why;
	char subj[256], tb[80];
	br_x509_minimal_context xc;

	if (res == NULL || o == NULL || (n > 0 && (der == NULL || der_len == NULL))) {
		nk_errf(e, "certificate validation called without chain, options or result");
		return NK_CERT_MALFORMED;
	}
	memset(res, 0, sizeof *res);
	if (n == 0) {
		nk_errf(e, "empty certificate chain");
		return NK_CERT_MALFORMED;
	}
	if (t == NULL || t->n == 0) {
		nk_errf(e, "no trust anchors loaded");
		return NK_CERT_UNTRUSTED;
	}

	/* 1. parse every certificate; find where the path ends (the first
	 * certificate issued by an anchor, or the leaf itself when its subject
	 * is a non-CA anchor's DN: direct trust) */
	size_t last = n - 1;
	int found = 0;
	int64_t max_nb = INT64_MIN, min_na = INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		if (der[i] == NULL || cert_parse(der[i], der_len[i], &ci, &why) != 0) {
			nk_errf(e, "certificate %zu of the chain is malformed: %s", i + 1,
				der[i] == NULL ? "missing" : why);
			return NK_CERT_MALFORMED;
		}
		if (i == 0)
			leaf = ci;
		if (!found) {
			if (i == 0 && anchor_dn(t, ci.subject_tlv, 0) && !anchor_dn(t, ci.issuer_tlv, 1)) {
				last = 0;
				found = 1;
			} else if (anchor_dn(t, ci.issuer_tlv, 1)) {
				last = i;
				found = 1;
			}
		}
	}

	/* 2. validity windows of the path */
	for (size_t i = 0; i <= last; i++) {
		cert_parse(der[i], der_len[i], &ci, &why);
		if (ci.nb > max_nb)
			max_nb = ci.nb;
		if (ci.na < min_na)
			min_na = ci.na;
		if (o->skip_window)
			continue;
		dn_format(ci.subject, subj, sizeof subj);
		if (o->time < ci.nb) {
			fmt_time(ci.nb, tb, sizeof tb);
			nk_errf(e, "certificate %zu (%s) is not valid before %s", i + 1, subj, tb);
			return NK_CERT_NOT_YET_VALID;
		}
		if (o->time > ci.na) {
			fmt_time(ci.na, tb, sizeof tb);
			nk_errf(e, "certificate %zu (%s) expired at %s", i + 1, subj, tb);
			return NK_CERT_EXPIRED;
		}
	}
	int64_t vt = o->time;
	if (o->skip_window) {
		if (max_nb > min_na) {
			nk_errf(e, "validity windows of the chain do not overlap (cannot be validated at any time)");
			return NK_CERT_MALFORMED;
		}
		vt = max_nb;
	}

	/* 3. checks br_x509_minimal does not make, on the path found above
	 * (a directly trusted leaf is the anchor: its own signature is not
	 * checked, so neither is its algorithm nor its key size) */
	int direct = found && last == 0 && leaf_direct(t, &leaf);
	enum nk_cert_status st;
	for (size_t i = 0; found && i <= last; i++) {   /* !found: BearSSL says untrusted */
		cert_parse(der[i], der_len[i], &ci, &why);
		if ((st = cert_policy(&ci, i, !direct, e)) != NK_CERT_OK)
			return st;
	}

	/* 4. the chain through br_x509_minimal. It refuses the critical
	 * nameConstraints it does not implement, so the chain is cut at each
	 * certificate k that has them: BearSSL validates the certificates
	 * below k with k's name and key as their only anchor, k's own
	 * signature, name chaining and CA checks are made here, and the rest
	 * of the chain goes to BearSSL again with the real anchors. */
	uint32_t days, secs;
	unsigned usages = 0;
	size_t seg = 0, pend = n - 1, end;
	int cut = 0;
	bearssl_time(vt, &days, &secs);
	for (size_t k = 1; !direct && k <= last && k < n; k++) {
		cert_parse(der[k], der_len[k], &ci, &why);
		if (!ci.nc_critical)
			continue;
		br_x509_trust_anchor sa;
		memset(&sa, 0, sizeof sa);
		sa.dn.data = (unsigned char *)(uintptr_t)ci.subject_tlv.p;
		sa.dn.len = ci.subject_tlv.n;
		sa.flags = BR_X509_TA_CA;
		if (spki_key(ci.spki, &sa.pkey) != 1) {
			nk_errf(e, "certificate chain: certificate %zu has an unsupported key", k + 1);
			return NK_CERT_UNSUPPORTED;
		}
		cut = 1;
		if (k > seg) {
			unsigned err = run_minimal(&xc, &sa, 1, der, der_len, seg, k, days, secs, &end);
			if (err == 0 && end != k - 1)
				err = BR_ERR_X509_NOT_TRUSTED;
			if (err != 0)
				return chain_err(err, e);
			if (seg == 0 && (st = take_leaf_key(&xc, res, &usages, e)) != NK_CERT_OK)
				return st;
		}
		if ((st = ca_checks(&ci, k, e)) != NK_CERT_OK)
			return st;
		if (k == last) {              /* issued by an anchor */
			if (anchor_of(t, &ci) == t->n) {
				nk_errf(e, "certificate chain: no trust anchor verifies the signature of certificate %zu", k + 1);
				return NK_CERT_UNTRUSTED;
			}
			pend = k;
			seg = n;
			break;
		}
		struct certinfo up;           /* issued by certificate k + 1 */
		br_x509_pkey upk;
		cert_parse(der[k + 1], der_len[k + 1], &up, &why);
		if (!(ci.issuer_tlv.n == up.subject_tlv.n && memcmp(ci.issuer_tlv.p, up.subject_tlv.p, up.subject_tlv.n) == 0))
			return chain_err(BR_ERR_X509_DN_MISMATCH, e);
		int r = spki_key(up.spki, &upk) == 1 ? cert_sig_ok(&ci, &upk) : -1;
		if (r <= 0)
			return chain_err(r < 0 ? BR_ERR_X509_UNSUPPORTED : BR_ERR_X509_BAD_SIGNATURE, e);
		seg = k + 1;
	}
	if (seg < n) {
		unsigned err = run_minimal(&xc, t->ta, t->n, der, der_len, seg, n, days, secs, &end);
		if (err != 0)
			return chain_err(err, e);
		if (seg == 0 && (st = take_leaf_key(&xc, res, &usages, e)) != NK_CERT_OK)
			return st;
		pend = end;
	}
	for (size_t i = 1; cut && i <= pend; i++) {
		/* BearSSL saw the first certificate of each segment as an end
		 * entity and counted path lengths from the segment's start */
		cert_parse(der[i], der_len[i], &ci, &why);
		if ((st = ca_checks(&ci, i, e)) != NK_CERT_OK)
			return st;
	}
	/* certificates BearSSL needed beyond the path guessed in step 1 (an
	 * anchor with the issuer's name but another key) */
	for (size_t i = last + 1; i <= pend; i++) {
		cert_parse(der[i], der_len[i], &ci, &why);
		if ((st = cert_policy(&ci, i, 1, e)) != NK_CERT_OK)
			return st;
	}

	/* 5. name constraints of the CAs of the path and of the anchor, and the
	 * anchor's key size */
	for (size_t i = 1; i <= pend && !direct; i++) {
		cert_parse(der[i], der_len[i], &ci, &why);
		if (!ci.has_nc)
			continue;
		char who[64];
		snprintf(who, sizeof who, "certificate %zu (intermediate)", i + 1);
		if ((st = nc_apply(ci.nc, ci.nc_critical, &leaf, who, e)) != NK_CERT_OK)
			return st;
	}
	if (!direct) {
		cert_parse(der[pend], der_len[pend], &ci, &why);
		size_t a0 = anchor_of(t, &ci);
		for (size_t a = 0; a < t->n; a++) {
			const br_x509_trust_anchor *ta = &t->ta[a];
			/* the anchor that verified the signature; if none is found
			 * here (an algorithm only BearSSL knows), every CA anchor of
			 * the issuer's name */
			if (a0 < t->n ? a != a0 : !(ta->flags & BR_X509_TA_CA) || ta->dn.len != ci.issuer_tlv.n
				|| memcmp(ta->dn.data, ci.issuer_tlv.p, ta->dn.len) != 0)
				continue;
			char who[320];
			struct span dn = { ta->dn.data, ta->dn.len }, dnv;
			if (der_expect(&dn, 0x30, &dnv) != 0)
				dnv.n = 0;
			dn_format(dnv, subj, sizeof subj);
			snprintf(who, sizeof who, "the trust anchor \"%s\"", subj);
			if (ta->pkey.key_type == BR_KEYTYPE_RSA && rsa_bits(&ta->pkey.key.rsa) < NK_RSA_MIN_BITS) {
				nk_errf(e, "%s has a %u-bit RSA key: refused (at least %d bits)", who,
					rsa_bits(&ta->pkey.key.rsa), NK_RSA_MIN_BITS);
				return NK_CERT_UNSUPPORTED;
			}
			struct span nc = { t->nc[a].der, t->nc[a].len };
			if (nc.n > 0 && (st = nc_apply(nc, t->nc[a].critical, &leaf, who, e)) != NK_CERT_OK)
				return st;
		}
	}

	/* 6. usage */
	if (!(usages & BR_KEYTYPE_SIGN)) {
		nk_errf(e, "certificate key usage does not allow signatures (digitalSignature)");
		return NK_CERT_BAD_USAGE;
	}
	int eku = eku_server_ok(&leaf, 1);
	if (eku < 0) {
		nk_errf(e, "certificate extKeyUsage is malformed");
		return NK_CERT_MALFORMED;
	}
	if (eku == 0) {
		nk_errf(e, "certificate extKeyUsage does not include serverAuth");
		return NK_CERT_BAD_USAGE;
	}

	/* 7. name */
	if (o->host != NULL) {
		int m = name_matches(&leaf, o->host);
		if (m < 0) {
			nk_errf(e, "certificate subjectAltName is malformed");
			return NK_CERT_MALFORMED;
		}
		if (m == 0) {
			if (!leaf.has_san)
				nk_errf(e, "certificate has no subjectAltName, so it cannot match \"%s\" (no CN fallback)", o->host);
			else {
				char names[200];
				san_format(&leaf, names, sizeof names);
				nk_errf(e, "certificate is for %s, not %s", names, o->host);
			}
			return NK_CERT_BAD_NAME;
		}
	}

	res->not_before = leaf.nb;
	res->not_after = leaf.na;
	dn_format(leaf.subject, res->subject, sizeof res->subject);
	dn_format(leaf.issuer, res->issuer, sizeof res->issuer);
	return NK_CERT_OK;
}

/* ------------------------------------------------ server credentials */

struct chain_load {
	struct nk_server_cred *c;
	const char *path;
};

static int chain_pem_cb(void *arg, const char *name, const unsigned char *der, size_t len,
	unsigned idx, struct nk_err *e)
{
	struct chain_load *cl = arg;
	(void)idx;
	if (!is_cert_name(name))
		return 0;
	if (cl->c->chain_len == NK_CHAIN_MAX) {
		nk_errf(e, "%s: more than %d certificates", cl->path, NK_CHAIN_MAX);
		return -1;
	}
	unsigned char *d = malloc(len ? len : 1);
	if (d == NULL) {
		nk_errf(e, "%s: out of memory", cl->path);
		return -1;
	}
	memcpy(d, der, len);
	cl->c->chain[cl->c->chain_len].data = d;
	cl->c->chain[cl->c->chain_len].data_len = len;
	cl->c->chain_len++;
	return 0;
}

struct key_load {
	struct nk_privkey *k;
	const char *path;
	int found;
};

static int key_pem_cb(void *arg, const char *name, const unsigned char *der, size_t len,
	unsigned idx, struct nk_err *e)
{
	struct key_load *kl = arg;
	(void)idx;
	if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
		nk_errf(e, "%s: encrypted private keys are not supported", kl->path);
		return -1;
	}
	if (strcmp(name, "EC PRIVATE KEY") != 0 && strcmp(name, "RSA PRIVATE KEY") != 0
		&& strcmp(name, "PRIVATE KEY") != 0)
		return 0;           /* e.g. "EC PARAMETERS" written by openssl ecparam */
	if (kl->found) {
		nk_errf(e, "%s: more than one private key", kl->path);
		return -1;
	}
	br_skey_decoder_context *sd = malloc(sizeof *sd);
	if (sd == NULL) {
		nk_errf(e, "%s: out of memory", kl->path);
		return -1;
	}
	br_skey_decoder_init(sd);
	br_skey_decoder_push(sd, der, len);
	int err = br_skey_decoder_last_error(sd), r = -1;
	if (err != 0) {
		nk_errf(e, "%s: cannot decode %s: %s", kl->path, name, x509_err_str(err));
	} else if (br_skey_decoder_key_type(sd) == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *rk = br_skey_decoder_get_rsa(sd);
		if (rk->n_bitlen < 1024 || rk->n_bitlen > 8 * NK_RSA_MAX_BYTES)
			nk_errf(e, "%s: RSA key of %u bits not supported (1024..4096)", kl->path, rk->n_bitlen);
		else if (nk_privkey_set_rsa(kl->k, rk) != 0)
			nk_errf(e, "%s: RSA key too large", kl->path);
		else
			r = 0;
	} else {
		const br_ec_private_key *ek = br_skey_decoder_get_ec(sd);
		if (ek->curve != BR_EC_secp256r1 && ek->curve != BR_EC_secp384r1)
			nk_errf(e, "%s: EC key curve not supported (P-256 or P-384 only)", kl->path);
		else if (nk_privkey_set_ec(kl->k, ek) != 0)
			nk_errf(e, "%s: EC key too large", kl->path);
		else
			r = 0;
	}
	nk_wipe(sd, sizeof *sd);
	free(sd);
	kl->found = r == 0;
	return r;
}

/* Does the private key belong to the leaf's public key? 1 yes, 0 no. */
static int key_matches(const struct nk_privkey *sk, const struct nk_pubkey *pk)
{
	if (sk->key_type != pk->key_type)
		return 0;
	if (sk->key_type == BR_KEYTYPE_RSA) {
		const unsigned char *n = pk->buf;
		size_t nl = pk->key.rsa.nlen;
		unsigned bits = nl ? (unsigned)nl * 8 : 0;
		for (unsigned char top = nl ? n[0] : 0x80; !(top & 0x80); top <<= 1)
			bits--;
		if (bits != sk->key.rsa.n_bitlen)
			return 0;
		/* a signature made with the private key (CRT form: p, q, dp,
		 * dq, iq) that verifies under the certificate's n and e proves
		 * they belong together (BearSSL's br_rsa_compute_modulus stops
		 * short of 4096 bits and br_rsa_compute_pubexp needs p = q = 3
		 * mod 4, so neither is used) */
		static const char probe[] = "ntskit key check";
		unsigned char sig[NK_RSA_MAX_BYTES];
		long sl = nk_tlssig_sign(NK_SIG_RSA_PSS_RSAE_SHA256, sk, probe, sizeof probe, sig, sizeof sig);
		return sl > 0 && nk_tlssig_verify(NK_SIG_RSA_PSS_RSAE_SHA256, pk, probe, sizeof probe,
			sig, (size_t)sl) == 0;
	}
	unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
	br_ec_public_key ek;
	br_ec_private_key xk = sk->key.ec;
	size_t ql = br_ec_compute_pub(&nk_ec_all, &ek, q, &xk);
	return ql != 0 && ek.curve == pk->key.ec.curve && ql == pk->key.ec.qlen
		&& memcmp(q, pk->buf, ql) == 0;
}

int nk_server_cred_load(struct nk_server_cred *c, const char *chain_pem,
	const char *key_pem, struct nk_err *e)
{
	memset(c, 0, sizeof *c);
	struct chain_load cl = { c, chain_pem };
	if (pem_each(chain_pem, chain_pem_cb, &cl, e) < 0)
		goto fail;
	if (c->chain_len == 0) {
		nk_errf(e, "%s: no certificate found", chain_pem);
		goto fail;
	}
	/* the leaf's public key */
	br_x509_decoder_context dc;
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, c->chain[0].data, c->chain[0].data_len);
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL) {
		nk_errf(e, "%s: cannot decode the first certificate: %s", chain_pem,
			x509_err_str(br_x509_decoder_last_error(&dc)));
		goto fail;
	}
	if (nk_pubkey_set(&c->leaf_key, pk) != 0) {
		nk_errf(e, "%s: unsupported key in the first certificate", chain_pem);
		goto fail;
	}
	struct key_load kl = { &c->key, key_pem, 0 };
	if (pem_each(key_pem, key_pem_cb, &kl, e) < 0)
		goto fail;
	if (!kl.found) {
		nk_errf(e, "%s: no private key found", key_pem);
		goto fail;
	}
	if (!key_matches(&c->key, &c->leaf_key)) {
		nk_errf(e, "%s: private key does not match the certificate in %s", key_pem, chain_pem);
		goto fail;
	}
	return 0;
fail:
	nk_server_cred_free(c);
	return -1;
}

void nk_server_cred_free(struct nk_server_cred *c)
{
	for (size_t i = 0; i < c->chain_len && i < NK_CHAIN_MAX; i++)
		free(c->chain[i].data);
	nk_wipe(c, sizeof *c);
}
