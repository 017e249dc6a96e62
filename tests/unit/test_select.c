/*
 * Unit tests for nts-select's algorithm (nts-select/select.c, compiled in):
 * table-driven selection with synthetic samples whose true offset is known.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
	struct nk_sel_filter src;
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
		assert_int_equal(set.src[i].ncirc, 1);
		nk_sel_clock_filter(&set.src[i].circ[0], T0 + 11);
		assert_true(set.src[i].circ[0].best.offset == 11);
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
	/* the cluster's combination is that of the 3 left ... */
	assert_true(fabs(r.rd_offset - 0.1) < 0.0002);
	/* ... while the bound is the intersection of all 5 truechimers' sample
	 * intervals, "wide" [0.09, 0.17] included: [0.09, 0.1399] */
	assert_int_equal(r.bounded, 1);
	assert_true(fabs(r.blow - 0.09) < 0.00001 && fabs(r.bhigh - 0.1399) < 0.00001);
	assert_true(fabs(r.offset - 0.11495) < 0.00002);
	assert_true(fabs(r.offset - 0.1) <= r.error);
}

static void test_wmedian(void **state)
{
	static const double v3[] = { 3, 1, 2 }, w3[] = { 1, 1, 1 };
	static const double v2[] = { 2, 1 }, w2[] = { 1, 1 };
	static const double v4[] = { 0.1, 0.2, 0.3, 5.0 }, w4[] = { 1, 1, 3, 0.1 };

	(void)state;
	assert_true(nk_sel_wmedian(v3, w3, 3) == 2);
	assert_true(nk_sel_wmedian(v2, w2, 2) == 1.5);
	assert_true(nk_sel_wmedian(v4, w4, 4) == 0.3);  /* weight 3 of 5.1 */
	assert_true(nk_sel_wmedian(v3, w3, 1) == 3);
}

/* one sample of a source on a circuit: offset, delay, time */
static void put(struct nk_sel_set *set, const char *name, int circuit, double t,
	double offset, double delay)
{
	struct nk_sel_sample s;

	memset(&s, 0, sizeof s);
	s.t = t;
	s.offset = offset;
	s.delay = delay;
	s.disp = 0.00001;
	s.root_delay = 0.002;
	s.root_disp = 0.001;
	s.stratum = 1;
	s.authenticated = 1;
	s.circuit = circuit;
	assert_int_equal(nk_sel_add_sample(set, nk_sel_source_get(set, name), &s), NK_SEL_OK);
}

/* Circuits of one source: a filter each, the weighted median of their
 * offsets, so one circuit's asymmetry does not drag the estimate; the
 * root distance covers the circuits' spread; the sample intervals
 * intersect into the bound. */
