/*
 * select: RFC 5905 clock filter, selection (intersection), cluster and
 * combine algorithms over arrays, for nts-select. See select.h.
 */
#include "select.h"

#include <math.h>
#include <string.h>

/* Square root by Newton's method, so the tools need no libm: started at or
 * above the root, the iterates fall monotonically until they stop. */
double nk_sel_sqrt(double x)
{
	double r, n;
	int i;

	if (!(x > 0) || !isfinite(x))
		return 0;
	r = x > 1 ? x : 1;
	for (i = 0; i < 2100; i++) {
		n = 0.5 * (r + x / r);
		if (!(n < r))
			break;
		r = n;
	}
	return r;
}

const char *nk_sel_reason_word(enum nk_sel_reason r)
{
	switch (r) {
	case NK_SEL_OK: return "ok";
	case NK_SEL_R_UNAUTH: return "unauthenticated";
	case NK_SEL_R_UNSYNC: return "unsynchronised";
	case NK_SEL_R_STRATUM: return "stratum";
	case NK_SEL_R_CERT: return "cert-window";
	case NK_SEL_R_DISTANCE: return "distance";
	case NK_SEL_R_FALSETICKER: return "falseticker";
	case NK_SEL_R_OUTLIER: return "outlier";
	case NK_SEL_R_NOMAJORITY: return "no-majority";
	case NK_SEL_R_CIRCUITS: return "too-many-circuits";
	}
	return "unknown";
}

void nk_sel_init(struct nk_sel_set *s)
{
	memset(s, 0, sizeof *s);
}

int nk_sel_source_get(struct nk_sel_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->src[i].name, name) == 0)
			return (int)i;
	if (s->n == NK_SEL_MAX_SOURCES || strlen(name) >= NK_SEL_NAME)
		return -1;
	memset(&s->src[s->n], 0, sizeof s->src[s->n]);
	strcpy(s->src[s->n].name, name);
	return (int)s->n++;
}

int nk_sel_circuit_get(struct nk_sel_source *src, int id)
{
	size_t i;

	if (id == 0)
		id = 1;
	for (i = 0; i < src->ncirc; i++)
		if (src->circ[i].circuit == id)
			return (int)i;
	if (src->ncirc == NK_SEL_MAX_CIRCUITS)
		return -1;
	memset(&src->circ[src->ncirc], 0, sizeof src->circ[src->ncirc]);
	src->circ[src->ncirc].circuit = id;
	return (int)src->ncirc++;
}

enum nk_sel_reason nk_sel_add_sample(struct nk_sel_set *s, int idx, const struct nk_sel_sample *smp)
{
	struct nk_sel_source *src;
	struct nk_sel_filter *f;
	enum nk_sel_reason r = NK_SEL_OK;
	int c = -1;

	if (idx < 0 || (size_t)idx >= s->n)
		return NK_SEL_R_UNSYNC;
	src = &s->src[idx];
	src->seen++;
	/* REQ-002: only NTS-authenticated time is used. */
	if (!smp->authenticated)
		r = NK_SEL_R_UNAUTH;
	/* RFC 5905 §11.2 fit(): leap 3 or stratum 0 (kiss) means unsynchronised. */
	else if (smp->leap == 3 || smp->stratum == 0)
		r = NK_SEL_R_UNSYNC;
	else if (smp->stratum >= NK_SEL_MAXSTRAT)
		r = NK_SEL_R_STRATUM;
	/* RFC 8915 §8.5: the server's time (local time + offset) must lie in
	 * the validity window of the certificate its NTS-KE server showed. */
	else if (smp->has_window && (smp->t + smp->offset < smp->not_before ||
			smp->t + smp->offset > smp->not_after))
		r = NK_SEL_R_CERT;
	else if (smp->circuit < 0 || smp->circuit > NK_SEL_CIRCUIT_MAX ||
			(c = nk_sel_circuit_get(src, smp->circuit)) < 0)
		r = NK_SEL_R_CIRCUITS;
	if (r != NK_SEL_OK) {
		src->last_reject = r;
		return r;
	}
	f = &src->circ[c];
	f->stage[f->next] = *smp;
	if (f->stage[f->next].delay < 0)
		f->stage[f->next].delay = 0;
	f->next = (f->next + 1) % NK_SEL_NSTAGE;
	if (f->nstage < NK_SEL_NSTAGE) {
		f->nstage++;
		src->nstage++;
	}
	return NK_SEL_OK;
}

