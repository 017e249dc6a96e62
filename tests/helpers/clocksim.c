/*
 * clocksim: closed-loop simulation of nts-select + nts-adjust against a
 * simulated clock, in simulated time (a day runs in well under a second).
 *
 * The code under test is the tools' own: nts-select/select.c and
 * nts-adjust/adjust.c are compiled into this program.
 *
 * Model: the local clock runs with a frequency error of +FREQ ppm (default
 * 100) and starts OFFSET s behind (default 0.5). The kernel is modelled as
 * Linux does it for nts-adjust's calls: ADJ_FREQUENCY adds a frequency
 * correction, ADJ_OFFSET_SINGLESHOT slews a remainder at 500 ppm (a new one
 * replaces the old remainder), ADJ_SETOFFSET steps. Every INTERVAL s
 * (default 64) each of SOURCES servers (default 1) is polled COUNT times
 * (default 4, 2 s apart); each one-way network delay is 5 ms plus an
 * exponentially distributed jitter of mean JITTER s (default 0.001), so a
 * sample's offset is off by (out - in)/2 and its delay is out + in.
 * --gaussian instead puts Gaussian noise of deviation JITTER directly on
 * every offset, independent of the delay (a pessimistic model the clock
 * filter cannot see through). After each round
 * the samples go through nk_sel_run() and the offset through
 * nk_adj_decide()/nk_adj_commit(), exactly as the tools do.
 *
 * Output: one line per hour of simulated time, then
 *   "converged-after SECONDS", "final-offset S", "final-freq-error PPM",
 *   "max-offset-after-convergence S", "max-freq-error-after-convergence PPM".
 * Exit 0 when, from some time on until the end, |offset| < 1 ms and the
 * frequency error < 1 ppm at every round; 1 otherwise.
 *
 * usage: clocksim [--hours H] [--freq PPM] [--offset S] [--jitter S]
 *                 [--interval S] [--sources N] [--falsetickers N] [--seed N]
 *                 [--gaussian] [--quiet]
 */
#include "../../nts-select/select.c"
#include "../../nts-adjust/adjust.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

/* natural logarithm without libm: ln x = k ln 2 + 2 atanh((y-1)/(y+1)) */
static double ln(double x)
{
	double k = 0, z, z2, sum = 0, term;
	int i;

	while (x < 0.5) { x *= 2; k -= 1; }
	while (x > 1) { x /= 2; k += 1; }
	z = (x - 1) / (x + 1);
	z2 = z * z;
	term = z;
	for (i = 1; i < 80; i += 2) {
		sum += term / i;
		term *= z2;
	}
	return k * 0.69314718055994530942 + 2 * sum;
}

/* Gaussian deviate, Marsaglia's polar method */
static double gauss(void)
{
	double u, v, q;

	do {
		u = 2 * urand() - 1;
		v = 2 * urand() - 1;
		q = u * u + v * v;
	} while (q >= 1 || q == 0);
	return u * nk_sel_sqrt(-2 * ln(q) / q);
}

struct sim {
	double T;               /* true time (seconds since the start + T0) */
	double L;               /* local clock */
	double nat_ppm;         /* natural frequency error */
	double freq_ppm;        /* kernel frequency correction */
	double pending;         /* singleshot remainder */
};

/* advance true time by dt, in small steps so that slewing is modelled */
static void run(struct sim *s, double dt)
{
	while (dt > 0) {
		double h = dt < 0.5 ? dt : 0.5, slew = 500e-6 * h;
		s->L += h * (1 + (s->nat_ppm + s->freq_ppm) * 1e-6);
		if (fabs(s->pending) <= slew) {
			s->L += s->pending;
			s->pending = 0;
		} else {
			double a = s->pending > 0 ? slew : -slew;
			s->L += a;
			s->pending -= a;
		}
		s->T += h;
		dt -= h;
	}
}

