/* cookie: stateless NTS cookies and their master keys (see cookie.h). */
#include "cookie.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "ct.h"
#include "record.h"

void nk_cookie_keys_init(struct nk_cookie_keys *ks, unsigned keep)
{
	memset(ks, 0, sizeof *ks);
	if (keep == 0)
		keep = NK_COOKIE_KEEP;
	if (keep > NK_COOKIE_MAX_KEYS)
		keep = NK_COOKIE_MAX_KEYS;
	ks->keep = keep;
}

static void key_wipe(struct nk_cookie_key *k)
{
	nk_siv_clear(&k->siv);
	nk_wipe(k, sizeof *k);
}

void nk_cookie_keys_wipe(struct nk_cookie_keys *ks)
{
	for (unsigned i = 0; i < NK_COOKIE_MAX_KEYS; i++)
		key_wipe(&ks->k[i]);
	ks->n = 0;
}

static int has_id(const struct nk_cookie_keys *ks, uint32_t id)
{
	for (unsigned i = 0; i < ks->n; i++)
		if (ks->k[i].id == id)
			return 1;
	return 0;
}

int nk_cookie_keys_add(struct nk_cookie_keys *ks, uint32_t id, int64_t created,
	const uint8_t key[NK_COOKIE_KEY_LEN], struct nk_err *e)
{
	unsigned pos;

	if (has_id(ks, id)) {
		nk_errf(e, "cookie key id %08x given twice", (unsigned)id);
		return -1;
	}
	/* newest first: insert before the first older key */
	for (pos = 0; pos < ks->n; pos++)
		if (ks->k[pos].created < created)
			break;
	if (pos >= ks->keep)
		return 0;               /* older than everything kept: not needed */
	if (ks->n == ks->keep) {        /* drop the oldest */
		key_wipe(&ks->k[ks->n - 1]);
		ks->n--;
	}
	/* struct copies move the SIV contexts too: they hold no pointers */
	for (unsigned i = ks->n; i > pos; i--)
		ks->k[i] = ks->k[i - 1];
	memset(&ks->k[pos], 0, sizeof ks->k[pos]);
	ks->k[pos].id = id;
	ks->k[pos].created = created;
	memcpy(ks->k[pos].key, key, NK_COOKIE_KEY_LEN);
	if (nk_siv_init(&ks->k[pos].siv, key, NK_COOKIE_KEY_LEN, NK_AES_AUTO) < 0) {
		nk_errf(e, "cookie key %08x: AES-SIV setup failed", (unsigned)id);
		for (unsigned i = pos; i < ks->n; i++)
			ks->k[i] = ks->k[i + 1];
		key_wipe(&ks->k[ks->n]);
		return -1;
	}
	ks->n++;
	return 0;
}

int nk_cookie_keys_rotate(struct nk_cookie_keys *ks, int64_t now, struct nk_err *e)
{
	uint8_t key[NK_COOKIE_KEY_LEN];
	uint32_t id;
	int rc;

	do {
		if (nk_random(&id, sizeof id) < 0 || nk_random(key, sizeof key) < 0) {
			nk_errf(e, "cookie key rotation: the system CSPRNG failed");
			return -1;
		}
	} while (has_id(ks, id));
	/* the new key must come first, strictly newer, even if the clock went
	 * backwards or two rotations fall in the same second */
	if (ks->n > 0 && now <= ks->k[0].created)
		now = ks->k[0].created + 1;
	rc = nk_cookie_keys_add(ks, id, now, key, e);
	nk_wipe(key, sizeof key);
	if (rc == 0 && (ks->n == 0 || ks->k[0].id != id)) {
		nk_errf(e, "cookie key rotation: new key not in front");
		return -1;
	}
	return rc;
}