static void test_circuits(void **state)
{
	static struct nk_sel_set set;
	const struct nk_sel_source *x;
	struct nk_sel_params p = { 1, 1.5 };
	struct nk_sel_result r;
	int c;

	(void)state;
	nk_sel_init(&set);
	/* truth 0; circuits 1-3 nearly symmetric, circuit 4 with +0.1 s of
	 * asymmetry error (its offset +0.1, delay 0.3: still honest) */
	for (c = 1; c <= 3; c++) {
		put(&set, "s", c, T0, 0.002 * (c - 2), 0.20 + 0.01 * c);
		put(&set, "s", c, T0 + 1, 0.002 * (c - 2) + 0.01, 0.26);  /* slower, off */
	}
	put(&set, "s", 4, T0 + 1, 0.100, 0.300);
	x = &set.src[0];
	assert_int_equal(x->ncirc, 4);
	assert_int_equal(x->nstage, 7);
	nk_sel_run(&set, &p, &r);
	assert_int_equal(r.ok, 1);
	assert_int_equal(x->paths, 4);
	/* median of -0.002, 0, +0.002 (weights ~1/0.1) and 0.1 (~1/0.15) */
	assert_true(fabs(x->best.offset) <= 0.002);
	/* its distance reaches back to a circuit's correctness interval */
	assert_true(x->rootdist >= x->circ[0].rootdist);
	assert_true(x->jitter > 0.001);          /* the spread of the circuits */
	assert_int_equal(x->bounded, 1);
	/* the intersection: circuit 4's [0.1 - 0.15 - e, ...] lifts the low end */
	assert_true(x->low > -0.0525 && x->low < -0.0515);
	assert_true(x->high > 0.1045 && x->high < 0.1055);
	assert_int_equal(r.bounded, 1);
	assert_true(r.offset == x->low / 2 + x->high / 2);
	assert_true(r.error == x->high / 2 - x->low / 2);
	assert_true(r.error < r.root_delay / 2 + r.root_disp);
	assert_true(fabs(r.offset) <= r.error);
	assert_true(r.rd_offset == x->best.offset);

	/* no circuit field is circuit 1; a 17th circuit is refused */
	nk_sel_new_round(&set);
	assert_int_equal(set.src[0].ncirc, 0);
	put(&set, "s", 0, T0, 0, 0.1);
	put(&set, "s", 1, T0, 0, 0.1);
	assert_int_equal(set.src[0].ncirc, 1);
	for (c = 2; c <= NK_SEL_MAX_CIRCUITS; c++)
		put(&set, "s", c, T0, 0, 0.1);
	{
		struct nk_sel_sample s = set.src[0].circ[0].stage[0];
		s.circuit = NK_SEL_MAX_CIRCUITS + 1;
		assert_int_equal(nk_sel_add_sample(&set, 0, &s), NK_SEL_R_CIRCUITS);
		assert_int_equal(set.src[0].last_reject, NK_SEL_R_CIRCUITS);
		s.circuit = 3;
		assert_int_equal(nk_sel_add_sample(&set, 0, &s), NK_SEL_OK);
	}
}

/* Sample intervals that do not meet (a server whose answers contradict
 * each other): no bound, the root distance result is reported. */
static void test_bound_fallback(void **state)
{
	static struct nk_sel_set set;
	struct nk_sel_params p = { 1, 1.5 };
	struct nk_sel_result r;

	(void)state;
	nk_sel_init(&set);
	put(&set, "s", 1, T0, 0.000, 0.020);
	put(&set, "s", 2, T0 + 1, 0.050, 0.021);
	nk_sel_run(&set, &p, &r);
	assert_int_equal(r.ok, 1);
	assert_int_equal(set.src[0].bounded, 0);
	assert_int_equal(r.bounded, 0);
	assert_true(r.offset == r.rd_offset);
	assert_true(r.error == r.root_delay / 2 + r.root_disp);

	/* three agreeing sources, each consistent in itself, but b's sample
	 * intervals [0.028, 0.052] and [-0.017, 0.037] miss a's [-0.022,
	 * 0.022]: the intersection over the survivors is empty, so again the
	 * root distance (b's jitter keeps it a truechimer) */
	nk_sel_init(&set);
	put(&set, "a", 1, T0, 0.000, 0.040);
	put(&set, "c", 1, T0, 0.005, 0.040);
	put(&set, "b", 1, T0, 0.040, 0.020);
	put(&set, "b", 1, T0, 0.010, 0.050);
	nk_sel_run(&set, &p, &r);
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.agree, 3);
	assert_int_equal(byname(&set, "a")->bounded, 1);
	assert_int_equal(byname(&set, "b")->bounded, 1);
	assert_int_equal(r.bounded, 0);
	assert_true(r.offset == r.rd_offset);
	assert_true(r.error == r.root_delay / 2 + r.root_disp);
}

/* Random numbers for the simulation, no libm: xorshift64*, ln by the
 * atanh series after taking the exponent apart, exp by squaring. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double uni(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((rng * 0x2545f4914f6cdd1dull) >> 11) * (1.0 / 9007199254740992.0) + 0x1p-54;
}

static double ln(double x)
{
	int e;
	double m = frexp(x, &e), z, z2, sum = 0, term;
	int k;

	if (m < 0.7071067811865476) {
		m *= 2;
		e--;
	}
	z = (m - 1) / (m + 1);
	z2 = z * z;
	term = z;
	for (k = 1; k < 60; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return 2 * sum + e * 0.6931471805599453;
}

static double ex(double x)
{
	int k = (int)(x / 0.6931471805599453);
	double r = x - k * 0.6931471805599453, sum = 1, term = 1;
	int i;

	for (i = 1; i < 30; i++) {
		term *= r / i;
		sum += term;
	}
	return ldexp(sum, k);
}

static double gauss(void)
{
	/* Marsaglia's polar method */
	double a, b, q;

	do {
		a = 2 * uni() - 1;
		b = 2 * uni() - 1;
		q = a * a + b * b;
	} while (q >= 1 || q == 0);
	return a * nk_sel_sqrt(-2 * ln(q) / q);
}

