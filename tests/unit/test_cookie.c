/* Unit tests for lib/cookie: RFC 8915 §6 cookies, key rotation, key file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cookie.h"

static struct nk_cookie_keys ks, ks2;

static void mk_keys(struct nk_nts_keys *k, int aead)
{
	memset(k, 0, sizeof *k);
	k->aead = aead;
	k->key_len = nk_siv_key_len(aead);
	for (size_t i = 0; i < k->key_len; i++) {
		k->c2s[i] = (uint8_t)i;
		k->s2c[i] = (uint8_t)(0x80 + i);
	}
}

static void test_roundtrip(void **state)
{
	static const int aeads[] = { 15, 16, 17 };
	uint8_t c[NK_COOKIE_LEN], nonce[16] = { 1 };
	struct nk_nts_keys k, out;
	uint32_t id;
	(void)state;
	nk_cookie_keys_init(&ks, 0);
	assert_int_equal(ks.keep, 7);
	assert_int_equal(NK_COOKIE_LEN, 168);
	assert_int_equal(NK_COOKIE_LEN % 4, 0);
	mk_keys(&k, 15);
	assert_int_equal(nk_cookie_seal(&ks, &k, nonce, c), -1);   /* no key yet */
	assert_int_equal(nk_cookie_keys_rotate(&ks, 1000, NULL), 0);
	for (size_t i = 0; i < 3; i++) {
		mk_keys(&k, aeads[i]);
		assert_int_equal(nk_cookie_seal(&ks, &k, nonce, c), 0);
		assert_int_equal(nk_cookie_key_id(c, sizeof c, &id), 0);
		assert_int_equal(id, ks.k[0].id);
		assert_memory_equal(c + 4, nonce, 16);
		assert_int_equal(nk_cookie_open(&ks, c, sizeof c, &out), 0);
		assert_int_equal(out.aead, aeads[i]);
		assert_int_equal(out.key_len, k.key_len);
		assert_memory_equal(out.c2s, k.c2s, k.key_len);
		assert_memory_equal(out.s2c, k.s2c, k.key_len);
		/* callback form, as nk_nts_server_parse calls it */
		assert_int_equal(nk_cookie_open_cb(&ks, c, sizeof c, &out), 0);
	}
	/* unsupported AEAD cannot be sealed */
	mk_keys(&k, 15);
	k.aead = 30;
	assert_int_equal(nk_cookie_seal(&ks, &k, nonce, c), -1);
	nk_cookie_keys_wipe(&ks);
}

static void test_tamper(void **state)
{
	uint8_t c[NK_COOKIE_LEN], t[NK_COOKIE_LEN + 4], nonce[16] = { 9 };
	struct nk_nts_keys k, out;
	(void)state;
	nk_cookie_keys_init(&ks, 0);
	assert_int_equal(nk_cookie_keys_rotate(&ks, 1000, NULL), 0);
	mk_keys(&k, 15);
	assert_int_equal(nk_cookie_seal(&ks, &k, nonce, c), 0);
	for (size_t i = 0; i < sizeof c; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(t, c, sizeof c);
			t[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(nk_cookie_open(&ks, t, sizeof c, &out), -1);
		}
	}
	/* wrong lengths: shorter, longer (even with zero padding) */
	memcpy(t, c, sizeof c);
	memset(t + sizeof c, 0, 4);
	assert_int_equal(nk_cookie_open(&ks, t, sizeof c - 1, &out), -1);
	assert_int_equal(nk_cookie_open(&ks, t, sizeof c + 4, &out), -1);
	assert_int_equal(nk_cookie_open(&ks, t, 0, &out), -1);
	/* same keys, different nonce: a different, unlinkable cookie */
	nonce[0] ^= 1;
	assert_int_equal(nk_cookie_seal(&ks, &k, nonce, t), 0);
	assert_memory_not_equal(t + 20, c + 20, sizeof c - 20);
	nk_cookie_keys_wipe(&ks);
}

