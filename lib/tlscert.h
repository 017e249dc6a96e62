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

struct nk_trust {
	br_x509_trust_anchor *ta;
	size_t n;
	size_t cap;
};

void nk_trust_init(struct nk_trust *t);
/* Add every certificate of a PEM file as a trust anchor (CA flag from the
 * certificate's basicConstraints; a non-CA certificate is trusted directly
 * for its own key). 0 or -1 (e names file and problem). */
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
	NK_CERT_BAD_NAME,       /* host name does not match -> bad_certificate */
	NK_CERT_UNSUPPORTED,    /* key type/size or signature algorithm -> unsupported_certificate */
	NK_CERT_BAD_USAGE,      /* key usage / EKU forbids TLS server auth -> bad_certificate */
};

struct nk_certval_opts {
	const char *host;       /* DNS name or IP literal the client connected to; NULL: no name check */
	int64_t time;           /* validation time, Unix seconds */
	int skip_window;        /* 1: do not check notBefore/notAfter of any certificate */
};

struct nk_certval_result {
	struct nk_pubkey leaf_key;
	int64_t not_before, not_after;  /* leaf validity, Unix seconds */
	char subject[256], issuer[256]; /* leaf DNs in readable form, for --explain */
};

/* Validate a chain (DER certificates, leaf first, as in the TLS Certificate
 * message). No malloc. On NK_CERT_OK the result holds the leaf key and
 * window; otherwise e says why in one line. */
enum nk_cert_status nk_cert_validate(const struct nk_trust *t,
	const unsigned char *const *der, const size_t *der_len, size_t n,
	const struct nk_certval_opts *o, struct nk_certval_result *res,
	struct nk_err *e);

const char *nk_cert_status_str(enum nk_cert_status s);

/* Server side: a certificate chain and its key. */
#define NK_CHAIN_MAX 8
struct nk_server_cred {
	br_x509_certificate chain[NK_CHAIN_MAX];  /* data allocated at load */
	size_t chain_len;
	struct nk_privkey key;
	struct nk_pubkey leaf_key;
};
/* Load fullchain.pem and privkey.pem; the key must match the leaf. 0 or -1. */
int nk_server_cred_load(struct nk_server_cred *c, const char *chain_pem,
	const char *key_pem, struct nk_err *e);
void nk_server_cred_free(struct nk_server_cred *c);

#endif
