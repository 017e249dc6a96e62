/*
 * adjust: step/slew/refuse decisions with ntpd-rs panic thresholds and a
 * PLL/FLL frequency discipline, for nts-adjust. Pure: see adjust.h.
 */
#include "adjust.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *nk_adj_action_word(enum nk_adj_action a)
{
	switch (a) {
	case NK_ADJ_NONE: return "none";
	case NK_ADJ_SLEW: return "slew";
	case NK_ADJ_STEP: return "step";
	case NK_ADJ_REFUSED: return "refused";
	}
	return "none";
}

void nk_adj_state_init(struct nk_adj_state *st)
{
	memset(st, 0, sizeof *st);
}

static void why(struct nk_adj_decision *d, const char *w)
{
	snprintf(d->reason, sizeof d->reason, "%s", w);
}

/* ntpd-rs StepThreshold::is_within: -backward < step < forward, strict;
 * after startup single is both bounds; accumulated is a <= bound. */
void nk_adj_panic_checks(const struct nk_adj_params *p, const struct nk_adj_state *st, double offset,
	struct nk_adj_check c[NK_ADJ_NCHECK])
{
	double a = fabs(offset);

	c[NK_ADJ_CHK_FORWARD] = (struct nk_adj_check){ "startup-forward", "offset < limit",
		offset, p->panic_startup_forward, !st->started, offset < p->panic_startup_forward };
	c[NK_ADJ_CHK_BACKWARD] = (struct nk_adj_check){ "startup-backward", "offset > limit",
		offset, -p->panic_startup_backward, !st->started, offset > -p->panic_startup_backward };
	c[NK_ADJ_CHK_SINGLE] = (struct nk_adj_check){ "single", "|offset| < limit",
		a, p->panic_single, st->started, a < p->panic_single };
	c[NK_ADJ_CHK_ACCUM] = (struct nk_adj_check){ "accumulated", "sum + |offset| <= limit",
		st->accumulated + a, p->panic_accumulated,
		st->started && p->panic_accumulated > 0 && isfinite(p->panic_accumulated),
		st->accumulated + a <= p->panic_accumulated };
}

static double clampf(double f)
{
	if (f > NK_ADJ_MAXFREQ)
		return NK_ADJ_MAXFREQ;
	if (f < -NK_ADJ_MAXFREQ)
		return -NK_ADJ_MAXFREQ;
	return f;
}

void nk_adj_decide(const struct nk_adj_params *p, const struct nk_adj_state *st,
	double t, double offset, double pending, struct nk_adj_decision *d)
{
	double theta, mu, r, kp, ki;
	unsigned k = st->loop;

	memset(d, 0, sizeof *d);
	d->offset = offset;
	d->freq_ppm = st->freq_ppm;

	/* RFC 5905 §11.2.3: an update not later than the last one is ignored */
	if (st->last_t != 0 && !(t > st->last_t)) {
		d->action = NK_ADJ_NONE;
		why(d, "not-newer-than-last-update");
		return;
	}

	if (fabs(offset) >= p->step_threshold) {
		/* a step: the panic thresholds decide (ntpd-rs semantics) */
		struct nk_adj_check c[NK_ADJ_NCHECK];
		int i;
		nk_adj_panic_checks(p, st, offset, c);
		for (i = 0; i < NK_ADJ_NCHECK; i++) {
			if (!c[i].applies || c[i].pass)
				continue;
			d->action = NK_ADJ_REFUSED;
			d->refused_panic = 1;
			/* at startup the sign says which bound was passed */
			if (i == NK_ADJ_CHK_FORWARD || i == NK_ADJ_CHK_BACKWARD)
				i = offset > 0 ? NK_ADJ_CHK_FORWARD : NK_ADJ_CHK_BACKWARD;
			snprintf(d->reason, sizeof d->reason, "panic-%s", c[i].name);
			return;
		}
		d->action = NK_ADJ_STEP;
		d->phase = offset;
		why(d, st->started ? "step" : "startup-step");
		return;
	}

	/* a slew: the phase the loop acts on excludes what the kernel still
	 * has to slew from the last correction */
	d->action = NK_ADJ_SLEW;
	theta = offset - pending;
	mu = t - st->last_t;
	if (k == 0 || st->last_t == 0) {
		d->phase = offset;
		why(d, "slew");
		return;
	}
	if (mu < NK_ADJ_MIN_INTERVAL) {
		d->phase = pending + theta;
		why(d, "slew-short-interval");
		return;
	}
	if (k <= NK_ADJ_FLL_MAX && !(k > NK_ADJ_FLL_MIN && t - st->loop_start >= NK_ADJ_FLL_SPAN)) {
		/* FLL (RFC 5905 §11.3, FREQ state): the phase is corrected in
		 * full, so the residual offset over mu is the frequency error;
		 * gain 1/k makes the frequency the running mean of these
		 * measurements, whose noise telescopes (each offset error is
		 * subtracted again by the next measurement) */
		kp = 1;
		ki = 1.0 / (double)k;
		why(d, "slew-fll");
	} else {
		/* type-II PLL, critically damped: phase time constant r*mu with
		 * Kp = 2/r, frequency Ki = 1/r^2 */
		r = NK_ADJ_RPLL;
		kp = 2 / r;
		ki = 1 / (r * r);
		why(d, "slew-pll");
	}
	d->phase = pending + kp * theta;
	d->freq_ppm = clampf(st->freq_ppm + ki * theta / mu * 1e6);
	d->set_freq = d->freq_ppm != st->freq_ppm;
}

void nk_adj_commit(struct nk_adj_state *st, const struct nk_adj_decision *d, double t)
{
	switch (d->action) {
	case NK_ADJ_STEP:
		if (st->started)
			st->accumulated += fabs(d->phase);
		st->steps++;
		st->loop = 1;
		st->loop_start = t;
		break;
	case NK_ADJ_SLEW:
		st->freq_ppm = d->freq_ppm;
		if (st->loop == 0 || st->last_t == 0)
			st->loop_start = t;
		if (st->loop < 1000000)
			st->loop++;
		break;
	default:
		return;
	}
	if (st->created == 0)
		st->created = t;
	st->started = 1;
	st->last_t = t;
	st->updates++;
}
