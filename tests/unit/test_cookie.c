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
		cmocka_unit_test(test_rotation_window),
		cmocka_unit_test(test_add_order),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests_name("cookie", tests, NULL, NULL);
}