void nk_sel_new_round(struct nk_sel_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		s->src[i].ncirc = 0;
		s->src[i].nstage = 0;
		s->src[i].seen = 0;
		s->src[i].last_reject = NK_SEL_OK;
	}
}

/* RFC 5905 §10: sort the stages by increasing delay; the first is the
 * estimate; dispersion = sum eps_i / 2^(i+1) with eps_i aged at PHI;
 * jitter = RMS of (theta_0 - theta_j), bounded below by the precision. */
void nk_sel_clock_filter(struct nk_sel_filter *src, double now)
{
	size_t ord[NK_SEL_NSTAGE], i, j, n = src->nstage;
	double disp = 0, jit = 0, w = 0.5;

	for (i = 0; i < n; i++)
		ord[i] = i;
	/* insertion sort by delay; ties: the more recent sample first */
	for (i = 1; i < n; i++) {
		size_t k = ord[i];
		for (j = i; j > 0; j--) {
			const struct nk_sel_sample *a = &src->stage[ord[j - 1]], *b = &src->stage[k];
			if (a->delay < b->delay || (a->delay == b->delay && a->t >= b->t))
				break;
			ord[j] = ord[j - 1];
		}
		ord[j] = k;
	}
	if (n == 0) {
		memset(&src->best, 0, sizeof src->best);
		src->disp = src->jitter = 0;
		return;
	}
	src->best = src->stage[ord[0]];
	for (i = 0; i < n; i++) {
		const struct nk_sel_sample *x = &src->stage[ord[i]];
		double age = now - x->t;
		disp += (x->disp + NK_SEL_PHI * (age > 0 ? age : 0)) * w;
		w /= 2;
		if (i > 0)
			jit += (src->best.offset - x->offset) * (src->best.offset - x->offset);
	}
	src->disp = disp;
	src->jitter = n > 1 ? nk_sel_sqrt(jit / (double)(n - 1)) : 0;
	if (src->jitter < NK_SEL_PRECISION)
		src->jitter = NK_SEL_PRECISION;
}

/* RFC 5905 A.5.5.2 root_dist(): half the total delay plus the total
 * dispersion plus the peer jitter. */
double nk_sel_root_dist(const struct nk_sel_filter *src, double now)
{
	double d = src->best.root_delay + src->best.delay, age = now - src->best.t;

	if (d < NK_SEL_MINDISP)
		d = NK_SEL_MINDISP;
	return d / 2 + src->best.root_disp + src->disp +
		NK_SEL_PHI * (age > 0 ? age : 0) + src->jitter;
}

/* RFC 5905 §8: with the server's clock within its root distance of the
 * truth, the true offset lies within delay/2 of the sample's offset
 * (whatever the split of the delay between the two directions), widened by
 * the server's root distance, the timestamps' precision (disp) and the
 * drift since (PHI x age); the 2^-20 s floor covers the rounding of
 * printed records. */
double nk_sel_sample_radius(const struct nk_sel_sample *x, double now)
{
	double age = now - x->t;

	return x->delay / 2 + x->root_delay / 2 + x->root_disp + x->disp +
		NK_SEL_PHI * (age > 0 ? age : 0) + NK_SEL_PRECISION;
}

double nk_sel_wmedian(const double *v, const double *w, size_t n)
{
	size_t ord[NK_SEL_MAX_CIRCUITS], i, j;
	double tot = 0, acc = 0;

	if (n == 0)
		return 0;
	if (n > NK_SEL_MAX_CIRCUITS)
		n = NK_SEL_MAX_CIRCUITS;
	for (i = 0; i < n; i++) {
		size_t k = i;
		for (j = i; j > 0 && v[ord[j - 1]] > v[k]; j--)
			ord[j] = ord[j - 1];
		ord[j] = k;
		tot += w[i];
	}
	for (i = 0; i + 1 < n; i++) {
		acc += w[ord[i]];
		if (acc == tot / 2)
			return (v[ord[i]] + v[ord[i + 1]]) / 2;
		if (acc > tot / 2)
			return v[ord[i]];
	}
	return v[ord[n - 1]];
}

/* One source over its circuits: a clock filter per circuit, the weighted
 * median of their offsets (weights 1/root distance: a circuit's possible
 * asymmetry error grows with its delay, and a median lets no single
 * circuit pull the estimate), the smallest distance that still contains
 * a circuit's correctness interval, and the intersection of every held
 * sample's interval. One circuit: exactly the RFC 5905 filter output. */
