/*
 * tlsks: the TLS 1.3 transcript and key schedule (RFC 8446 §4.4.1, §7.1,
 * §7.5), shared by the client and server roles.
 *
 *   transcript: both SHA-256 and SHA-384 run until the cipher suite (and so
 *     the hash) is known; on HelloRetryRequest, ClientHello1 is replaced by
 *     message_hash (§4.4.1).
 *   secrets:   0 -> Early Secret -> Handshake Secret -> Master Secret, with
 *     c/s handshake and application traffic secrets, the exporter master
 *     secret, Finished keys (§4.4.4), KeyUpdate (§7.2) and the exporter (§7.5).
 *
 * No PSK: the early secret is HKDF-Extract(0, 0). Everything is wiped by
 * nk_tlsks_wipe().
 */
#ifndef NK_TLSKS_H
#define NK_TLSKS_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#define NK_TLS_MAX_HASH 48   /* SHA-384 */

struct nk_tlsks {
	const br_hash_class *h;  /* NULL until nk_tlsks_set_hash() */
	size_t hl;
	br_sha256_context t256;  /* transcript, both until the suite is known */
	br_sha384_context t384;
	unsigned char secret[NK_TLS_MAX_HASH];   /* current stage: early, handshake, master */
	unsigned char c_hs[NK_TLS_MAX_HASH], s_hs[NK_TLS_MAX_HASH];
	unsigned char c_ap[NK_TLS_MAX_HASH], s_ap[NK_TLS_MAX_HASH];
	unsigned char exp_master[NK_TLS_MAX_HASH];
	unsigned char h_ch_sh[NK_TLS_MAX_HASH];  /* Transcript-Hash(ClientHello..ServerHello), for tests/explain */
};

void nk_tlsks_init(struct nk_tlsks *ks);
/* The suite's hash: br_sha256_vtable or br_sha384_vtable. */
void nk_tlsks_set_hash(struct nk_tlsks *ks, const br_hash_class *h);
/* Append one handshake message (with its 4-byte header). */
void nk_tlsks_add(struct nk_tlsks *ks, const void *msg, size_t len);
/* Current Transcript-Hash (hl bytes; set_hash first). */
void nk_tlsks_hash(const struct nk_tlsks *ks, void *out);
/* §4.4.1: after HelloRetryRequest, transcript := message_hash(Hash(CH1)).
 * Call after set_hash and before adding the HRR itself. */
void nk_tlsks_hrr_restart(struct nk_tlsks *ks);

/* §7.1: Early Secret (no PSK), then Handshake Secret from the (EC)DHE shared
 * secret and client/server handshake traffic secrets over the current
 * transcript (ClientHello..ServerHello). 0 or -1. */
int nk_tlsks_handshake(struct nk_tlsks *ks, const void *ecdhe, size_t ecdhe_len);
/* Master Secret, application traffic secrets and exporter master secret over
 * the current transcript (ClientHello..server Finished). 0 or -1. */
int nk_tlsks_master(struct nk_tlsks *ks);

/* §4.4.4: verify_data = HMAC(finished_key(base_key), Transcript-Hash) over
 * the current transcript. out gets hl bytes. */
int nk_tlsks_finished(const struct nk_tlsks *ks, const void *base_key, void *out);

/* §7.2: application_traffic_secret_N+1 (in place). */
int nk_tlsks_update_secret(const br_hash_class *h, unsigned char *secret);

/* §7.5: TLS-Exporter(label, context, length) =
 *   HKDF-Expand-Label(Derive-Secret(exporter_master, label, ""),
 *                     "exporter", Hash(context), length). 0 or -1. */
int nk_tlsks_export(const struct nk_tlsks *ks, const char *label,
	const void *ctx, size_t ctx_len, void *out, size_t out_len);

void nk_tlsks_wipe(struct nk_tlsks *ks);

#endif
