/*
 * clock: clock_adjtime calls and the capability drop for nts-adjust.
 * See clock.h.
 */
#include "clock.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#ifndef ADJ_OFFSET_SS_READ
#define ADJ_OFFSET_SS_READ 0xa001
#endif

int nk_clock_drop_caps(int *held, char *desc, size_t cap, struct nk_err *e)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	const unsigned st = CAP_SYS_TIME;       /* 25: in d[0] */
	unsigned keep_e, keep_p;
	int c, bdrop = 0;

	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0) {
		nk_errf(e, "capget: %s", strerror(errno));
		return -1;
	}
	keep_p = d[0].permitted & (1u << st);
	keep_e = d[0].effective & (1u << st);
	/* bounding set: needs CAP_SETPCAP, which root has; otherwise the
	 * empty permitted set already means nothing can be regained */
	for (c = 0; c <= 63; c++) {
		if ((unsigned)c == st)
			continue;
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0)
			bdrop++;
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof d);
	d[0].permitted = keep_p;
	d[0].effective = keep_e;
	if (syscall(SYS_capset, &h, d) < 0) {
		nk_errf(e, "capset (keeping only CAP_SYS_TIME): %s", strerror(errno));
		return -1;
	}
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	*held = keep_e != 0;
	snprintf(desc, cap, "capabilities: %s; every other capability dropped "
		"(%d removed from the bounding set)", *held ? "holding CAP_SYS_TIME only" :
		"none held (no CAP_SYS_TIME: clock changes will fail)", bdrop);
	return 0;
}

/* rounding without libm */
static long rnd(double x)
{
	return (long)(x >= 0 ? x + 0.5 : x - 0.5);
}

static int adj(struct timex *tx, const char *what, struct nk_err *e)
{
	if (clock_adjtime(CLOCK_REALTIME, tx) < 0) {
		nk_errf(e, "clock_adjtime (%s): %s%s", what, strerror(errno),
			errno == EPERM ? " (CAP_SYS_TIME is needed)" : "");
		return -1;
	}
	return 0;
}

int nk_clock_read(double *freq_ppm, double *pending, int *status, struct nk_err *e)
{
	struct timex tx;

	memset(&tx, 0, sizeof tx);
	if (adj(&tx, "read", e) < 0)
		return -1;
	*freq_ppm = (double)tx.freq / 65536.0;
	*status = tx.status;
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_OFFSET_SS_READ;
	if (adj(&tx, "read singleshot remainder", e) < 0)
		return -1;
	*pending = (double)tx.offset * 1e-6;
	return 0;
}

int nk_clock_step(double seconds, struct nk_err *e)
{
	struct timex tx;
	long long whole = (long long)seconds;

	/* cancel a slew still running, then step */
	if (nk_clock_slew(0, e) < 0)
		return -1;
	if ((double)whole > seconds)
		whole--;                /* floor, also for negative steps */
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	tx.time.tv_sec = (time_t)whole;
	tx.time.tv_usec = rnd((seconds - (double)whole) * 1e9);    /* nanoseconds with ADJ_NANO */
	if (tx.time.tv_usec >= 1000000000L) {
		tx.time.tv_sec++;
		tx.time.tv_usec -= 1000000000L;
	}
	return adj(&tx, "ADJ_SETOFFSET step", e);
}

int nk_clock_slew(double seconds, struct nk_err *e)
{
	struct timex tx;

	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_OFFSET_SINGLESHOT;
	tx.offset = rnd(seconds * 1e6);
	return adj(&tx, "ADJ_OFFSET_SINGLESHOT slew", e);
}

int nk_clock_discipline(double freq_ppm, int set_freq, int leap, double maxerror,
	double esterror, struct nk_err *e)
{
	struct timex tx;
	int status;

	memset(&tx, 0, sizeof tx);
	if (adj(&tx, "read status", e) < 0)
		return -1;
	status = tx.status;
	status &= ~(STA_UNSYNC | STA_PLL | STA_FLL | STA_INS | STA_DEL);
	if (leap == 1)
		status |= STA_INS;
	else if (leap == 2)
		status |= STA_DEL;
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR;
	tx.status = status;
	tx.maxerror = rnd(maxerror * 1e6 < 16e6 ? maxerror * 1e6 : 16e6);
	tx.esterror = rnd(esterror * 1e6 < 16e6 ? esterror * 1e6 : 16e6);
	if (set_freq) {
		tx.modes |= ADJ_FREQUENCY;
		tx.freq = rnd(freq_ppm * 65536.0);
	}
	return adj(&tx, "status/frequency", e);
}