void nk_sel_source_filter(struct nk_sel_source *src, double now)
{
	double off[NK_SEL_MAX_CIRCUITS], w[NK_SEL_MAX_CIRCUITS];
	size_t at[NK_SEL_MAX_CIRCUITS], i, k, n = 0, bi = 0;
	double lo = -INFINITY, hi = INFINITY, theta, wsum = 0, spread = 0, rd;
	const struct nk_sel_filter *b;

	for (i = 0; i < src->ncirc; i++) {
		struct nk_sel_filter *f = &src->circ[i];
		if (f->nstage == 0)
			continue;
		nk_sel_clock_filter(f, now);
		f->rootdist = nk_sel_root_dist(f, now);
		for (k = 0; k < f->nstage; k++) {
			const struct nk_sel_sample *x = &f->stage[k];
			double rad = nk_sel_sample_radius(x, now);
			if (x->offset - rad > lo)
				lo = x->offset - rad;
			if (x->offset + rad < hi)
				hi = x->offset + rad;
		}
		off[n] = f->best.offset;
		w[n] = 1.0 / f->rootdist;
		at[n] = i;
		if (n == 0 || f->rootdist < src->circ[at[bi]].rootdist)
			bi = n;
		n++;
	}
	src->paths = n;
	if (n == 0) {
		memset(&src->best, 0, sizeof src->best);
		src->disp = src->jitter = src->rootdist = 0;
		src->bounded = 0;
		src->low = src->high = 0;
		return;
	}
	b = &src->circ[at[bi]];
	src->best = b->best;
	src->disp = b->disp;
	src->jitter = b->jitter;
	src->rootdist = b->rootdist;
	src->bounded = lo <= hi;
	src->low = lo;
	src->high = hi;
	if (n == 1)
		return;
	theta = nk_sel_wmedian(off, w, n);
	for (i = 0; i < n; i++) {
		const struct nk_sel_filter *f = &src->circ[at[i]];
		double d = off[i] - theta;
		spread += w[i] * d * d;
		wsum += w[i];
		rd = (d < 0 ? -d : d) + f->rootdist;
		if (rd < src->rootdist || i == 0)
			src->rootdist = rd;
	}
	spread = nk_sel_sqrt(spread / wsum);
	src->jitter = nk_sel_sqrt(src->jitter * src->jitter + spread * spread);
	src->best.offset = theta;
}

struct edge {
	double v;
	int type;               /* -1 lowpoint, 0 midpoint, +1 highpoint */
};

/* RFC 5905 §11.2.1. The skeleton in A.5.5.1 compares against the number
 * of tuples (3m) instead of the number of candidates m; this follows the
 * text of §11.2.1 (and ntpd): c counts intervals containing the scan
 * point, d counts midpoints outside [l, u]. */
int nk_sel_intersect(const double *mid, const double *rad, size_t m, double *low, double *high)
{
	return nk_sel_intersect_trace(mid, rad, m, low, high, NULL, NULL);
}

int nk_sel_intersect_trace(const double *mid, const double *rad, size_t m, double *low, double *high,
	struct nk_sel_isect_step *steps, size_t *nsteps)
{
	struct edge e[3 * NK_SEL_MAX_SOURCES];
	size_t n = 3 * m, i, j, f;

