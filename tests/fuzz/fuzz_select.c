/*
 * libFuzzer target for nts-select's algorithm (nts-select/select.c) and
 * nts-adjust's decisions (nts-adjust/adjust.c): the input bytes become
 * samples within the ranges nts-select's parser admits (every value a
 * bounded fixed-point number, as main.c guarantees: finite, in range);
 * the run must not crash, trip a sanitizer, or produce a non-finite or
 * out-of-interval result.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../nts-select/select.c"
#include "../../nts-adjust/adjust.c"

static uint32_t take(const uint8_t **p, size_t *n)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		v <<= 8;
		if (*n > 0) {
			v |= **p;
			(*p)++;
			(*n)--;
		}
	}
	return v;
}

/* a signed value in [-range, range] */
static double val(const uint8_t **p, size_t *n, double range)
{
	return ((double)take(p, n) / 2147483647.5 - 1.0) * range;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nk_sel_set set;
	struct nk_sel_params sp;
	struct nk_sel_result r;
	struct nk_adj_params ap = { 0.128, 1000, INFINITY, 86400, 10 };
	struct nk_adj_state st;
	struct nk_adj_decision d;
	char name[8];

	if (size < 2)
		return 0;
	nk_sel_init(&set);
	sp.min_agree = 1 + data[0] % 5;
	sp.max_distance = 0.01 + (data[1] % 200) * 0.01;
	data += 2;
	size -= 2;
	while (size >= 8) {
		struct nk_sel_sample s;
		int idx;
		memset(&s, 0, sizeof s);
		snprintf(name, sizeof name, "s%u", data[0] % 40);
		s.stratum = data[1] % 18;
		s.leap = data[2] & 3;
		s.authenticated = (data[3] & 7) != 0;
		s.has_window = (data[3] & 8) != 0;
		data += 4;
		size -= 4;
		s.t = 1.7e9 + val(&data, &size, 1e6);
		s.offset = val(&data, &size, (size & 1) ? 4e9 : 1.0);
		s.delay = val(&data, &size, 2.0);
		s.disp = val(&data, &size, 1.0);
		if (s.disp < 0) s.disp = -s.disp;
		s.root_delay = val(&data, &size, 1.0);
		if (s.root_delay < 0) s.root_delay = -s.root_delay;
		s.root_disp = val(&data, &size, 1.0);
		if (s.root_disp < 0) s.root_disp = -s.root_disp;
		s.not_before = s.t + val(&data, &size, 1e5);
		s.not_after = s.not_before + 1e5;
		idx = nk_sel_source_get(&set, name);
		nk_sel_add_sample(&set, idx, &s);
	}
	nk_sel_run(&set, &sp, &r);
	if (r.ok) {
		if (!isfinite(r.offset) || !isfinite(r.error) || r.error <= 0 || r.used == 0 ||
				r.used > r.agree || r.agree > r.candidates)
			__builtin_trap();
		nk_adj_state_init(&st);
		nk_adj_decide(&ap, &st, r.t, r.offset, 0, &d);
		nk_adj_commit(&st, &d, r.t);
		nk_adj_decide(&ap, &st, r.t + 64, r.offset / 3, 0.001, &d);
		if (!isfinite(d.freq_ppm) || d.freq_ppm > NK_ADJ_MAXFREQ || d.freq_ppm < -NK_ADJ_MAXFREQ)
			__builtin_trap();
	}
	return 0;
}
