/*
 * tlscert: certificates for the TLS 1.3 engine.
 *
 *  - trust stores: the system bundle or a PEM file, decoded into BearSSL
 *    trust anchors (loading is set-up time and may allocate: nk_trust_free);
 *  - chain validation through br_x509_minimal against a trust store, with
 *    intermediates as the server sent them, at a validation time that is an
 *    input (never a hidden time() call), or with the validity window skipped
 *    on request (everything else still checked);
 *  - host name checks per RFC 9525 (DNS-ID with the left-most wildcard rule,
 *    IP-ID for IPv4/IPv6 literals; no CN fallback);
 *  - the leaf's notBefore/notAfter for RFC 8915 §8.5;
 *  - server side (issue 4): fullchain.pem + privkey.pem as Let's Encrypt
 *    writes them (EC SEC1/PKCS#8, RSA PKCS#1/PKCS#8), key checked against leaf.
 */
#ifndef NK_TLSCERT_H
#define NK_TLSCERT_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#include "tlssig.h"
#include "util.h"

#define NK_SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* An anchor's own nameConstraints (RFC 5280 §4.2.1.10), kept from its
 * certificate and applied to chains that end at it (len 0: none). */
struct nk_trust_nc {
	const unsigned char *der;   /* extnValue contents, inside the anchor's block */
	size_t len;
	int critical;
};

struct nk_trust {
	br_x509_trust_anchor *ta;
	struct nk_trust_nc *nc;     /* parallel to ta */
	size_t n;
	size_t cap;
};

void nk_trust_init(struct nk_trust *t);
/* Add every certificate of a PEM file as a trust anchor (CA flag from the
 * certificate's basicConstraints; a non-CA certificate is trusted directly
 * for its own key; the certificate's nameConstraints are kept and apply to
 * chains that end at it). Certificates with a key type BearSSL cannot use (e.g. an
 * Ed25519 root in the system bundle), and ones BearSSL decodes but whose
 * extensions cannot be read (so their nameConstraints would be lost), are
 * skipped; a certificate BearSSL cannot decode, malformed PEM, or a file
 * without any usable certificate is an error.
 * 0 or -1 (e names file and problem). */
int nk_trust_load_file(struct nk_trust *t, const char *path, struct nk_err *e);
/* Add one DER certificate as an anchor. */
int nk_trust_add_der(struct nk_trust *t, const void *der, size_t len, struct nk_err *e);
void nk_trust_free(struct nk_trust *t);

/* Result of validation; the TLS engine maps these to alerts. */
enum nk_cert_status {
	NK_CERT_OK = 0,
	NK_CERT_MALFORMED,      /* cannot be decoded -> decode_error/bad_certificate */
	NK_CERT_UNTRUSTED,      /* no path to an anchor -> unknown_ca */
	NK_CERT_EXPIRED,        /* -> certificate_expired */
	NK_CERT_NOT_YET_VALID,  /* -> certificate_expired */
	NK_CERT_BAD_NAME,       /* host name does not match, or a name of the leaf is outside a
	                         * CA's or the anchor's nameConstraints -> bad_certificate */
	NK_CERT_UNSUPPORTED,    /* key type/size (RSA < 2048), signature algorithm (MD5,
	                         * SHA-1), critical nameConstraints of other name forms
	                         * -> unsupported_certificate */
	NK_CERT_BAD_USAGE,      /* key usage / EKU forbids TLS server auth, CA:TRUE leaf,
	                         * intermediate EKU without serverAuth -> bad_certificate */
};

struct nk_certval_opts {
	const char *host;       /* DNS name (a final dot is ignored) or IP literal without
	                         * brackets ("::1"); NULL: no name check. Matched against
	                         * subjectAltName only (RFC 9525 §6.3): DNS-IDs case-
	                         * insensitively, "*." only as a whole left-most label over
	                         * >= 2 further labels; IP-IDs byte for byte; no CN fallback. */
	int64_t time;           /* validation time, Unix seconds */
	int skip_window;        /* 1: do not check notBefore/notAfter of any certificate (the
	                         * chain is then checked at the latest notBefore of its path,
	                         * which must not be after the earliest notAfter) */
};