	if (nsteps != NULL)
		*nsteps = 0;
	if (m == 0 || m > NK_SEL_MAX_SOURCES)
		return -1;
	for (i = 0; i < m; i++) {
		e[3 * i].v = mid[i] - rad[i];
		e[3 * i].type = -1;
		e[3 * i + 1].v = mid[i];
		e[3 * i + 1].type = 0;
		e[3 * i + 2].v = mid[i] + rad[i];
		e[3 * i + 2].type = +1;
	}
	/* sort by edge; on equal edges lowpoints before midpoints before
	 * highpoints, so intervals that touch count as overlapping */
	for (i = 1; i < n; i++) {
		struct edge k = e[i];
		for (j = i; j > 0 && (e[j - 1].v > k.v || (e[j - 1].v == k.v && e[j - 1].type > k.type)); j--)
			e[j] = e[j - 1];
		e[j] = k;
	}
	for (f = 0; 2 * f < m; f++) {
		size_t d = 0;
		long c = 0;
		int have_l = 0, have_u = 0;
		double l = 0, u = 0;

		/* step 3: scan up for the lowest point inside m - f intervals */
		for (i = 0; i < n; i++) {
			c -= e[i].type;
			if (c >= (long)(m - f)) {
				l = e[i].v;
				have_l = 1;
				break;
			}
			if (e[i].type == 0)
				d++;
		}
		/* step 4: scan down for the highest such point */
		c = 0;
		for (i = n; i-- > 0;) {
			c += e[i].type;
			if (c >= (long)(m - f)) {
				u = e[i].v;
				have_u = 1;
				break;
			}
			if (e[i].type == 0)
				d++;
		}
		if (steps != NULL && nsteps != NULL && *nsteps < NK_SEL_MAX_STEPS) {
			struct nk_sel_isect_step *st = &steps[(*nsteps)++];
			st->f = f;
			st->need = m - f;
			st->d = d;
			st->have_l = have_l;
			st->have_u = have_u;
			st->l = l;
			st->u = u;
			st->ok = have_l && have_u && d <= f && l <= u;
		}
		/* step 5: success when no more midpoints lie outside than the
		 * falsetickers allowed and the interval is not empty */
		if (have_l && have_u && d <= f && l <= u) {
			*low = l;
			*high = u;
			return (int)f;
		}
	}
	return -1;
}

/* order for the cluster algorithm: merit = stratum*MAXDIST + root distance,
 * ties by name */
static int before(const struct nk_sel_source *a, double ma, const struct nk_sel_source *b, double mb)
{
	if (ma != mb)
		return ma < mb;
	return strcmp(a->name, b->name) < 0;
}