/*
 * Cookies sealed by ntskit before nk_cookie_open became constant time
 * (commit 1d6e657; master key 40 41 .. 5f with id
 * 1234abcd, nonce (a*16 .. a*16+15), c2s[i] = 0x11 * a + 3i + 1,
 * s2c[i] = 0xf0 - 5i + a for the a-th AEAD) still open to the same keys:
 * the format did not change.
 */
static void test_old_cookies(void **state)
{
	static const struct { int aead; const char *hex; } v[] = {
		{ 15,
		  "1234abcd000102030405060708090a0b0c0d0e0f13e9fa48870eb83cf0455d97"
		  "d623a8dc0418c81b0845333c7000bdd7bbc25d187539282873bdc9327d3ea68a"
		  "0e8be76739559ab2f0ae0a94a7e3e2549fa42170f9d0da3e0afb646333c63933"
		  "fe709fdaf1530c2c0c72260273900c59443e50532ec45a6403aebb86960e900a"
		  "20cc0158631ad743e1b38dc62cca27f27165ac5a31f10dd3b7d51488cd19e71f"
		  "93d71cf202aff8d9" },
		{ 16,
		  "1234abcd101112131415161718191a1b1c1d1e1fe4687509e96387a31ad65fc0"
		  "2161540cae7ff97880dd0b71d13764972021221f37db79ce83efe5f183e640ef"
		  "84f608c259456c869375be28d0e5ae3c0c2d9838c0e30c1c522abedee78d4315"
		  "c7a28cc3f84159856d43a77b3a92404a008050f9b65aa0147a93c989eee55c1b"
		  "6b7154f2fff877e14a74caa41773a6b425f1dc7835a2ce3f9a53ac7d0d9a1cd3"
		  "2956107279e6feba" },
		{ 17,
		  "1234abcd202122232425262728292a2b2c2d2e2f59ebc270b5bb14b98e4053df"
		  "7996a0a66aeedb311a6384126f20d8910ea22711ff33f6afc87853cbf1f4f874"
		  "86ff5d2342bfbab3479b17a64fade5836e7543e55477ba515abd44a553034e92"
		  "89500feaa49cf77568709ce4306aa903fc189c92f737789edc1a8613653c7e96"
		  "b2d3fda2a4715a283a90eb1ebd54696e607233c13e8ef3b6049afbdc6d05ba5a"
		  "e4774d4f14b9ae7e" }
	};
	uint8_t mk[32], c[NK_COOKIE_LEN];
	struct nk_nts_keys out;
	(void)state;

	for (int i = 0; i < 32; i++)
		mk[i] = (uint8_t)(0x40 + i);
	nk_cookie_keys_init(&ks, 0);
	assert_int_equal(nk_cookie_keys_add(&ks, 0x1234abcd, 1700000000, mk, NULL), 0);
	for (int a = 0; a < 3; a++) {
		assert_int_equal(nk_hex_decode(c, sizeof c, v[a].hex, strlen(v[a].hex)), NK_COOKIE_LEN);
		memset(&out, 0xee, sizeof out);
		assert_int_equal(nk_cookie_open(&ks, c, sizeof c, &out), 0);
		assert_int_equal(out.aead, v[a].aead);
		assert_int_equal(out.key_len, nk_siv_key_len(v[a].aead));
		for (size_t i = 0; i < 64; i++) {
			int in = i < out.key_len;

			assert_int_equal(out.c2s[i], in ? (uint8_t)(0x11 * a + 3 * i + 1) : 0);
			assert_int_equal(out.s2c[i], in ? (uint8_t)(0xf0 - 5 * i + a) : 0);
		}
	}
	nk_cookie_keys_wipe(&ks);
}

/* Seal plaintext pt (NK_COOKIE_PT_LEN octets) as a cookie under ks.k[0]. */
static void seal_raw(uint8_t c[NK_COOKIE_LEN], const uint8_t *pt)
{
	static const uint8_t nonce[16] = { 7, 7, 7 };

	c[0] = (uint8_t)(ks.k[0].id >> 24); c[1] = (uint8_t)(ks.k[0].id >> 16);
	c[2] = (uint8_t)(ks.k[0].id >> 8); c[3] = (uint8_t)ks.k[0].id;
	memcpy(c + 4, nonce, 16);
	assert_int_equal(nk_siv_aead_seal(&ks.k[0].siv, c, 4, nonce, 16, pt, NK_COOKIE_PT_LEN,
		c + 20), 0);
}

