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
 * Paths (nts-select(1), "Circuits and bounds"): a source polled over
 * several paths (sample field circuit=K, absent = 1) runs one clock filter
 * per circuit; the source's offset is the median of the circuits' offsets
 * weighted by 1/root distance, its root distance the smallest
 * |offset - circuit offset| + circuit root distance (it holds the truth
 * when the circuits' do, as they all do for an honest server). Every held sample also gives an interval
 * that must hold the true offset, [offset -+ (delay/2 + e)], e = the
 * server's root distance + the sample's dispersion + PHI x age + the
 * precision floor; their intersection is the source's bound. The result
 * is the midpoint and half-width of the intersection of the bounds of the
 * sources combined, or the RFC 5905 root distance when it is empty.
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
#define NK_SEL_MAX_CIRCUITS 16        /* distinct circuits per source and round */
#define NK_SEL_CIRCUIT_MAX 65535      /* highest circuit number of a sample */

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
	NK_SEL_R_NOMAJORITY,    /* no majority clique among the candidates */
	NK_SEL_R_CIRCUITS       /* more than NK_SEL_MAX_CIRCUITS circuits */
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
	int circuit;            /* path it came by, 1..NK_SEL_CIRCUIT_MAX; 0 counts as 1 */
};

/* One path (circuit) of a source: its clock filter. */
struct nk_sel_filter {
	int circuit;
	struct nk_sel_sample stage[NK_SEL_NSTAGE]; /* ring of accepted samples */
	size_t nstage, next;
	/* clock filter output */
	struct nk_sel_sample best;
	double disp, jitter, rootdist;
};

struct nk_sel_source {
	char name[NK_SEL_NAME];
	char ntp[264];             /* host:port the samples came from ("" unknown) */
	struct nk_sel_filter circ[NK_SEL_MAX_CIRCUITS];
	size_t ncirc;           /* circuits with a filter in this round */
	size_t nstage;          /* samples held, all circuits */
	unsigned long seen;     /* samples offered in this round */
	enum nk_sel_reason last_reject; /* reason of the last refused sample */
	/* output of nk_sel_source_filter (nk_sel_run): best is the filtered
	 * sample of the circuit with the lowest root distance, its offset
	 * replaced by the weighted median over the circuits; disp that
	 * circuit's, jitter with the circuits' spread added */
	struct nk_sel_sample best;
	double disp, jitter, rootdist;
	size_t paths;           /* circuits with a filtered sample */
	int bounded;            /* 1: the sample intervals intersect in [low, high] */
	double low, high;
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
	double error;           /* half-width of [blow, bhigh] when bounded, else root_delay/2 + root_disp */
	double low, high;       /* the intersection interval (RFC 5905 11.2.1) */
	int bounded;            /* 1: offset/error from the sample bounds of the sources used */
	double blow, bhigh;     /* that intersection, when bounded */
	double rd_offset;       /* the RFC 5905 combined offset (THETA) */
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
/* Index of the filter of circuit id (1..NK_SEL_CIRCUIT_MAX, 0 = 1) of a
 * source, created if new; -1 when the source has NK_SEL_MAX_CIRCUITS. */
int nk_sel_circuit_get(struct nk_sel_source *src, int id);
/* Offer one sample. Returns NK_SEL_OK when it entered its circuit's filter,
 * else the reason it was refused (also kept in last_reject). */
enum nk_sel_reason nk_sel_add_sample(struct nk_sel_set *s, int idx, const struct nk_sel_sample *smp);
/* Start a new round: every window emptied, sources kept. */
void nk_sel_new_round(struct nk_sel_set *s);
/* Run filter, fit, intersection, cluster and combine over the set. */
void nk_sel_run(struct nk_sel_set *s, const struct nk_sel_params *p, struct nk_sel_result *r);

/* The building blocks, exposed for the unit tests. */
double nk_sel_sqrt(double x);
void nk_sel_clock_filter(struct nk_sel_filter *f, double now);
double nk_sel_root_dist(const struct nk_sel_filter *f, double now);
/* Every circuit's filter, their combination and the source's bound. */
void nk_sel_source_filter(struct nk_sel_source *src, double now);
/* Weighted median of n values (n >= 1, weights > 0): the value where the
 * cumulative weight reaches half, the mean of two when it is exactly half. */
double nk_sel_wmedian(const double *v, const double *w, size_t n);
/* Half-width of the interval a sample gives for the true offset at 'now':
 * delay/2 + root_delay/2 + root_disp + disp + PHI x age + precision. */
double nk_sel_sample_radius(const struct nk_sel_sample *x, double now);
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
