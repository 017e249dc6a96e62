/*
 * select: the pure time-selection algorithm of nts-select (no I/O, no
 * clock reading, no allocation). It follows RFC 5905:
 *
 *   §10      clock filter, per source: of the source's samples (at most
 *            NK_SEL_NSTAGE, the most recent) the one with the lowest delay
 *            is taken; peer dispersion is the 1/2^(i+1)-weighted sum of the
 *            aged sample dispersions, jitter the RMS of the other offsets
 *            against it.
 *   §11.2    fit(): unsynchronised, stratum >= 16, root distance above
 *            max_distance -> not a candidate.
 *   §11.2.1  intersection (Marzullo, as corrected in ntpd): the largest
 *            interval shared by a majority of the correctness intervals
 *            [offset - root distance, offset + root distance].
 *   §11.2.2  cluster: survivors sorted by stratum*MAXDIST + root distance;
 *            outliers with the largest selection jitter are pruned while
 *            more than NK_SEL_NMIN remain and pruning can still help.
 *   §11.2.3  combine: offsets weighted by 1/root distance; system jitter
 *            PSI = sqrt(PSI_s^2 + PSI_p^2); root delay/dispersion of the
 *            system peer as in Figure 25.
 *
 * Deviations (documented in nts-select(1)): empty filter stages are not
 * counted as MAXDISP (a one-shot run has only a few samples by design);
 * "now" is the latest sample time of the input, so results depend only on
 * the input; ties are broken by source name so output is deterministic.
 *
 * Usage: nk_sel_init(); for each sample nk_sel_source_get() +
 * nk_sel_add_sample(); nk_sel_run() -> struct nk_sel_result;
 * nk_sel_new_round() to start over with empty windows (stream mode).
 */
#ifndef NK_SELECT_H
#define NK_SELECT_H

#include <stddef.h>

#include "record.h"

#define NK_SEL_NSTAGE      8          /* clock filter stages (RFC 5905 NSTAGE) */
#define NK_SEL_MAX_SOURCES 64
#define NK_SEL_NAME        NK_REC_SOURCE_MAX   /* with the NUL */
#define NK_SEL_PHI         15e-6      /* frequency tolerance, s/s (RFC 5905 PHI) */
#define NK_SEL_MINDISP     0.001      /* minimum dispersion increment, s (ntpd 4.2.8 mindist) */
#define NK_SEL_PRECISION   9.5367431640625e-7 /* 2^-20 s: floor for jitter */
#define NK_SEL_MAXSTRAT    16
#define NK_SEL_NMIN        3          /* cluster: minimum survivors (RFC 5905 NMIN) */

/* Why a sample or a source was not used; nk_sel_reason_word() gives the
 * word written in rejected= lists. */
enum nk_sel_reason {
	NK_SEL_OK = 0,
	NK_SEL_R_UNAUTH,        /* auth is not nts (REQ-002) */
	NK_SEL_R_UNSYNC,        /* leap 3 or stratum 0: server not synchronised */
	NK_SEL_R_STRATUM,       /* stratum >= 16 */
	NK_SEL_R_CERT,          /* server time outside the certificate validity window (RFC 8915 §8.5) */
	NK_SEL_R_DISTANCE,      /* root distance above max_distance */
	NK_SEL_R_FALSETICKER,   /* outside the majority intersection */
	NK_SEL_R_OUTLIER,       /* pruned by the cluster algorithm */
	NK_SEL_R_NOMAJORITY     /* no majority clique among the candidates */
};
const char *nk_sel_reason_word(enum nk_sel_reason r);

/* One time sample as nts-poll reports it (record "sample"). */
struct nk_sel_sample {
	double t;               /* local receive time, UNIX seconds */
	double offset;          /* server - local, seconds */
	double delay;           /* round-trip delay, seconds (negative -> 0) */
	double disp;            /* sample dispersion, seconds */
	double root_delay, root_disp;
	int stratum;            /* server's stratum */
	int leap;               /* 0..3 */
	int authenticated;      /* 1 when auth=nts */
	int has_window;         /* 1: not_before/not_after known */
	double not_before, not_after;
};