/*
 * Authentic cookies (right master key, right tag) whose plaintext is not
 * one the server makes: an unknown AEAD id, or a non-zero octet anywhere
 * in the padding of each AEAD. All refused, *k untouched; the exact
 * plaintext of each AEAD accepted.
 */
static void test_forged_plaintext(void **state)
{
	static const int bad_ids[] = { 0, 1, 14, 18, 30, 0x010f, 0x0f00, 0xff0f, 0xffff };
	uint8_t pt[NK_COOKIE_PT_LEN], c[NK_COOKIE_LEN];
	struct nk_nts_keys out, untouched;
	(void)state;

	nk_cookie_keys_init(&ks, 0);
	assert_int_equal(nk_cookie_keys_rotate(&ks, 1000, NULL), 0);
	memset(&untouched, 0x5a, sizeof untouched);
	for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
		memset(pt, 0, sizeof pt);
		pt[0] = (uint8_t)(bad_ids[i] >> 8);
		pt[1] = (uint8_t)bad_ids[i];
		memset(pt + 2, 0x33, 64);   /* keys of any length */
		seal_raw(c, pt);
		out = untouched;
		assert_int_equal(nk_cookie_open(&ks, c, sizeof c, &out), -1);
		assert_memory_equal(&out, &untouched, sizeof out);
	}
	for (int aead = 15; aead <= 17; aead++) {
		size_t kl = nk_siv_key_len(aead);

		memset(pt, 0, sizeof pt);
		pt[1] = (uint8_t)aead;
		for (size_t i = 2; i < 2 + 2 * kl; i++)
			pt[i] = (uint8_t)(i | 1);
		seal_raw(c, pt);
		assert_int_equal(nk_cookie_open(&ks, c, sizeof c, &out), 0);
		assert_int_equal(out.aead, aead);
		assert_int_equal(out.key_len, kl);
		assert_memory_equal(out.c2s, pt + 2, kl);
		assert_memory_equal(out.s2c, pt + 2 + kl, kl);
		for (size_t p = 2 + 2 * kl; p < sizeof pt; p++) {
			for (int bit = 0; bit < 8; bit += 7) {
				pt[p] = (uint8_t)(1u << bit);
				seal_raw(c, pt);
				out = untouched;
				assert_int_equal(nk_cookie_open(&ks, c, sizeof c, &out), -1);
				assert_memory_equal(&out, &untouched, sizeof out);
				pt[p] = 0;
			}
		}
	}
	nk_cookie_keys_wipe(&ks);
}

static void test_rotation_window(void **state)
{
	uint8_t c[NK_COOKIE_LEN], nonce[16] = { 3 };
	struct nk_nts_keys k, out;
	(void)state;
	nk_cookie_keys_init(&ks, 7);
	assert_int_equal(nk_cookie_keys_rotate(&ks, 0, NULL), 0);
	mk_keys(&k, 17);
	assert_int_equal(nk_cookie_seal(&ks, &k, nonce, c), 0);
	/* 6 rotations: the key is the 7th, still kept */
	for (int i = 1; i <= 6; i++) {
		assert_int_equal(nk_cookie_keys_rotate(&ks, i * 86400, NULL), 0);
		assert_int_equal(nk_cookie_open(&ks, c, sizeof c, &out), 0);
	}
	assert_int_equal(ks.n, 7);
	assert_int_equal(nk_cookie_keys_rotate(&ks, 7 * 86400, NULL), 0);
	assert_int_equal(ks.n, 7);
	assert_int_equal(nk_cookie_open(&ks, c, sizeof c, &out), -1);
	/* newest first, always */
	for (unsigned i = 1; i < ks.n; i++)
		assert_true(ks.k[i - 1].created >= ks.k[i].created);
	/* a clock that went backwards still puts the new key first */
	assert_int_equal(nk_cookie_keys_rotate(&ks, 5, NULL), 0);
	assert_int_equal(ks.k[0].created, 7 * 86400 + 1);
	nk_cookie_keys_wipe(&ks);
}

