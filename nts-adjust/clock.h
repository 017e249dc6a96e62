/*
 * clock: the only code in ntskit that changes the system clock (Linux
 * clock_adjtime(CLOCK_REALTIME, struct timex)), and the capability drop.
 *
 *   phase, small:  ADJ_OFFSET_SINGLESHOT (adjtime(3)-style slew at 500 ppm;
 *                  a new one replaces what is left of the old). Chosen over
 *                  ADJ_OFFSET with the kernel PLL because nts-adjust runs
 *                  its own PLL/FLL (adjust.c) and a one-shot cron run must
 *                  not leave the kernel loop steering with stale data.
 *   phase, large:  ADJ_SETOFFSET | ADJ_NANO (a step, atomic in the kernel).
 *   frequency:     ADJ_FREQUENCY (ppm, 16-bit fraction).
 *   status:        STA_UNSYNC cleared, STA_PLL/STA_FLL off, STA_INS/STA_DEL
 *                  from the leap indicator; ADJ_MAXERROR/ADJ_ESTERROR.
 */
#ifndef NK_CLOCK_H
#define NK_CLOCK_H

#include "util.h"

/* Drop every capability except CAP_SYS_TIME (raw capget/capset/prctl, no
 * libcap). held: set to 1 when CAP_SYS_TIME is effective afterwards.
 * desc receives a line for --explain. 0, or -1 with e. */
int nk_clock_drop_caps(int *held, char *desc, size_t cap, struct nk_err *e);

/* Kernel state: frequency (ppm), pending singleshot slew (s), status bits. */
int nk_clock_read(double *freq_ppm, double *pending, int *status, struct nk_err *e);
int nk_clock_step(double seconds, struct nk_err *e);
int nk_clock_slew(double seconds, struct nk_err *e);
/* Frequency, leap (0..2), maxerror/esterror (s); clears STA_UNSYNC. */
int nk_clock_discipline(double freq_ppm, int set_freq, int leap, double maxerror,
	double esterror, struct nk_err *e);

#endif