struct nk_certval_result {
	struct nk_pubkey leaf_key;
	int64_t not_before, not_after;  /* leaf validity, Unix seconds */
	char subject[256], issuer[256]; /* leaf DNs in readable form, for --explain */
};

/* Validate a chain (DER certificates, leaf first, as in the TLS Certificate
 * message). No malloc; t, der, der_len, o, res must not be NULL. Checks, in
 * order: DER structure of every certificate (MALFORMED); validity window of
 * every certificate of the path, notBefore <= time <= notAfter inclusive
 * (NOT_YET_VALID / EXPIRED; certificates after the one an anchor issued are
 * ignored, as BearSSL ignores them); for a chain that reaches an anchor:
 * no MD2/MD4/MD5/SHA-1 signature on the leaf or an intermediate, RSA keys
 * of at least 2048 bits (UNSUPPORTED), leaf not a CA, intermediates'
 * extKeyUsage (if any) with serverAuth (BAD_USAGE); br_x509_minimal path to
 * an anchor, signatures, CA flags, key usage, critical extensions
 * (UNTRUSTED, UNSUPPORTED, BAD_USAGE); nameConstraints of the CAs and of
 * the anchor on the leaf's SAN dNSName/iPAddress entries (BAD_NAME; other
 * name forms in a critical extension: UNSUPPORTED); the anchor's RSA key
 * size (UNSUPPORTED); leaf may sign and its extKeyUsage, if any,
 * allows serverAuth (BAD_USAGE); host name (BAD_NAME: "certificate is for
 * NAMES, not HOST", NAMES as nk_cert_describe gives them). On NK_CERT_OK the
 * result holds the leaf key and window; otherwise e says why in one line.
 * A directly trusted certificate (non-CA anchor, e.g. RFC 8448's "rsa"
 * certificate) validates with host NULL; it has no subjectAltName, so any
 * host name fails. Its key was pinned by the user, so the 2048-bit minimum
 * does not apply to it (RFC 8448's key has 1024 bits). */
enum nk_cert_status nk_cert_validate(const struct nk_trust *t,
	const unsigned char *const *der, const size_t *der_len, size_t n,
	const struct nk_certval_opts *o, struct nk_certval_result *res,
	struct nk_err *e);

const char *nk_cert_status_str(enum nk_cert_status s);

/* The validity window of one DER certificate (Unix seconds), read without
 * judging anything else: what a server says about its own certificate.
 * 0, or -1 with e set for a certificate that does not parse. */
int nk_cert_window(const unsigned char *der, size_t len, int64_t *not_before, int64_t *not_after,
	struct nk_err *e);

/* What one DER certificate says about itself, read without judging it
 * (for --explain and messages about a refused certificate): subject and
 * issuer DNs as in nk_certval_result, the subjectAltName DNS names and IP
 * addresses (", "-separated, "..." when cut; "(no subjectAltName)"), the
 * validity window. 0, or -1 with e set when it does not parse. */
struct nk_cert_desc {
	char subject[256], issuer[256];
	char names[256];
	int64_t not_before, not_after;
};
int nk_cert_describe(const unsigned char *der, size_t len, struct nk_cert_desc *d,
	struct nk_err *e);

/* Server side: a certificate chain and its key. */
#define NK_CHAIN_MAX 8
struct nk_server_cred {
	br_x509_certificate chain[NK_CHAIN_MAX];  /* data allocated at load */
	size_t chain_len;
	struct nk_privkey key;
	struct nk_pubkey leaf_key;
};
/* Load fullchain.pem and privkey.pem (allocates the chain: set-up time).
 * Key forms: "EC PRIVATE KEY" (SEC1), "RSA PRIVATE KEY" (PKCS#1) and
 * "PRIVATE KEY" (PKCS#8, unencrypted); EC on P-256/P-384, RSA 1024..4096
 * bits. The key must match the leaf (EC: recomputed public point; RSA: same
 * modulus size and a probe signature that verifies under the leaf's key).
 * 0, or -1 with e naming the file and the problem (nothing to free then).
 * To reload, load into a second struct and swap on success. */
int nk_server_cred_load(struct nk_server_cred *c, const char *chain_pem,
	const char *key_pem, struct nk_err *e);
void nk_server_cred_free(struct nk_server_cred *c);

#endif
