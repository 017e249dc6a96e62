/*
 * Unit tests for nts-select's algorithm (nts-select/select.c, compiled in):
 * table-driven selection with synthetic samples whose true offset is known.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../nts-select/select.c"

#define T0 1700000000.0

/* one synthetic source: 'n' samples around 'offset', spread 'spread' */
struct src_spec {
	const char *name;
	double offset;
	double delay;
	int stratum, leap, auth;
};

struct sel_case {
	const char *what;
	unsigned min_agree;
	struct src_spec s[8];
	/* expectations */
	int ok;
	enum nk_sel_reason why;  /* when !ok */
	double offset, tol;
	size_t agree, used;
	int leap, stratum;
	const char *rejected[4]; /* names expected falseticker/outlier/other */
};

static void feed(struct nk_sel_set *set, const struct src_spec *sp)
{
	int i, k;

	for (i = 0; i < 8 && sp[i].name != NULL; i++) {
		int idx = nk_sel_source_get(set, sp[i].name);
		for (k = 0; k < 4; k++) {
			struct nk_sel_sample s;
			memset(&s, 0, sizeof s);
			s.t = T0 + k;
			/* the first sample has the lowest delay and the exact offset;
			 * the others are a little off */
			s.offset = sp[i].offset + (k == 0 ? 0 : 0.0002 * (k % 2 ? 1 : -1));
			s.delay = (sp[i].delay > 0 ? sp[i].delay : 0.020) + 0.001 * k;
			s.disp = 0.0001;
			s.root_delay = 0.002;
			s.root_disp = 0.001;
			s.stratum = sp[i].stratum ? sp[i].stratum : 1;
			s.leap = sp[i].leap;
			s.authenticated = sp[i].auth == 0;
			nk_sel_add_sample(set, idx, &s);
		}
	}
}

