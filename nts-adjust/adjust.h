/*
 * adjust: the decision logic of nts-adjust, pure (no clock calls, no I/O
 * except the state-file text helpers, which work on strings).
 *
 * For every offset (server - local, seconds, measured at local time t):
 *
 *  1. |offset| >= step_threshold -> STEP, else SLEW (RFC 5905 §11.3: STEPT).
 *  2. A step passes the panic thresholds, with ntpd-rs semantics
 *     (a threshold is a strict bound: a step of exactly the threshold is
 *     refused; "inf" = INFINITY disables it):
 *       startup (no successful update yet):  -backward < offset < forward
 *       later:  |offset| < single  (single = 0: no steps after startup), and
 *               accumulated + |offset| <= accumulated threshold
 *               (0 or INFINITY: unlimited), where accumulated is the sum of
 *               |steps| after startup, kept in the state file.
 *     Beyond -> REFUSED, nothing is changed.
 *  3. Frequency (PLL/FLL, RFC 5905 §11.3 in spirit, but with the phase
 *     applied per update and the loop closed in user space), k = updates
 *     since the loop was reset (start, or a step):
 *       k = 0:   phase corrected in full, frequency unknown;
 *       FLL, k = 1..: the phase was corrected in full, so the residual
 *                offset over the interval mu is the frequency error:
 *                freq += offset/(k mu), phase corrected in full. The 1/k
 *                gain makes the frequency the running mean of these
 *                measurements, whose noise telescopes. Until k > 16, or
 *                k > 4 and 1024 s have passed since the reset.
 *       PLL, after: type-II, critically damped, time constant r mu, r = 24:
 *                phase correction Kp offset, Kp = 2/r,
 *                freq += Ki offset/mu, Ki = 1/r^2.
 *     The offset the loop acts on excludes any phase correction still
 *     pending in the kernel (ADJ_OFFSET_SINGLESHOT remainder).
 *     Frequency is limited to +-NK_ADJ_MAXFREQ ppm (the kernel's limit).
 */
#ifndef NK_ADJUST_H
#define NK_ADJUST_H

#include <stddef.h>

#define NK_ADJ_MAXFREQ      500.0   /* ppm */
#define NK_ADJ_RPLL         24.0    /* PLL time constant, in update intervals */
#define NK_ADJ_FLL_MAX      16      /* FLL updates at most ... */
#define NK_ADJ_FLL_MIN      4       /* ... at least ... */
#define NK_ADJ_FLL_SPAN     1024.0  /* ... ending after this many seconds */
#define NK_ADJ_MIN_INTERVAL 4.0     /* s: closer updates correct phase only */

enum nk_adj_action { NK_ADJ_NONE = 0, NK_ADJ_SLEW, NK_ADJ_STEP, NK_ADJ_REFUSED };
const char *nk_adj_action_word(enum nk_adj_action a);

struct nk_adj_params {
	double step_threshold;          /* s */
	double panic_single;            /* s, INFINITY: none; 0: no step after startup */
	double panic_startup_forward;   /* s, INFINITY: none */
	double panic_startup_backward;  /* s, INFINITY: none */
	double panic_accumulated;       /* s, INFINITY or 0: none */
};

/* Persistent state (the --state file; also kept in memory in --stream). */
struct nk_adj_state {
	int started;            /* 0: the next update is the startup one */
	double created;         /* t when the state began */
	double accumulated;     /* sum of |steps| after startup, s */
	double freq_ppm;        /* frequency correction given to the kernel */
	double last_t;          /* t of the last applied update, 0: none */
	unsigned loop;          /* updates since the loop was reset (0: none) */
	double loop_start;      /* t of that reset */
	unsigned long updates, steps;
};

struct nk_adj_decision {
	enum nk_adj_action action;
	double offset;          /* the measured offset */
	double phase;           /* STEP: the step; SLEW: the new slew to program */
	double freq_ppm;        /* new frequency */
	int set_freq;           /* 1: freq_ppm changed */
	int refused_panic;      /* 1: refused by a panic threshold */
	char reason[96];        /* one word (no spaces) */
};

/* The panic thresholds as checks (the order nk_adj_decide applies them),
 * for the decision and for --explain. applies: 0 when the check does not
 * hold in this state (startup checks after startup, later ones at startup,
 * an unlimited accumulated threshold); pass: value is within limit (for
 * startup-backward limit is -backward). */
enum { NK_ADJ_CHK_FORWARD, NK_ADJ_CHK_BACKWARD, NK_ADJ_CHK_SINGLE, NK_ADJ_CHK_ACCUM, NK_ADJ_NCHECK };
struct nk_adj_check {
	const char *name;       /* the reason word after "panic-" */
	const char *rule;       /* the comparison, in words */
	double value, limit;
	int applies, pass;
};
void nk_adj_panic_checks(const struct nk_adj_params *p, const struct nk_adj_state *st, double offset,
	struct nk_adj_check c[NK_ADJ_NCHECK]);

void nk_adj_state_init(struct nk_adj_state *st);
/* Decide for one offset. pending: phase still being slewed by the kernel
 * (s, 0 when unknown). Does not change st; call nk_adj_commit() once the
 * clock calls succeeded. */
void nk_adj_decide(const struct nk_adj_params *p, const struct nk_adj_state *st,
	double t, double offset, double pending, struct nk_adj_decision *d);
void nk_adj_commit(struct nk_adj_state *st, const struct nk_adj_decision *d, double t);

#endif
