/*
 * Unit tests for nts-adjust's decision logic (nts-adjust/adjust.c,
 * compiled in): step/slew, every panic threshold at its edge, startup vs
 * later, the accumulated limit, the PLL/FLL frequency updates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../nts-adjust/adjust.c"

#define T0 1700000000.0

struct adj_case {
	const char *what;
	struct nk_adj_params p;
	int started;
	double accumulated;
	double offset;
	enum nk_adj_action action;
	const char *reason;
};

#define DEF { 0.128, 1000, INFINITY, 1800, INFINITY }

static const struct adj_case cases[] = {
	{ "slew just below the step threshold", DEF, 0, 0, 0.1279, NK_ADJ_SLEW, "slew" },
	{ "step at the step threshold", DEF, 0, 0, 0.128, NK_ADJ_STEP, "startup-step" },
	{ "negative slew", DEF, 1, 0, -0.1279, NK_ADJ_SLEW, "slew" },
	{ "startup forward inf: a day ahead", DEF, 0, 0, 86400, NK_ADJ_STEP, "startup-step" },
	{ "startup backward just below 1800", DEF, 0, 0, -1799.999, NK_ADJ_STEP, "startup-step" },
	{ "startup backward at 1800 (strict bound)", DEF, 0, 0, -1800, NK_ADJ_REFUSED, "panic-startup-backward" },
	{ "startup backward just above 1800", DEF, 0, 0, -1800.001, NK_ADJ_REFUSED, "panic-startup-backward" },
	{ "startup forward 10: just below", { 0.128, 1000, 10, 1800, INFINITY }, 0, 0, 9.999, NK_ADJ_STEP, "startup-step" },
	{ "startup forward 10: just above", { 0.128, 1000, 10, 1800, INFINITY }, 0, 0, 10.001, NK_ADJ_REFUSED, "panic-startup-forward" },
	{ "startup backward inf", { 0.128, 1000, 10, INFINITY, INFINITY }, 0, 0, -1e8, NK_ADJ_STEP, "startup-step" },
	{ "startup ignores single", { 0.128, 1, INFINITY, 1800, INFINITY }, 0, 0, 5, NK_ADJ_STEP, "startup-step" },
	{ "later: single just below 1000", DEF, 1, 0, 999.999, NK_ADJ_STEP, "step" },
	{ "later: single just above 1000", DEF, 1, 0, 1000.001, NK_ADJ_REFUSED, "panic-single" },
	{ "later: single backward just above", DEF, 1, 0, -1000.001, NK_ADJ_REFUSED, "panic-single" },
	{ "later: single inf", { 0.128, INFINITY, INFINITY, 1800, INFINITY }, 1, 0, 1e7, NK_ADJ_STEP, "step" },
	{ "later: single 0 forbids steps", { 0.128, 0, INFINITY, 1800, INFINITY }, 1, 0, 0.2, NK_ADJ_REFUSED, "panic-single" },
	{ "later: single 0 still slews", { 0.128, 0, INFINITY, 1800, INFINITY }, 1, 0, 0.1, NK_ADJ_SLEW, "slew" },
	{ "accumulated: just below", { 0.128, 1000, INFINITY, 1800, 10 }, 1, 9.0, 0.999, NK_ADJ_STEP, "step" },
	{ "accumulated: exactly reached", { 0.128, 1000, INFINITY, 1800, 10 }, 1, 9.0, 1.0, NK_ADJ_STEP, "step" },
	{ "accumulated: just above", { 0.128, 1000, INFINITY, 1800, 10 }, 1, 9.0, 1.001, NK_ADJ_REFUSED, "panic-accumulated" },
	{ "accumulated counts backward steps too", { 0.128, 1000, INFINITY, 1800, 10 }, 1, 9.0, -1.001, NK_ADJ_REFUSED, "panic-accumulated" },
	{ "accumulated inf", DEF, 1, 1e9, 999, NK_ADJ_STEP, "step" },
	{ "accumulated 0 = disabled (ntpd-rs)", { 0.128, 1000, INFINITY, 1800, 0 }, 1, 1e9, 999, NK_ADJ_STEP, "step" },
	{ "accumulated does not limit the startup step", { 0.128, 1000, INFINITY, 1800, 1 }, 0, 0, 500, NK_ADJ_STEP, "startup-step" },
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct adj_case *c = &cases[i];
		struct nk_adj_state st;
		struct nk_adj_decision d;

		print_message("case: %s\n", c->what);
		nk_adj_state_init(&st);
		st.started = c->started;
		st.accumulated = c->accumulated;
		if (c->started) {
			st.last_t = T0 - 64;
			st.loop = 0;
		}
		nk_adj_decide(&c->p, &st, T0, c->offset, 0, &d);
		assert_int_equal(d.action, c->action);
		assert_string_equal(d.reason, c->reason);
		assert_int_equal(d.refused_panic, c->action == NK_ADJ_REFUSED);
		if (c->action == NK_ADJ_STEP || c->action == NK_ADJ_SLEW)
			assert_true(d.phase == c->offset);
	}
}

static void test_commit_and_accumulate(void **state)
{
	struct nk_adj_params p = { 0.128, 1000, INFINITY, 1800, 3 };
	struct nk_adj_state st;
	struct nk_adj_decision d;

	(void)state;
	nk_adj_state_init(&st);
	/* startup step: not counted (ntpd-rs) */
	nk_adj_decide(&p, &st, T0, 100, 0, &d);
	assert_int_equal(d.action, NK_ADJ_STEP);
	nk_adj_commit(&st, &d, T0);
	assert_int_equal(st.started, 1);
	assert_true(st.accumulated == 0);
	assert_true(st.created == T0);
	/* two later steps of 1.4 s: 2.8 <= 3 */
	nk_adj_decide(&p, &st, T0 + 64, 1.4, 0, &d);
	assert_int_equal(d.action, NK_ADJ_STEP);
	nk_adj_commit(&st, &d, T0 + 64);
	nk_adj_decide(&p, &st, T0 + 128, -1.4, 0, &d);
	assert_int_equal(d.action, NK_ADJ_STEP);
	nk_adj_commit(&st, &d, T0 + 128);
	assert_true(fabs(st.accumulated - 2.8) < 1e-12);
	/* a third goes beyond: refused, state unchanged */
	nk_adj_decide(&p, &st, T0 + 192, 0.3, 0, &d);
	assert_int_equal(d.action, NK_ADJ_REFUSED);
	nk_adj_commit(&st, &d, T0 + 192);
	assert_true(fabs(st.accumulated - 2.8) < 1e-12);
	assert_true(st.last_t == T0 + 128);
	assert_int_equal(st.steps, 3);
	/* a slew is never limited */
	nk_adj_decide(&p, &st, T0 + 192, 0.1, 0, &d);
	assert_int_equal(d.action, NK_ADJ_SLEW);
	/* not newer than the last update: none */
	nk_adj_decide(&p, &st, T0 + 128, 0.001, 0, &d);
	assert_int_equal(d.action, NK_ADJ_NONE);
}

