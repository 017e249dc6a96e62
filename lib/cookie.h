/*
 * cookie: stateless NTS cookies for a server (RFC 8915 §6, "Suggested Format
 * for NTS Cookies") and the master keys that protect them.
 *
 * Cookie layout (constant length NK_COOKIE_LEN = 168 octets, whatever the
 * session's AEAD, so that a cookie tells an observer nothing about it):
 *
 *   +--------+---------+------------------------------------------------+
 *   | key id | nonce N |  AEAD_AES_SIV_CMAC_256(K[key id], A = key id,  |
 *   |   4    |   16    |      N, P = AEAD id (2) || C2S || S2C || 0..)  |
 *   +--------+---------+------------------------------------------------+
 *                       16-octet SIV tag + 132-octet ciphertext
 *
 * P holds the session's AEAD id (big-endian), then C2S and S2C (each
 * nk_siv_key_len(aead) octets: 32 for id 15, 48 for 16, 64 for 17), then
 * zeros up to 132 octets (room for id 17). The key id is authenticated as
 * associated data; the nonce is the last AD component (RFC 5297 §3).
 * Opening a cookie checks: length, a key with that id is kept, the SIV
 * tag; then, in constant time (the AEAD id is secret: no branch or memory
 * index depends on it or on the keys), a supported AEAD id and the zero
 * padding, with one branch on the final verdict.
 *
 * Master keys (§6: "the server SHOULD periodically rotate its master key"):
 *   - each: a 32-bit id (random, distinct from the kept ones), its creation
 *     time, a 32-octet AES-SIV-CMAC-256 key;
 *   - cookies are sealed with the newest key; the last `keep` keys (default
 *     NK_COOKIE_KEEP = 7) open cookies, so with daily rotation a cookie
 *     stays valid for 6 to 7 days;
 *   - persisted in a key file (mode 0600, written through lib/atomicfile:
 *     a new file renamed over the old) so a restart keeps cookies valid.
 *     One record a line (ntskit-records(5) syntax), newest first:
 *       # nts-serve cookie keys: secret, keep 0600
 *       cookie-key id=HEX8 created=UNIX key=HEX64
 *     Several servers may share one file: they then accept each other's
 *     cookies (see nts-serve(8), COOKIE KEYS, for how to rotate).
 *
 * No malloc; AES-SIV contexts are set up once per key (nk_siv_init), so
 * sealing and opening cost one SIV operation each. nk_cookie_keys_wipe()
 * wipes everything.
 */
#ifndef NK_COOKIE_H
#define NK_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "aessiv.h"
#include "nts.h"
#include "util.h"

#define NK_COOKIE_KEY_LEN   32      /* AEAD_AES_SIV_CMAC_256 */
#define NK_COOKIE_ID_LEN    4
#define NK_COOKIE_NONCE_LEN 16
#define NK_COOKIE_PT_LEN    132     /* 2 + 64 + 64, padded to keep the cookie a multiple of 4 */
#define NK_COOKIE_LEN (NK_COOKIE_ID_LEN + NK_COOKIE_NONCE_LEN + NK_SIV_TAG_LEN + NK_COOKIE_PT_LEN)
#define NK_COOKIE_MAX_KEYS  16      /* largest `keep` */
#define NK_COOKIE_KEEP      7       /* default number of keys kept */
#define NK_COOKIE_ROTATE    86400   /* default rotation interval, seconds */

struct nk_cookie_key {
	uint32_t id;
	int64_t created;                /* UNIX seconds */
	uint8_t key[NK_COOKIE_KEY_LEN];
	struct nk_siv_ctx siv;          /* set up from key */
};

struct nk_cookie_keys {
	struct nk_cookie_key k[NK_COOKIE_MAX_KEYS];  /* k[0] is the newest */
	unsigned n;                     /* keys held, <= keep */
	unsigned keep;                  /* 1..NK_COOKIE_MAX_KEYS */
};

/* Empty set keeping `keep` keys (0: NK_COOKIE_KEEP; capped at the max). */
void nk_cookie_keys_init(struct nk_cookie_keys *ks, unsigned keep);
void nk_cookie_keys_wipe(struct nk_cookie_keys *ks);

/* Add a fresh random key created at `now` in front; the oldest beyond
 * `keep` is wiped and dropped. 0, or -1 (CSPRNG failure) with e filled. */
int nk_cookie_keys_rotate(struct nk_cookie_keys *ks, int64_t now, struct nk_err *e);

/* Add a given key (for loading and tests); keys stay sorted newest first
 * (by created, then kept order). -1 when the id is already held. When more
 * than `keep` are held the oldest is dropped. */
int nk_cookie_keys_add(struct nk_cookie_keys *ks, uint32_t id, int64_t created,
	const uint8_t key[NK_COOKIE_KEY_LEN], struct nk_err *e);

/* Read a key file into ks (replacing what it held). Returns 1 when keys were
 * read, 0 when the file does not exist (ks left empty), -1 with e =
 * "FILE:LINE: what" for a malformed file, or when it is readable by group or
 * others (a secret must be 0600 or stricter). */
int nk_cookie_keys_load(struct nk_cookie_keys *ks, const char *path, struct nk_err *e);

/* Write ks to path (mode 0600, by rename). 0 or -1 with e filled. */
int nk_cookie_keys_save(const struct nk_cookie_keys *ks, const char *path, struct nk_err *e);

/* Seal a session's keys into a cookie under the newest master key, with
 * the given nonce (from the CSPRNG: one fresh nonce per cookie keeps
 * cookies unlinkable). out gets NK_COOKIE_LEN octets. 0, or -1 when there
 * is no key or k's AEAD is not 15, 16 or 17. */
int nk_cookie_seal(const struct nk_cookie_keys *ks, const struct nk_nts_keys *k,
	const uint8_t nonce[NK_COOKIE_NONCE_LEN], uint8_t out[NK_COOKIE_LEN]);

/* Open a cookie: 0 and *k filled, or -1 (any reason; the reason is not
 * told to the caller on purpose: every failure answers the same NTSN).
 * Matches nk_nts_cookie_fn with arg = the struct nk_cookie_keys. */
int nk_cookie_open(const struct nk_cookie_keys *ks, const uint8_t *c, size_t len,
	struct nk_nts_keys *k);
int nk_cookie_open_cb(void *arg, const uint8_t *c, size_t len, struct nk_nts_keys *k);

/* The key id a cookie names (for logs and tests): 0 or -1 when too short. */
int nk_cookie_key_id(const uint8_t *c, size_t len, uint32_t *id);

#endif