static void test_add_order(void **state)
{
	uint8_t key[32] = { 0 };
	(void)state;
	nk_cookie_keys_init(&ks, 3);
	assert_int_equal(nk_cookie_keys_add(&ks, 2, 200, key, NULL), 0);
	assert_int_equal(nk_cookie_keys_add(&ks, 1, 100, key, NULL), 0);
	assert_int_equal(nk_cookie_keys_add(&ks, 3, 300, key, NULL), 0);
	assert_int_equal(nk_cookie_keys_add(&ks, 3, 400, key, NULL), -1);   /* duplicate id */
	assert_int_equal(ks.k[0].id, 3);
	assert_int_equal(ks.k[2].id, 1);
	assert_int_equal(nk_cookie_keys_add(&ks, 0, 50, key, NULL), 0);     /* too old: not kept */
	assert_int_equal(ks.n, 3);
	assert_int_equal(ks.k[2].id, 1);
	assert_int_equal(nk_cookie_keys_add(&ks, 4, 250, key, NULL), 0);    /* oldest dropped */
	assert_int_equal(ks.k[1].id, 4);
	assert_int_equal(ks.k[2].id, 2);
	nk_cookie_keys_wipe(&ks);
}

static void test_file(void **state)
{
	char dir[] = "/tmp/test_cookie.XXXXXX", path[128];
	uint8_t c[NK_COOKIE_LEN], nonce[16] = { 5 };
	struct nk_nts_keys k, out;
	struct nk_err e;
	struct stat st;
	FILE *f;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/keys", dir);
	nk_cookie_keys_init(&ks, 0);
	assert_int_equal(nk_cookie_keys_load(&ks, path, &e), 0);    /* missing: 0 */
	for (int i = 0; i < 3; i++)
		assert_int_equal(nk_cookie_keys_rotate(&ks, 1000 + i, NULL), 0);
	mk_keys(&k, 15);
	assert_int_equal(nk_cookie_seal(&ks, &k, nonce, c), 0);
	assert_int_equal(nk_cookie_keys_save(&ks, path, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* a restart: a new process reads the file and opens the old cookie */
	nk_cookie_keys_init(&ks2, 0);
	assert_int_equal(nk_cookie_keys_load(&ks2, path, &e), 1);
	assert_int_equal(ks2.n, 3);
	assert_int_equal(ks2.k[0].id, ks.k[0].id);
	assert_int_equal(nk_cookie_open(&ks2, c, sizeof c, &out), 0);
	assert_memory_equal(out.s2c, k.s2c, 32);
	/* readable by others: refused */
	chmod(path, 0644);
	assert_int_equal(nk_cookie_keys_load(&ks2, path, &e), -1);
	assert_non_null(strstr(e.msg, "0600"));
	/* malformed: named by line */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# comment\ncookie-key id=0102 created=1 key=00\n");
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(nk_cookie_keys_load(&ks2, path, &e), -1);
	assert_non_null(strstr(e.msg, ":2:"));
	f = fopen(path, "w");
	fprintf(f, "session x=1\n");
	fclose(f);
	assert_int_equal(nk_cookie_keys_load(&ks2, path, &e), -1);
	assert_non_null(strstr(e.msg, "cookie-key"));
	f = fopen(path, "w");
	fprintf(f, "cookie-key id=01020304 created=1 key=%064d\ncookie-key id=01020304 created=2 key=%064d\n", 0, 0);
	fclose(f);
	assert_int_equal(nk_cookie_keys_load(&ks2, path, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	assert_int_equal(ks2.n, 0);
	unlink(path);
	rmdir(dir);
	nk_cookie_keys_wipe(&ks);
	nk_cookie_keys_wipe(&ks2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_old_cookies),
		cmocka_unit_test(test_forged_plaintext),
		cmocka_unit_test(test_rotation_window),
		cmocka_unit_test(test_add_order),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests_name("cookie", tests, NULL, NULL);
}