int nk_cookie_keys_load(struct nk_cookie_keys *ks, const char *path, struct nk_err *e)
{
	static struct nk_rec_reader rd;        /* large: not on the stack */
	struct nk_rec rec;
	struct stat st;
	unsigned keep = ks->keep;
	FILE *f;
	int rc;

	nk_cookie_keys_wipe(ks);
	nk_cookie_keys_init(ks, keep);
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		nk_errf(e, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || (st.st_mode & 077) != 0) {
		nk_errf(e, "%s: cookie key file is readable by group or others (mode %03o): "
			"it holds secrets, make it 0600", path, (unsigned)(st.st_mode & 0777));
		fclose(f);
		return -1;
	}
	nk_rec_reader_init(&rd, f, path);
	while ((rc = nk_rec_read(&rd, &rec, e)) == 1) {
		uint8_t id_b[4], key[NK_COOKIE_KEY_LEN];
		int64_t created;

		if (strcmp(rec.type, "cookie-key") != 0) {
			nk_errf(e, "%s:%lu: unexpected record type '%s' (want cookie-key)",
				path, rec.line, rec.type);
			rc = -1;
			break;
		}
		if (nk_rec_get_hex(&rec, "id", id_b, sizeof id_b, e) != 4 ||
		    nk_rec_get_i64(&rec, "created", &created, e) < 0 ||
		    nk_rec_get_hex(&rec, "key", key, sizeof key, e) != NK_COOKIE_KEY_LEN) {
			if (nk_rec_get(&rec, "id") != NULL && nk_rec_get(&rec, "key") != NULL &&
			    nk_rec_get(&rec, "created") != NULL)
				nk_rec_field_error(&rec, "key", e, "id must be 4 octets and key %d octets, in hex",
					NK_COOKIE_KEY_LEN);
			nk_wipe(key, sizeof key);
			rc = -1;
			break;
		}
		rc = nk_cookie_keys_add(ks, (uint32_t)id_b[0] << 24 | (uint32_t)id_b[1] << 16 |
			(uint32_t)id_b[2] << 8 | id_b[3], created, key, e);
		nk_wipe(key, sizeof key);
		if (rc < 0) {
			char m[sizeof e->msg];

			snprintf(m, sizeof m, "%s", e ? e->msg : "");
			nk_errf(e, "%s:%lu: %s", path, rec.line, m);
			break;
		}
	}
	nk_wipe(rd.raw, sizeof rd.raw);
	nk_wipe(rd.buf, sizeof rd.buf);
	fclose(f);
	if (rc < 0) {
		nk_cookie_keys_wipe(ks);
		return -1;
	}
	return ks->n > 0 ? 1 : 0;
}