struct nk_sel_source {
	char name[NK_SEL_NAME];
	char ntp[264];             /* host:port the samples came from ("" unknown) */
	struct nk_sel_sample stage[NK_SEL_NSTAGE]; /* ring of accepted samples */
	size_t nstage, next;
	unsigned long seen;     /* samples offered in this round */
	enum nk_sel_reason last_reject; /* reason of the last refused sample */
	/* clock filter output (nk_sel_run) */
	struct nk_sel_sample best;
	double disp, jitter, rootdist;
	enum nk_sel_reason reason;   /* NK_SEL_OK when used */
	int truechimer, used;
};

struct nk_sel_params {
	unsigned min_agree;     /* fewer truechimers -> no result */
	double max_distance;    /* root distance limit (RFC 5905 MAXDIST), s */
};

struct nk_sel_result {
	int ok;                 /* 1: an offset was found */
	enum nk_sel_reason why; /* when !ok: NK_SEL_R_NOMAJORITY or NK_SEL_OK (too few agree) */
	double t;               /* "now": the latest sample time */
	double offset;          /* combined THETA */
	double jitter;          /* system jitter PSI */
	double root_delay, root_disp;
	double error;           /* root distance: root_delay/2 + root_disp */
	double low, high;       /* the intersection interval */
	int leap, stratum;
	size_t sources;         /* sources seen (with at least one sample) */
	size_t candidates;      /* passed fit() */
	size_t agree;           /* truechimers */
	size_t used;            /* combined */
	int sys;                /* index of the system peer, -1 none */
};

struct nk_sel_set {
	struct nk_sel_source src[NK_SEL_MAX_SOURCES];
	size_t n;
};

void nk_sel_init(struct nk_sel_set *s);
/* Index of the source 'name' (created if new), -1 when the table is full. */
int nk_sel_source_get(struct nk_sel_set *s, const char *name);
/* Offer one sample. Returns NK_SEL_OK when it entered the source's filter,
 * else the reason it was refused (also kept in last_reject). */
enum nk_sel_reason nk_sel_add_sample(struct nk_sel_set *s, int idx, const struct nk_sel_sample *smp);
/* Start a new round: every window emptied, sources kept. */
void nk_sel_new_round(struct nk_sel_set *s);
/* Run filter, fit, intersection, cluster and combine over the set. */
void nk_sel_run(struct nk_sel_set *s, const struct nk_sel_params *p, struct nk_sel_result *r);

/* The building blocks, exposed for the unit tests. */
double nk_sel_sqrt(double x);
void nk_sel_clock_filter(struct nk_sel_source *src, double now);
double nk_sel_root_dist(const struct nk_sel_source *src, double now);
/* Intersection over n intervals [mid-rad, mid+rad]: returns the number of
 * falsetickers f assumed (>= 0) and sets *low and *high, or -1 when no
 * majority clique exists. */
int nk_sel_intersect(const double *mid, const double *rad, size_t n, double *low, double *high);
/* One pass of the intersection, for --explain: with f falsetickers assumed,
 * the lowest (l) and highest (u) points inside need = n - f intervals, and
 * d, the midpoints outside [l, u]; ok when d <= f and l <= u. */
struct nk_sel_isect_step {
	size_t f, need, d;
	int have_l, have_u, ok;
	double l, u;
};
#define NK_SEL_MAX_STEPS (NK_SEL_MAX_SOURCES / 2 + 1)
/* nk_sel_intersect, also writing the passes it made into steps (room for
 * NK_SEL_MAX_STEPS) and their number into *nsteps. */
int nk_sel_intersect_trace(const double *mid, const double *rad, size_t n, double *low, double *high,
	struct nk_sel_isect_step *steps, size_t *nsteps);

#endif