static const struct sel_case cases[] = {
	{ "5 truechimers", 3,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.099, 0, 0, 0, 0 },
	    { "d", 0.1005, 0, 0, 0, 0 }, { "e", 0.0995, 0, 0, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.001, 5, 0, 0, 2, { NULL } },
	{ "1 falseticker of 5", 3,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.099, 0, 0, 0, 0 },
	    { "d", 0.1005, 0, 0, 0, 0 }, { "liar", 0.600, 0, 0, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.001, 4, 0, 0, 2, { "liar", NULL } },
	{ "2 falsetickers of 5, apart", 3,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.099, 0, 0, 0, 0 },
	    { "liar1", -0.300, 0, 0, 0, 0 }, { "liar2", 0.600, 0, 0, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.001, 3, 3, 0, 2, { "liar1", "liar2", NULL } },
	{ "2 colluding falsetickers of 5 (Byzantine minority)", 3,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.099, 0, 0, 0, 0 },
	    { "liar1", 0.600, 0, 0, 0, 0 }, { "liar2", 0.6005, 0, 0, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.001, 3, 3, 0, 2, { "liar1", "liar2", NULL } },
	{ "Byzantine split 2 vs 2: no majority", 1,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 },
	    { "x", 0.600, 0, 0, 0, 0 }, { "y", 0.601, 0, 0, 0, 0 } },
	  0, NK_SEL_R_NOMAJORITY, 0, 0, 0, 0, 0, 0, { NULL } },
	{ "Byzantine split 3 vs 3: no majority", 1,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.0995, 0, 0, 0, 0 },
	    { "x", 0.600, 0, 0, 0, 0 }, { "y", 0.601, 0, 0, 0, 0 }, { "z", 0.6005, 0, 0, 0, 0 } },
	  0, NK_SEL_R_NOMAJORITY, 0, 0, 0, 0, 0, 0, { NULL } },
	{ "Byzantine 3 vs 2 vs 1: 3 of 6 is no majority", 1,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.0995, 0, 0, 0, 0 },
	    { "x", 0.600, 0, 0, 0, 0 }, { "y", 0.601, 0, 0, 0, 0 }, { "z", -0.4, 0, 0, 0, 0 } },
	  0, NK_SEL_R_NOMAJORITY, 0, 0, 0, 0, 0, 0, { NULL } },
	{ "Byzantine 4 vs 2: the 4 win", 3,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.0995, 0, 0, 0, 0 },
	    { "d", 0.1002, 0, 0, 0, 0 }, { "x", 0.600, 0, 0, 0, 0 }, { "y", 0.601, 0, 0, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.001, 4, 0, 0, 2, { "x", "y", NULL } },
	{ "single source", 1,
	  { { "only", -0.250, 0, 3, 0, 0 } },
	  1, NK_SEL_OK, -0.250, 0.00001, 1, 1, 0, 4, { NULL } },
	{ "single source, min-agree 3 not met", 3,
	  { { "only", -0.250, 0, 0, 0, 0 } },
	  0, NK_SEL_OK, 0, 0, 1, 0, 0, 0, { NULL } },
	{ "min-agree 4 not met with 3 truechimers", 4,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.099, 0, 0, 0, 0 },
	    { "liar1", -0.300, 0, 0, 0, 0 }, { "liar2", 0.600, 0, 0, 0, 0 } },
	  0, NK_SEL_OK, 0, 0, 3, 0, 0, 0, { "liar1", "liar2", NULL } },
	{ "tie: two equal sources, mean offset, peer by name", 1,
	  { { "m2", 0.010, 0, 0, 0, 0 }, { "m1", 0.012, 0, 0, 0, 0 } },
	  1, NK_SEL_OK, 0.011, 0.000001, 2, 2, 0, 2, { NULL } },
	{ "leap vote: 3 of 5 announce insert", 3,
	  { { "a", 0.100, 0, 0, 1, 0 }, { "b", 0.101, 0, 0, 1, 0 }, { "c", 0.099, 0, 0, 1, 0 },
	    { "d", 0.1005, 0, 0, 0, 0 }, { "e", 0.0995, 0, 0, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.001, 5, 0, 1, 2, { NULL } },
	{ "leap vote: 2 of 5 announce insert: no leap", 3,
	  { { "a", 0.100, 0, 0, 1, 0 }, { "b", 0.101, 0, 0, 1, 0 }, { "c", 0.099, 0, 0, 0, 0 },
	    { "d", 0.1005, 0, 0, 0, 0 }, { "e", 0.0995, 0, 0, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.001, 5, 0, 0, 2, { NULL } },
	{ "leap vote: 3 of 5 announce delete", 3,
	  { { "a", 0.100, 0, 0, 2, 0 }, { "b", 0.101, 0, 0, 2, 0 }, { "c", 0.099, 0, 0, 2, 0 },
	    { "d", 0.1005, 0, 0, 0, 0 }, { "e", 0.0995, 0, 0, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.001, 5, 0, 2, 2, { NULL } },
	{ "leap 3 (unsynchronised) and stratum 16 sources are not candidates", 3,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.099, 0, 0, 0, 0 },
	    { "unsync", 0.5, 0, 0, 3, 0 }, { "s16", 0.5, 0, 16, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.001, 3, 3, 0, 2, { "unsync", "s16", NULL } },
	{ "unauthenticated samples are dropped (REQ-002)", 3,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.099, 0, 0, 0, 0 },
	    { "plain", 0.5, 0, 0, 0, 1 } },
	  1, NK_SEL_OK, 0.100, 0.001, 3, 3, 0, 2, { "plain", NULL } },
	{ "lowest stratum + 1, stratum ranks the system peer", 1,
	  { { "s3", 0.100, 0, 3, 0, 0 }, { "s2", 0.1001, 0, 2, 0, 0 }, { "s4", 0.0999, 0, 4, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.001, 3, 3, 0, 3, { NULL } },
	{ "far source beyond max distance", 1,
	  { { "a", 0.100, 0, 0, 0, 0 }, { "slow", 0.100, 4.0, 0, 0, 0 } },
	  1, NK_SEL_OK, 0.100, 0.0001, 1, 1, 0, 2, { "slow", NULL } },
};

static const struct nk_sel_source *byname(const struct nk_sel_set *s, const char *n)
{
	size_t i;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->src[i].name, n) == 0)
			return &s->src[i];
	return NULL;
}

static void test_table(void **state)
{
	static struct nk_sel_set set;
	size_t c, k;

	(void)state;
	for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const struct sel_case *tc = &cases[c];
		struct nk_sel_params p = { tc->min_agree, 1.5 };
		struct nk_sel_result r;

		print_message("case: %s\n", tc->what);
		nk_sel_init(&set);
		feed(&set, tc->s);
		nk_sel_run(&set, &p, &r);
		assert_int_equal(r.ok, tc->ok);
		if (!tc->ok) {
			assert_int_equal(r.why, tc->why);
			if (tc->agree)
				assert_int_equal(r.agree, tc->agree);
		} else {
			assert_true(fabs(r.offset - tc->offset) <= tc->tol);
			assert_int_equal(r.agree, tc->agree);
			if (tc->used)
				assert_int_equal(r.used, tc->used);
			assert_int_equal(r.leap, tc->leap);
			assert_int_equal(r.stratum, tc->stratum);
			assert_true(r.error > 0);
			assert_true(r.error >= r.root_delay / 2);
		}
		for (k = 0; k < 4 && tc->rejected[k] != NULL; k++) {
			const struct nk_sel_source *x = byname(&set, tc->rejected[k]);
			assert_non_null(x);
			assert_int_equal(x->used, 0);
			assert_int_not_equal(x->reason, NK_SEL_OK);
		}
	}
}

static void test_reasons(void **state)
{
	static struct nk_sel_set set;
	static const struct src_spec s[] = {
		{ "a", 0.100, 0, 0, 0, 0 }, { "b", 0.101, 0, 0, 0, 0 }, { "c", 0.099, 0, 0, 0, 0 },
		{ "liar", 0.700, 0, 0, 0, 0 }, { "unsync", 0.1, 0, 0, 3, 0 }, { "plain", 0.1, 0, 0, 0, 1 },
		{ "s16", 0.1, 0, 16, 0, 0 }, { NULL, 0, 0, 0, 0, 0 } };
	struct nk_sel_params p = { 3, 1.5 };
	struct nk_sel_result r;

	(void)state;
	nk_sel_init(&set);
	feed(&set, s);
	nk_sel_run(&set, &p, &r);
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.sources, 7);
	assert_int_equal(r.candidates, 4);
	assert_int_equal(byname(&set, "liar")->reason, NK_SEL_R_FALSETICKER);
	assert_int_equal(byname(&set, "unsync")->reason, NK_SEL_R_UNSYNC);
	assert_int_equal(byname(&set, "plain")->reason, NK_SEL_R_UNAUTH);
	assert_int_equal(byname(&set, "s16")->reason, NK_SEL_R_STRATUM);
	assert_string_equal(nk_sel_reason_word(NK_SEL_R_FALSETICKER), "falseticker");
	assert_string_equal(nk_sel_reason_word(NK_SEL_R_CERT), "cert-window");
}

/* RFC 8915 §8.5: server time must lie in the certificate window */
static void test_cert_window(void **state)
{
	static struct nk_sel_set set;
	struct nk_sel_sample s;
	int i;

	(void)state;
	nk_sel_init(&set);
	i = nk_sel_source_get(&set, "w");
	memset(&s, 0, sizeof s);
	s.t = T0;
	s.offset = 0.5;
	s.delay = 0.01;
	s.stratum = 2;
	s.authenticated = 1;
	s.has_window = 1;
	s.not_before = T0 - 100;
	s.not_after = T0 + 0.4;             /* server time T0+0.5 is after it */
	assert_int_equal(nk_sel_add_sample(&set, i, &s), NK_SEL_R_CERT);
	s.not_after = T0 + 0.6;
	assert_int_equal(nk_sel_add_sample(&set, i, &s), NK_SEL_OK);
	s.not_before = T0 + 0.51;           /* not yet valid */
	assert_int_equal(nk_sel_add_sample(&set, i, &s), NK_SEL_R_CERT);
	assert_int_equal(set.src[i].nstage, 1);
}

/* RFC 5905 §10: the lowest-delay sample wins; dispersion and jitter */
static void test_clock_filter(void **state)
{
	struct nk_sel_source src;
	static const double off[4] = { 0.010, 0.012, 0.008, 0.011 };
	static const double del[4] = { 0.030, 0.020, 0.040, 0.025 };
	double jit;
	int k;

	(void)state;
	memset(&src, 0, sizeof src);
	for (k = 0; k < 4; k++) {
		src.stage[k].t = T0 + k;
		src.stage[k].offset = off[k];
		src.stage[k].delay = del[k];
		src.stage[k].disp = 0.001;
	}
	src.nstage = 4;
	nk_sel_clock_filter(&src, T0 + 3);
	assert_true(src.best.offset == 0.012);  /* delay 0.020 */
	/* jitter: RMS of 0.012 - {0.011, 0.010, 0.008} over n-1 = 3 */
	jit = nk_sel_sqrt((0.001 * 0.001 + 0.002 * 0.002 + 0.004 * 0.004) / 3);
	assert_true(fabs(src.jitter - jit) < 1e-12);
	/* dispersion: sum (0.001 + PHI*age_i) / 2^(i+1), sorted by delay:
	 * ages 2, 0, 3, 1 */
	assert_true(fabs(src.disp - ((0.001 + NK_SEL_PHI * 2) / 2 + (0.001 + NK_SEL_PHI * 0) / 4 +
		(0.001 + NK_SEL_PHI * 3) / 8 + (0.001 + NK_SEL_PHI * 1) / 16)) < 1e-15);
	/* the window keeps the 8 most recent */
	memset(&src, 0, sizeof src);
	{
		static struct nk_sel_set set;
		struct nk_sel_sample s;
		int i;
		nk_sel_init(&set);
		i = nk_sel_source_get(&set, "r");
		memset(&s, 0, sizeof s);
		s.stratum = 1;
		s.authenticated = 1;
		for (k = 0; k < 12; k++) {
			s.t = T0 + k;
			s.delay = 0.001 * (12 - k);  /* later ones faster */
			s.offset = k;
			nk_sel_add_sample(&set, i, &s);
		}
		assert_int_equal(set.src[i].nstage, NK_SEL_NSTAGE);
		nk_sel_clock_filter(&set.src[i], T0 + 11);
		assert_true(set.src[i].best.offset == 11);
		nk_sel_new_round(&set);
		assert_int_equal(set.src[i].nstage, 0);
	}
}

/* §11.2.1 directly: counts of falsetickers, touching intervals, failure */
static void test_intersect(void **state)
{
	double lo, hi;
	static const double m1[] = { 0, 0.1, 0.05 }, r1[] = { 0.1, 0.1, 0.1 };
	static const double m2[] = { 0, 1, 2, 3 }, r2[] = { 0.1, 0.1, 0.1, 0.1 };
	static const double m3[] = { 0, 0.2, 5 }, r3[] = { 0.1, 0.1, 0.1 };
	static const double m4[] = { 0, 0.01, 0.02, 0.9, 1.0 }, r4[] = { 0.05, 0.05, 0.05, 0.05, 0.05 };

	(void)state;
	assert_int_equal(nk_sel_intersect(m1, r1, 3, &lo, &hi), 0);
	assert_true(fabs(lo - 0.0) < 1e-12 && fabs(hi - 0.1) < 1e-12);
	assert_int_equal(nk_sel_intersect(m2, r2, 4, &lo, &hi), -1);
	/* two intervals only touching at 0.1: their midpoints lie outside the
	 * intersection, so with one falseticker allowed there is no clique */
	assert_int_equal(nk_sel_intersect(m3, r3, 3, &lo, &hi), -1);
	assert_int_equal(nk_sel_intersect(m4, r4, 5, &lo, &hi), 2);
	assert_true(fabs(lo + 0.03) < 1e-12 && fabs(hi - 0.05) < 1e-12);
	assert_int_equal(nk_sel_intersect(m1, r1, 0, &lo, &hi), -1);
}

/* §11.2.2: a truechimer far from the others is pruned down to NMIN */
static void test_cluster(void **state)
{
	static struct nk_sel_set set;
	struct nk_sel_params p = { 1, 1.5 };
	struct nk_sel_result r;
	static const char *names[5] = { "a", "b", "c", "d", "wide" };
	static const double off[5] = { 0.1000, 0.1001, 0.0999, 0.1002, 0.130 };
	int j, k;

	(void)state;
	nk_sel_init(&set);
	for (j = 0; j < 5; j++) {
		int i = nk_sel_source_get(&set, names[j]);
		for (k = 0; k < 2; k++) {
			struct nk_sel_sample s;
			memset(&s, 0, sizeof s);
			s.t = T0 + k;
			s.offset = off[j];
			s.delay = 0.08;     /* wide intervals: everyone is a truechimer */
			s.stratum = 1;
			s.authenticated = 1;
			nk_sel_add_sample(&set, i, &s);
		}
	}
	nk_sel_run(&set, &p, &r);
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.agree, 5);
	assert_int_equal(r.used, NK_SEL_NMIN);
	assert_int_equal(byname(&set, "wide")->reason, NK_SEL_R_OUTLIER);
	assert_true(fabs(r.offset - 0.1) < 0.0002);
}

static void test_sqrt(void **state)
{
	(void)state;
	assert_true(nk_sel_sqrt(0) == 0);
	assert_true(nk_sel_sqrt(-1) == 0);
	assert_true(fabs(nk_sel_sqrt(2) - 1.4142135623730951) < 1e-15);
	assert_true(fabs(nk_sel_sqrt(1e-12) - 1e-6) < 1e-20);
	assert_true(fabs(nk_sel_sqrt(1e18) - 1e9) < 1e-6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_cert_window),
		cmocka_unit_test(test_clock_filter),
		cmocka_unit_test(test_intersect),
		cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_sqrt),
	};
	return cmocka_run_group_tests_name("select", tests, NULL, NULL);
}