static void test_frequency_loop(void **state)
{
	struct nk_adj_params p = { 0.128, 1000, INFINITY, 1800, INFINITY };
	struct nk_adj_state st;
	struct nk_adj_decision d;

	(void)state;
	nk_adj_state_init(&st);
	/* update 1: phase only */
	nk_adj_decide(&p, &st, T0, 0.01, 0, &d);
	assert_int_equal(d.action, NK_ADJ_SLEW);
	assert_string_equal(d.reason, "slew");
	assert_int_equal(d.set_freq, 0);
	nk_adj_commit(&st, &d, T0);
	/* update 2: FLL: -6.4 ms in 64 s = -100 ppm... clock fast: offset
	 * negative, frequency lowered by 100 ppm */
	nk_adj_decide(&p, &st, T0 + 64, -0.0064, 0, &d);
	assert_string_equal(d.reason, "slew-fll");
	assert_true(fabs(d.freq_ppm - -100) < 1e-9);
	assert_true(fabs(d.phase - -0.0064) < 1e-12);
	nk_adj_commit(&st, &d, T0 + 64);
	/* update 3: FLL, gain 1/2 (running mean) */
	nk_adj_decide(&p, &st, T0 + 128, 0.000064, 0, &d);
	assert_string_equal(d.reason, "slew-fll");
	assert_true(fabs(d.freq_ppm - (-100 + 0.5)) < 1e-9);
	assert_true(fabs(d.phase - 0.000064) < 1e-15);
	nk_adj_commit(&st, &d, T0 + 128);
	assert_true(st.loop_start == T0);
	/* after 16 FLL updates (or 4 and 1024 s): PLL, Kp = 2/24, Ki = 1/576 */
	{
		struct nk_adj_state s2 = st;
		s2.loop = 17;
		nk_adj_decide(&p, &s2, T0 + 192, 0.0024, 0, &d);
		assert_string_equal(d.reason, "slew-pll");
		assert_true(fabs(d.phase - 0.0002) < 1e-15);
		assert_true(fabs(d.freq_ppm - (st.freq_ppm + 0.0024 / 576 / 64 * 1e6)) < 1e-9);
		s2.loop = 5;
		s2.loop_start = T0 - 1000;
		nk_adj_decide(&p, &s2, T0 + 192, 0.0024, 0, &d);
		assert_string_equal(d.reason, "slew-pll");
		s2.loop = 4;
		nk_adj_decide(&p, &s2, T0 + 192, 0.0024, 0, &d);
		assert_string_equal(d.reason, "slew-fll");
	}
	/* a pending slew is not counted twice */
	nk_adj_decide(&p, &st, T0 + 192, 0.001, 0.001, &d);
	assert_true(fabs(d.phase - 0.001) < 1e-15);
	assert_true(d.freq_ppm == st.freq_ppm);
	/* frequency limited to the kernel's +-500 ppm */
	st.loop = 1;
	nk_adj_decide(&p, &st, T0 + 200, 0.1, 0, &d);
	assert_true(d.freq_ppm == -NK_ADJ_MAXFREQ || d.freq_ppm == NK_ADJ_MAXFREQ);
	/* updates closer than NK_ADJ_MIN_INTERVAL: phase only */
	nk_adj_decide(&p, &st, T0 + 129, 0.002, 0, &d);
	assert_string_equal(d.reason, "slew-short-interval");
	assert_int_equal(d.set_freq, 0);
	/* a step resets the loop to "phase fresh" */
	nk_adj_decide(&p, &st, T0 + 256, 0.5, 0, &d);
	assert_int_equal(d.action, NK_ADJ_STEP);
	nk_adj_commit(&st, &d, T0 + 256);
	assert_int_equal(st.loop, 1);
	assert_string_equal(nk_adj_action_word(NK_ADJ_REFUSED), "refused");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_commit_and_accumulate),
		cmocka_unit_test(test_frequency_loop),
	};
	return cmocka_run_group_tests_name("adjust", tests, NULL, NULL);
}
