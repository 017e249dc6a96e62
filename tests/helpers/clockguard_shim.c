/*
 * clockguard_shim.so: LD_PRELOAD shim for running a real NTP daemon (ntpd-rs,
 * which has no "observe only" mode) against the REAL clock without letting it
 * change anything: every clock write becomes a read-only query, and is logged.
 *
 *   adjtimex, ntp_adjtime, clock_adjtime   modes other than 0 (and other than
 *       ADJ_OFFSET_SS_READ, itself a query) are logged, then the call goes to
 *       libc with modes = 0: the caller gets the kernel's current state and
 *       the return value of that query, as if its change had been made.
 *   clock_settime, settimeofday, adjtime (with a delta)   logged; nothing
 *       is set; they return 0 (adjtime reports the kernel's pending slew).
 *   syscall(SYS_adjtimex | SYS_clock_adjtime | SYS_clock_settime |
 *       SYS_settimeofday, ...)   handled the same way.
 * Clock reads (clock_gettime, ...) are untouched: the daemon sees the real
 * time, unlike with vclock_shim.so, whose virtual clock does not run.
 *
 *   NTSKIT_CLOCKGUARD_LOG=FILE  where the lines go (appended); default stderr.
 *       "clockguard: ntp_adjtime modes=0x... offset=... freq=... -> query"
 *   NTSKIT_CLOCKGUARD_NOCAP=1   refuse to run (exit 99 at load, before main)
 *       when CAP_SYS_TIME is effective or in the bounding set: the shim is
 *       meant to be the second guard, after capsh --drop=cap_sys_time.
 * This is a test aid, not a sandbox: a program that issues the system call
 * instruction itself bypasses it, hence the capability drop as well.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#define CAP_SYS_TIME_BIT 25

static void glog(const char *fmt, ...)
{
	const char *lp = getenv("NTSKIT_CLOCKGUARD_LOG");
	FILE *f = lp != NULL ? fopen(lp, "a") : stderr;
	va_list ap;

	if (f == NULL)
		return;
	fprintf(f, "clockguard: pid %ld: ", (long)getpid());
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	if (f != stderr)
		fclose(f);
}

static void *next(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL) {
		glog("%s not found in libc; refusing", name);
		_exit(99);
	}
	return p;
}

/* 1 when /proc/self/status shows bit 25 set in the named capability mask,
 * 0 when clear, -1 when it cannot be read */
static int cap_bit(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t fl = strlen(field);
	int r = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			unsigned long long m = strtoull(line + fl + 1, NULL, 16);
			r = (int)((m >> CAP_SYS_TIME_BIT) & 1);
			break;
		}
	}
	fclose(f);
	return r;
}

__attribute__((constructor)) static void guard_init(void)
{
	int eff, bnd;

	if (getenv("NTSKIT_CLOCKGUARD_NOCAP") == NULL)
		return;
	eff = cap_bit("CapEff");
	bnd = cap_bit("CapBnd");
	if (eff != 0 || bnd != 0) {
		glog("CAP_SYS_TIME %s (CapEff bit %d, CapBnd bit %d): refusing to run",
			eff < 0 || bnd < 0 ? "unknown" : "present", eff, bnd);
		fprintf(stderr, "clockguard: CAP_SYS_TIME is not dropped: refusing to run\n");
		_exit(99);
	}
}

/* a pure query: modes 0, or reading the remaining single-shot slew */
static int is_query(unsigned modes)
{
	return modes == 0 || modes == ADJ_OFFSET_SS_READ;
}

static void log_write(const char *who, long clk, const struct timex *tx)
{
	glog("%s clock=%ld modes=0x%x offset=%ld freq=%ld status=0x%x maxerror=%ld esterror=%ld "
		"time=%ld.%09ld -> query", who, clk, tx->modes, tx->offset, tx->freq, tx->status,
		tx->maxerror, tx->esterror, (long)tx->time.tv_sec, (long)tx->time.tv_usec);
}

/* tx's change is logged and dropped: the same call as a query fills tx */
static int as_query(const char *who, clockid_t clk, struct timex *tx, int use_clk)
{
	static int (*real_clock_adjtime)(clockid_t, struct timex *);
	static int (*real_adjtimex)(struct timex *);
	struct timex q;
	int r;

	if (tx == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (!is_query(tx->modes))
		log_write(who, use_clk ? (long)clk : -1L, tx);
	q = *tx;
	if (!is_query(q.modes))
		q.modes = 0;
	if (use_clk) {
		if (real_clock_adjtime == NULL)
			*(void **)&real_clock_adjtime = next("clock_adjtime");
		r = real_clock_adjtime(clk, &q);
	} else {
		if (real_adjtimex == NULL)
			*(void **)&real_adjtimex = next("adjtimex");
		r = real_adjtimex(&q);
	}
	q.modes = tx->modes;
	*tx = q;
	return r;
}

int adjtimex(struct timex *tx)
{
	return as_query("adjtimex", CLOCK_REALTIME, tx, 0);
}

int ntp_adjtime(struct timex *tx)
{
	return as_query("ntp_adjtime", CLOCK_REALTIME, tx, 0);
}

int clock_adjtime(clockid_t clk, struct timex *tx)
{
	return as_query("clock_adjtime", clk, tx, 1);
}

int clock_settime(clockid_t clk, const struct timespec *ts)
{
	glog("clock_settime clock=%ld to %ld.%09ld -> ignored", (long)clk,
		(long)ts->tv_sec, ts->tv_nsec);
	return 0;
}

int settimeofday(const struct timeval *tv, const struct timezone *tz)
{
	(void)tz;
	glog("settimeofday to %ld.%06ld -> ignored", tv != NULL ? (long)tv->tv_sec : 0L,
		tv != NULL ? (long)tv->tv_usec : 0L);
	return 0;
}

int adjtime(const struct timeval *delta, struct timeval *olddelta)
{
	static int (*real)(const struct timeval *, struct timeval *);

	if (delta != NULL)
		glog("adjtime by %ld.%06ld -> query", (long)delta->tv_sec, (long)delta->tv_usec);
	if (real == NULL)
		*(void **)&real = next("adjtime");
	return real(NULL, olddelta);
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;
	int i;

	/* the kernel takes at most six arguments; unused ones are ignored */
	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (nr) {
	case SYS_adjtimex:
		return as_query("syscall(adjtimex)", CLOCK_REALTIME, (struct timex *)a[0], 0);
	case SYS_clock_adjtime:
		return as_query("syscall(clock_adjtime)", (clockid_t)a[0], (struct timex *)a[1], 1);
	case SYS_clock_settime:
		glog("syscall(clock_settime) clock=%ld -> ignored", a[0]);
		return 0;
	case SYS_settimeofday:
		glog("syscall(settimeofday) -> ignored");
		return 0;
	default:
		break;
	}
	if (real == NULL)
		*(void **)&real = next("syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