int nk_cookie_keys_save(const struct nk_cookie_keys *ks, const char *path, struct nk_err *e)
{
	struct nk_atomic a;
	char hex[2 * NK_COOKIE_KEY_LEN + 1];

	if (nk_atomic_open(&a, path, 0600, e) < 0)
		return -1;
	fprintf(a.f, "# nts-serve cookie keys (nts-serve(8)): secret, keep 0600; newest first\n");
	for (unsigned i = 0; i < ks->n; i++) {
		nk_hex_encode(hex, ks->k[i].key, NK_COOKIE_KEY_LEN);
		fprintf(a.f, "cookie-key id=%08x created=%lld key=%s\n", (unsigned)ks->k[i].id,
			(long long)ks->k[i].created, hex);
	}
	nk_wipe(hex, sizeof hex);
	return nk_atomic_commit(&a, e);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

int nk_cookie_key_id(const uint8_t *c, size_t len, uint32_t *id)
{
	if (len < 4)
		return -1;
	*id = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
	return 0;
}

int nk_cookie_seal(const struct nk_cookie_keys *ks, const struct nk_nts_keys *k,
	const uint8_t nonce[NK_COOKIE_NONCE_LEN], uint8_t out[NK_COOKIE_LEN])
{
	uint8_t pt[NK_COOKIE_PT_LEN];
	size_t kl;
	int rc;

	if (ks->n == 0)
		return -1;
	kl = nk_siv_key_len(k->aead);
	if (kl == 0 || kl != k->key_len || 2 + 2 * kl > sizeof pt)
		return -1;
	memset(pt, 0, sizeof pt);
	pt[0] = (uint8_t)(k->aead >> 8);
	pt[1] = (uint8_t)k->aead;
	memcpy(pt + 2, k->c2s, kl);
	memcpy(pt + 2 + kl, k->s2c, kl);
	put32(out, ks->k[0].id);
	memcpy(out + NK_COOKIE_ID_LEN, nonce, NK_COOKIE_NONCE_LEN);
	rc = nk_siv_aead_seal(&ks->k[0].siv, out, NK_COOKIE_ID_LEN, nonce, NK_COOKIE_NONCE_LEN,
		pt, sizeof pt, out + NK_COOKIE_ID_LEN + NK_COOKIE_NONCE_LEN);
	nk_wipe(pt, sizeof pt);
	return rc < 0 ? -1 : 0;
}

/*
 * The AEAD id inside a cookie is secret (it is encrypted so that cookies
 * of all sessions look alike), and so is everything derived from it: the
 * key length, where the padding starts, where S2C begins. Past the SIV tag
 * check (itself constant time, its result public) nothing here branches
 * on the plaintext or indexes memory with it: the id is turned into masks,
 * the padding test and both key copies run over fixed lengths and fixed
 * offsets (each of the three possible S2C offsets is read, and masked in
 * or out), and the accept/refuse verdict is the one branch at the end.
 * What the caller learns after acceptance (k->aead, k->key_len) is
 * legitimately its.
 */
int nk_cookie_open(const struct nk_cookie_keys *ks, const uint8_t *c, size_t len,
	struct nk_nts_keys *k)
{
	static const uint32_t ids[3] = {
		NK_AEAD_AES_SIV_CMAC_256, NK_AEAD_AES_SIV_CMAC_384, NK_AEAD_AES_SIV_CMAC_512
	};
	static const uint32_t lens[3] = { 32, 48, 64 };
	uint8_t pt[NK_COOKIE_PT_LEN];
	struct nk_nts_keys t;
	const struct nk_cookie_key *key = NULL;
	uint32_t id, aead, kl = 0, known = 0, bad = 0, ok;

	if (len != NK_COOKIE_LEN || nk_cookie_key_id(c, len, &id) < 0)
		return -1;
	for (unsigned i = 0; i < ks->n; i++)
		if (ks->k[i].id == id)
			key = &ks->k[i];
	if (key == NULL)
		return -1;
	if (nk_siv_aead_open(&key->siv, c, NK_COOKIE_ID_LEN, c + NK_COOKIE_ID_LEN,
	    NK_COOKIE_NONCE_LEN, c + NK_COOKIE_ID_LEN + NK_COOKIE_NONCE_LEN,
	    len - NK_COOKIE_ID_LEN - NK_COOKIE_NONCE_LEN, pt) < 0)
		return -1;
	aead = (uint32_t)pt[0] << 8 | pt[1];
	for (int j = 0; j < 3; j++) {
		uint32_t m = nk_ct_mask_eq(aead, ids[j]);

		known |= m;
		kl |= lens[j] & m;
	}
	/* padding: every octet from 2 + 2 * kl on must be zero */
	for (uint32_t i = 2; i < sizeof pt; i++)
		bad |= pt[i] & ~nk_ct_mask_lt(i, 2 + 2 * kl);
	memset(&t, 0, sizeof t);
	for (uint32_t i = 0; i < sizeof t.c2s; i++) {
		uint32_t in = nk_ct_mask_lt(i, kl);
		uint32_t s = 0;

		for (int j = 0; j < 3; j++)
			s |= pt[2 + lens[j] + i] & nk_ct_mask_eq(kl, lens[j]);
		t.c2s[i] = (uint8_t)(pt[2 + i] & in);
		t.s2c[i] = (uint8_t)(s & in);
	}
	t.aead = (int)aead;
	t.key_len = kl;
	ok = known & nk_ct_mask_eq(bad, 0);
	nk_wipe(pt, sizeof pt);
	/* the one branch: accept or refuse */
	NK_CT_PUBLIC(&ok, sizeof ok);
	if (ok != 0)
		*k = t;
	nk_wipe(&t, sizeof t);
	return ok != 0 ? 0 : -1;
}

int nk_cookie_open_cb(void *arg, const uint8_t *c, size_t len, struct nk_nts_keys *k)
{
	return nk_cookie_open((const struct nk_cookie_keys *)arg, c, len, k);
}