/* issue 16's latency model: Frechet (shape 3, median 450 ms) round trip
 * per circuit, split by a fraction uniform in [0.3, 0.7]; per direction
 * and sample lognormal jitter (median 20 ms, sigma 1) and 1% 1 s stalls */
static double frechet450(void)
{
	double scale = 0.450 * ex(ln(ln(2.0)) / 3);

	return scale * ex(-ln(-ln(uni())) / 3);
}

static double leg(double base)
{
	return base + 0.020 * ex(gauss()) + (uni() < 0.01 ? 1.0 : 0);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define SIM_ROUNDS 2000
#define SIM_CIRC   4
#define SIM_SAMP   4

/* One simulated round of nsrc sources over ncirc circuits each (circuit
 * field left out when 1), with known truth; a liar 2 s off when asked.
 * Returns 1 with *err and *half of the result, 0 when no offset. */
static int sim_round(int nsrc, int ncirc, int liar, double truth, const double *rtt,
	const double *frac, const double *srv, unsigned long seed, double *err, double *half,
	int *bounded, double *rd_err, double *rd_half)
{
	static struct nk_sel_set set;
	struct nk_sel_params p = { 1, 1.5 };
	struct nk_sel_result r;
	uint64_t keep = rng;
	int i, c, k;

	rng = seed;
	nk_sel_init(&set);
	for (i = 0; i < nsrc + liar; i++) {
		char name[16];
		int idx;
		snprintf(name, sizeof name, "s%d", i);
		idx = nk_sel_source_get(&set, name);
		for (c = 0; c < ncirc; c++) {
			double base = rtt[i * SIM_CIRC + c], f = frac[i * SIM_CIRC + c];
			for (k = 0; k < SIM_SAMP; k++) {
				struct nk_sel_sample s;
				double out = leg(base * f), back = leg(base * (1 - f));
				memset(&s, 0, sizeof s);
				s.t = T0 + 2 * k + 0.1 * c;
				/* the local clock drifts 10 ppm: the offset at t was
				 * truth + 10e-6 * (now - t), "now" the last sample */
				s.offset = truth + 10e-6 * (T0 + 2 * (SIM_SAMP - 1) + 0.1 * (ncirc - 1) - s.t) +
					srv[i] + (out - back) / 2 + (i == nsrc ? 2.0 : 0);
				s.delay = out + back;
				s.root_delay = 0.004;
				s.root_disp = 0.003;
				s.disp = 2 * 0x1p-20 + NK_SEL_PHI * s.delay;
				s.stratum = 2;
				s.authenticated = 1;
				s.circuit = ncirc > 1 ? c + 1 : 0;
				nk_sel_add_sample(&set, idx, &s);
			}
		}
	}
	rng = keep;
	nk_sel_run(&set, &p, &r);
	if (!r.ok)
		return 0;
	*err = r.offset - truth;
	*half = r.error;
	*bounded = r.bounded;
	*rd_err = r.rd_offset - truth;
	*rd_half = r.root_delay / 2 + r.root_disp;
	return 1;
}

/* Issue 16 item 3: many rounds of asymmetric paths with known truth. The
 * reported bar holds the truth in every round, and with circuits (and with
 * the intersection) the median |error| and half-width beat the
 * single-circuit root-distance result. */
static void sim(int nsrc, int liars)
{
	static double e1[SIM_ROUNDS], h1[SIM_ROUNDS], en[SIM_ROUNDS], hn[SIM_ROUNDS];
	static double eb1[SIM_ROUNDS], hb1[SIM_ROUNDS];
	double rtt[8 * SIM_CIRC], frac[8 * SIM_CIRC], srv[8];
	size_t n1 = 0, nn = 0, r, i, nb = 0, rd1 = 0, rdn = 0;

	for (r = 0; r < SIM_ROUNDS; r++) {
		double truth = 2 * uni() - 1, err, half, rde, rdh;
		unsigned long seed = (unsigned long)(r * 7919 + 17) * 0x9e3779b97f4a7c15ull;
		int b, liar = liars && uni() < 0.5;
		for (i = 0; i < (size_t)(nsrc + liar) * SIM_CIRC; i++) {
			rtt[i] = frechet450();
			frac[i] = 0.3 + 0.4 * uni();
		}
		for (i = 0; i < (size_t)(nsrc + liar); i++)  /* within root-delay/2 + root-disp */
			srv[i] = (2 * uni() - 1) * 0.005;
		/* one circuit: today's result is rd_*, the bound err/half */
		if (sim_round(nsrc, 1, liar, truth, rtt, frac, srv, seed, &err, &half, &b, &rde, &rdh)) {
			rd1 += rde <= rdh && -rde <= rdh;
			assert_true(err <= half && -err <= half);
			e1[n1] = rde < 0 ? -rde : rde;
			h1[n1] = rdh;
			eb1[n1] = err < 0 ? -err : err;
			hb1[n1++] = half;
		}
		if (sim_round(nsrc, SIM_CIRC, liar, truth, rtt, frac, srv, seed, &err, &half, &b, &rde, &rdh)) {
			if (!(err <= half && -err <= half))
				print_message("round %zu: error %+.6f outside +-%.6f\n", r, err, half);
			assert_true(err <= half && -err <= half);
			rdn += rde <= rdh && -rde <= rdh;
			en[nn] = err < 0 ? -err : err;
			hn[nn++] = half;
			nb += (size_t)b;
		}
	}
	assert_true(n1 > SIM_ROUNDS * 9 / 10 && nn > SIM_ROUNDS * 9 / 10);
	assert_int_equal(nb, nn);    /* honest paths: the intersection is never empty */
	qsort(e1, n1, sizeof e1[0], cmp_d);
	qsort(h1, n1, sizeof h1[0], cmp_d);
	qsort(eb1, n1, sizeof eb1[0], cmp_d);
	qsort(hb1, n1, sizeof hb1[0], cmp_d);
	qsort(en, nn, sizeof en[0], cmp_d);
	qsort(hn, nn, sizeof hn[0], cmp_d);
	print_message("%d source(s)%s, %d rounds: truth inside the bar in 100%%\n"
		"  (the root distance bar held it in %.2f%% with 1 circuit, %.2f%% with %d)\n"
		"  1 circuit, root distance:   median |error| %6.1f ms, p95 %6.1f ms, median half-width %6.1f ms\n"
		"  1 circuit, intersection:    median |error| %6.1f ms, p95 %6.1f ms, median half-width %6.1f ms\n"
		"  %d circuits, intersection:   median |error| %6.1f ms, p95 %6.1f ms, median half-width %6.1f ms\n",
		nsrc, liars ? " + a liar in half the rounds" : "", SIM_ROUNDS,
		100.0 * (double)rd1 / (double)n1, 100.0 * (double)rdn / (double)nn, SIM_CIRC,
		e1[n1 / 2] * 1e3, e1[n1 * 95 / 100] * 1e3, h1[n1 / 2] * 1e3,
		eb1[n1 / 2] * 1e3, eb1[n1 * 95 / 100] * 1e3, hb1[n1 / 2] * 1e3,
		SIM_CIRC, en[nn / 2] * 1e3, en[nn * 95 / 100] * 1e3, hn[nn / 2] * 1e3);
	assert_true(en[nn / 2] < e1[n1 / 2]);
	assert_true(hn[nn / 2] < h1[n1 / 2]);
	assert_true(hb1[n1 / 2] < h1[n1 / 2]);
}

static void test_bound_simulation(void **state)
{
	(void)state;
	sim(1, 0);
	sim(5, 0);
	sim(5, 1);
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
		cmocka_unit_test(test_wmedian),
		cmocka_unit_test(test_circuits),
		cmocka_unit_test(test_bound_fallback),
		cmocka_unit_test(test_bound_simulation),
	};
	return cmocka_run_group_tests_name("select", tests, NULL, NULL);
}