void nk_sel_run(struct nk_sel_set *s, const struct nk_sel_params *p, struct nk_sel_result *r)
{
	double mid[NK_SEL_MAX_SOURCES], rad[NK_SEL_MAX_SOURCES], metric[NK_SEL_MAX_SOURCES];
	size_t cand[NK_SEL_MAX_SOURCES], v[NK_SEL_MAX_SOURCES];
	size_t i, j, m = 0, nv = 0;
	double now = 0, low = 0, high = 0, psi_s = 0, wsum = 0, theta = 0, psi_p = 0, inc;
	int votes[4] = { 0, 0, 0, 0 }, minstrat = 255;
	const struct nk_sel_source *sp;

	memset(r, 0, sizeof *r);
	r->sys = -1;
	for (i = 0; i < s->n; i++) {
		struct nk_sel_source *x = &s->src[i];
		size_t c, k;
		if (x->seen > 0)
			r->sources++;
		for (c = 0; c < x->ncirc; c++)
			for (k = 0; k < x->circ[c].nstage; k++)
				if (x->circ[c].stage[k].t > now)
					now = x->circ[c].stage[k].t;
	}
	r->t = now;

	/* clock filter and fit() for every source */
	for (i = 0; i < s->n; i++) {
		struct nk_sel_source *x = &s->src[i];
		x->truechimer = x->used = 0;
		x->rootdist = 0;
		if (x->seen == 0) {
			x->reason = NK_SEL_OK;
			continue;
		}
		if (x->nstage == 0) {
			x->reason = x->last_reject;
			continue;
		}
		nk_sel_source_filter(x, now);
		if (!(x->rootdist <= p->max_distance)) {
			x->reason = NK_SEL_R_DISTANCE;
			continue;
		}
		x->reason = NK_SEL_OK;
		mid[m] = x->best.offset;
		rad[m] = x->rootdist;
		cand[m++] = i;
	}
	r->candidates = m;
	if (m == 0) {
		r->why = NK_SEL_OK;
		return;
	}

	/* §11.2.1 selection */
	if (nk_sel_intersect(mid, rad, m, &low, &high) < 0) {
		for (i = 0; i < m; i++)
			s->src[cand[i]].reason = NK_SEL_R_NOMAJORITY;
		r->why = NK_SEL_R_NOMAJORITY;
		return;
	}
	r->low = low;
	r->high = high;
	/* truechimers: correctness interval overlapping [low, high] */
	for (i = 0; i < m; i++) {
		struct nk_sel_source *x = &s->src[cand[i]];
		if (mid[i] + rad[i] < low || mid[i] - rad[i] > high) {
			x->reason = NK_SEL_R_FALSETICKER;
			continue;
		}
		x->truechimer = 1;
		metric[cand[i]] = p->max_distance * x->best.stratum + x->rootdist;
		/* insert into v, sorted by merit */
		for (j = nv; j > 0 && before(x, metric[cand[i]], &s->src[v[j - 1]], metric[v[j - 1]]); j--)
			v[j] = v[j - 1];
		v[j] = cand[i];
		nv++;
	}
	r->agree = nv;
	/* leap: majority of the survivors; stratum: lowest survivor + 1 */
	for (i = 0; i < nv; i++) {
		sp = &s->src[v[i]];
		votes[sp->best.leap & 3]++;
		if (sp->best.stratum < minstrat)
			minstrat = sp->best.stratum;
	}
	if (nv < p->min_agree || nv == 0) {
		r->why = NK_SEL_OK;
		return;
	}

	/* §11.2.2 cluster */
	while (nv > 1) {
		double max = -1, min = INFINITY;
		size_t qmax = 0;
		for (i = 0; i < nv; i++) {
			double sum = 0, x;
			sp = &s->src[v[i]];
			if (sp->jitter < min)
				min = sp->jitter;
			for (j = 0; j < nv; j++) {
				double dd = sp->best.offset - s->src[v[j]].best.offset;
				sum += dd * dd;
			}
			x = nk_sel_sqrt(sum / (double)(nv - 1));
			if (x > max) {
				max = x;
				qmax = i;
			}
		}
		psi_s = max;
		if (max < min || nv <= NK_SEL_NMIN)
			break;
		s->src[v[qmax]].reason = NK_SEL_R_OUTLIER;
		for (i = qmax; i + 1 < nv; i++)
			v[i] = v[i + 1];
		nv--;
	}
	if (nv == 1)
		psi_s = 0;

	/* §11.2.3 combine, weighted by 1/root distance */
	for (i = 0; i < nv; i++) {
		double w;
		sp = &s->src[v[i]];
		w = 1.0 / sp->rootdist;
		wsum += w;
		theta += sp->best.offset * w;
		s->src[v[i]].used = 1;
	}
	theta /= wsum;
	sp = &s->src[v[0]];       /* the system peer */
	for (i = 0; i < nv; i++) {
		const struct nk_sel_source *q = &s->src[v[i]];
		double dd = q->best.offset - sp->best.offset;
		psi_p += dd * dd / q->rootdist;
	}
	psi_p = nk_sel_sqrt(psi_p / wsum);
	if (psi_p < sp->jitter)
		psi_p = sp->jitter;

	r->ok = 1;
	r->sys = (int)v[0];
	r->used = nv;
	r->offset = theta;
	r->jitter = nk_sel_sqrt(psi_s * psi_s + psi_p * psi_p);
	/* Figure 25: rootdelay = p.delta_r + delta; rootdisp = p.epsilon_r +
	 * (p.epsilon + PSI + PHI*(t - p.t)), the increment at least MINDISP.
	 * |THETA| is left out: the consumer corrects it. */
	r->root_delay = sp->best.root_delay + sp->best.delay;
	inc = sp->disp + r->jitter + NK_SEL_PHI * (now - sp->best.t);
	if (inc < NK_SEL_MINDISP)
		inc = NK_SEL_MINDISP;
	r->root_disp = sp->best.root_disp + inc;
	r->error = r->root_delay / 2 + r->root_disp;
	r->stratum = minstrat + 1;
	r->leap = 0;
	for (i = 1; i < 3; i++)
		if (2 * (size_t)votes[i] > r->agree)
			r->leap = (int)i;

	/* the tight bound: the intersection of the sample intervals of every
	 * survivor of the selection (the truechimers; a falseticker's are not
	 * trusted); empty, also when one survivor's own is: the root distance */
	r->rd_offset = theta;
	low = -INFINITY;
	high = INFINITY;
	for (i = 0; i < s->n && low <= high; i++) {
		const struct nk_sel_source *q = &s->src[i];
		if (!q->truechimer)
			continue;
		if (!q->bounded || q->low > low)
			low = q->bounded ? q->low : INFINITY;
		if (q->high < high)
			high = q->high;
	}
	if (low <= high) {
		r->bounded = 1;
		r->blow = low;
		r->bhigh = high;
		r->offset = low / 2 + high / 2;
		r->error = high / 2 - low / 2;
	}
}