int main(int argc, char **argv)
{
	double hours = 24, nat = 100, off0 = 0.5, jitter = 0.001, interval = 64;
	int sources = 1, falsetickers = 0, quiet = 0, gaussian = 0, i, count = 4;
	static struct nk_sel_set set;
	struct nk_sel_params sp = { 1, 1.5 };
	struct nk_adj_params ap = { 0.128, 1000, INFINITY, 1800, INFINITY };
	struct nk_adj_state st;
	struct sim s;
	double conv = -1, maxo = 0, maxf = 0, end, last_hour = 0;
	unsigned long rounds = 0, steps = 0, refused = 0;
	char name[32];

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--quiet") == 0) { quiet = 1; continue; }
		if (strcmp(a, "--gaussian") == 0) { gaussian = 1; continue; }
		if (v == NULL) { fprintf(stderr, "clocksim: %s needs a value\n", a); return 2; }
		if (strcmp(a, "--hours") == 0) hours = atof(v);
		else if (strcmp(a, "--freq") == 0) nat = atof(v);
		else if (strcmp(a, "--offset") == 0) off0 = atof(v);
		else if (strcmp(a, "--jitter") == 0) jitter = atof(v);
		else if (strcmp(a, "--interval") == 0) interval = atof(v);
		else if (strcmp(a, "--sources") == 0) sources = atoi(v);
		else if (strcmp(a, "--falsetickers") == 0) falsetickers = atoi(v);
		else if (strcmp(a, "--seed") == 0) rng = strtoull(v, NULL, 0) | 1;
		else { fprintf(stderr, "clocksim: unknown option %s\n", a); return 2; }
		i++;
	}
	if (sources < 1 || sources > 32 || falsetickers < 0 || falsetickers >= sources ||
			interval < 2 * count) {
		fprintf(stderr, "clocksim: bad parameters\n");
		return 2;
	}
	sp.min_agree = (unsigned)(sources - falsetickers);

	s.T = 1.7e9;
	s.L = s.T - off0;
	s.nat_ppm = nat;
	s.freq_ppm = 0;
	s.pending = 0;
	end = s.T + hours * 3600;
	nk_sel_init(&set);
	nk_adj_state_init(&st);

	while (s.T < end) {
		struct nk_sel_result r;
		struct nk_adj_decision d;
		double start = s.T, x, fe;
		int k, j;

		nk_sel_new_round(&set);
		for (k = 0; k < count; k++) {
			for (j = 0; j < sources; j++) {
				struct nk_sel_sample smp;
				memset(&smp, 0, sizeof smp);
				snprintf(name, sizeof name, "sim%d", j);
				double dout, din;
				if (gaussian) {
					/* pessimistic: offset noise independent of delay */
					dout = din = 0.005;
					smp.offset = s.T - s.L + jitter * gauss();
					smp.delay = 0.010 + fabs(jitter * gauss());
				} else {
					/* each one-way delay: 5 ms + exponential jitter with
					 * mean (and deviation) JITTER: the offset error is
					 * (out - in)/2, the delay out + in */
					dout = 0.005 - jitter * ln(urand());
					din = 0.005 - jitter * ln(urand());
					smp.offset = s.T - s.L + (dout - din) / 2;
					smp.delay = dout + din;
				}
				smp.t = s.L;
				if (j < falsetickers)
					smp.offset += 0.25 + 0.01 * j;   /* a lying server */
				smp.disp = 1e-5;
				smp.root_delay = 0.0001;
				smp.root_disp = 0.0001;
				smp.stratum = 1;
				smp.leap = 0;
				smp.authenticated = 1;
				nk_sel_add_sample(&set, nk_sel_source_get(&set, name), &smp);
			}
			run(&s, 2);
		}
		/* check before this round's correction: the clock as it is */
		x = s.T - s.L;
		fe = s.nat_ppm + s.freq_ppm;
		rounds++;
		if (fabs(x) < 0.001 && fabs(fe) < 1) {
			if (conv < 0)
				conv = s.T - 1.7e9;
		} else {
			conv = -1;
		}
		if (conv >= 0) {
			if (fabs(x) > maxo)
				maxo = fabs(x);
			if (fabs(fe) > maxf)
				maxf = fabs(fe);
		} else {
			maxo = maxf = 0;
		}
		if (!quiet && s.T - 1.7e9 >= last_hour) {
			printf("t=%6.0fs offset=%+.6f freq-error=%+.3fppm kernel-freq=%+.3fppm loop=%u\n",
				s.T - 1.7e9, x, fe, s.freq_ppm, st.loop);
			last_hour += (getenv("SIMSTEP") ? atof(getenv("SIMSTEP")) : 3600);
		}

		nk_sel_run(&set, &sp, &r);
		if (r.ok) {
			nk_adj_decide(&ap, &st, r.t, r.offset, s.pending, &d);
			switch (d.action) {
			case NK_ADJ_STEP:
				s.pending = 0;
				s.L += d.phase;
				steps++;
				break;
			case NK_ADJ_SLEW:
				s.pending = d.phase;
				s.freq_ppm = d.freq_ppm;
				break;
			case NK_ADJ_REFUSED:
				refused++;
				break;
			case NK_ADJ_NONE:
				break;
			}
			nk_adj_commit(&st, &d, r.t);
		}
		run(&s, interval - (s.T - start));
	}
	printf("rounds %lu steps %lu refused %lu\n", rounds, steps, refused);
	printf("final-offset %+.6f\n", s.T - s.L);
	printf("final-freq-error %+.4f\n", s.nat_ppm + s.freq_ppm);
	if (conv < 0) {
		printf("not-converged\n");
		return 1;
	}
	printf("max-offset-after-convergence %.6f\n", maxo);
	printf("max-freq-error-after-convergence %.4f\n", maxf);
	printf("converged-after %.0f\n", conv);
	return 0;
}
