/*
 * vclock_shim.so: LD_PRELOAD shim that gives a process a virtual
 * CLOCK_REALTIME and never lets it change the real one.
 *
 *   NTSKIT_VCLOCK=FILE   the virtual clock's state, one line:
 *       now=SEC.NSEC freq=SCALED_PPM pending=USEC status=BITS maxerror=US esterror=US
 *     (created with now=1700000000.000000000, status=64 (STA_UNSYNC) when
 *     absent). Time does not run by itself: tests move "now" by rewriting
 *     the file; steps move it; the state persists across processes.
 *   NTSKIT_VCLOCK_LOG=FILE  (default FILE.log) one line per intercepted
 *     call that reads or sets clock parameters (not per time read).
 *
 * Intercepted: clock_adjtime, adjtimex, ntp_adjtime, clock_settime,
 * settimeofday (never forwarded), and clock_gettime, gettimeofday, time for
 * CLOCK_REALTIME (other clocks go to libc). No capability is needed for a
 * virtual change to "succeed". ADJ_OFFSET_SINGLESHOT is recorded as
 * pending (the virtual clock does not run, so it is never consumed);
 * ADJ_OFFSET_SS_READ returns it.
 *
 * Without NTSKIT_VCLOCK set every setter fails with EPERM, so a test that
 * forgot the variable cannot touch the real clock through this shim.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

struct vc {
	long long sec, nsec;
	long freq, pending, status, maxerror, esterror;
};

static const char *path(void)
{
	return getenv("NTSKIT_VCLOCK");
}

static void vlog(const char *fmt, ...)
{
	const char *p = path(), *lp = getenv("NTSKIT_VCLOCK_LOG");
	char def[1100];
	FILE *f;
	va_list ap;

	if (p == NULL)
		return;
	if (lp == NULL) {
		snprintf(def, sizeof def, "%s.log", p);
		lp = def;
	}
	f = fopen(lp, "a");
	if (f == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

/* open and lock the state file; fill v (defaults when empty) */
static int vc_open(struct vc *v)
{
	const char *p = path();
	char buf[512];
	ssize_t n;
	int fd;

	if (p == NULL)
		return -1;
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	flock(fd, LOCK_EX);
	memset(v, 0, sizeof *v);
	v->sec = 1700000000;
	v->status = STA_UNSYNC;
	v->maxerror = v->esterror = 16000000;
	n = pread(fd, buf, sizeof buf - 1, 0);
	if (n > 0) {
		char *s;
		buf[n] = 0;
		if ((s = strstr(buf, "now=")) != NULL) {
			char *dot;
			v->sec = strtoll(s + 4, &dot, 10);
			if (*dot == '.') {
				char frac[10] = "000000000";
				size_t i;
				for (i = 0; i < 9 && dot[1 + i] >= '0' && dot[1 + i] <= '9'; i++)
					frac[i] = dot[1 + i];
				v->nsec = strtoll(frac, NULL, 10);
			}
		}
		if ((s = strstr(buf, "freq=")) != NULL) v->freq = strtol(s + 5, NULL, 10);
		if ((s = strstr(buf, "pending=")) != NULL) v->pending = strtol(s + 8, NULL, 10);
		if ((s = strstr(buf, "status=")) != NULL) v->status = strtol(s + 7, NULL, 10);
		if ((s = strstr(buf, "maxerror=")) != NULL) v->maxerror = strtol(s + 9, NULL, 10);
		if ((s = strstr(buf, "esterror=")) != NULL) v->esterror = strtol(s + 9, NULL, 10);
	}
	return fd;
}

static void vc_close(int fd, const struct vc *v, int write)
{
	if (write) {
		char buf[512];
		int n = snprintf(buf, sizeof buf,
			"now=%lld.%09lld freq=%ld pending=%ld status=%ld maxerror=%ld esterror=%ld\n",
			v->sec, v->nsec, v->freq, v->pending, v->status, v->maxerror, v->esterror);
		if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) != n)
			vlog("vclock: short write");
	}
	flock(fd, LOCK_UN);
	close(fd);
}

static void add_ns(struct vc *v, long long sec, long long nsec)
{
	v->sec += sec;
	v->nsec += nsec;
	while (v->nsec >= 1000000000LL) { v->nsec -= 1000000000LL; v->sec++; }
	while (v->nsec < 0) { v->nsec += 1000000000LL; v->sec--; }
}

static int do_adjtime(struct timex *tx, const char *who)
{
	struct vc v;
	int fd = vc_open(&v), w = 0;
	unsigned m = tx->modes;

	if (fd < 0) {
		errno = EPERM;
		return -1;
	}
	vlog("%s modes=0x%x offset=%ld freq=%ld status=%d maxerror=%ld esterror=%ld time=%ld.%09ld",
		who, m, tx->offset, tx->freq, tx->status, tx->maxerror, tx->esterror,
		(long)tx->time.tv_sec, (long)tx->time.tv_usec);
	if ((m & ADJ_OFFSET_SS_READ) == ADJ_OFFSET_SS_READ) {
		tx->offset = v.pending;
	} else if ((m & ADJ_OFFSET_SINGLESHOT) == ADJ_OFFSET_SINGLESHOT) {
		/* singleshot with other mode bits: Linux says EINVAL */
		vc_close(fd, &v, 0);
		errno = EINVAL;
		return -1;
	} else {
		if (m & ADJ_SETOFFSET) {
			long long ns = tx->time.tv_usec;
			if (!(m & ADJ_NANO))
				ns *= 1000;
			if (ns < 0 || ns >= 1000000000LL) {
				vc_close(fd, &v, 0);
				errno = EINVAL;
				return -1;
			}
			add_ns(&v, tx->time.tv_sec, ns);
			w = 1;
		}
		if (m & ADJ_FREQUENCY) { v.freq = tx->freq; w = 1; }
		if (m & ADJ_STATUS) { v.status = tx->status; w = 1; }
		if (m & ADJ_MAXERROR) { v.maxerror = tx->maxerror; w = 1; }
		if (m & ADJ_ESTERROR) { v.esterror = tx->esterror; w = 1; }
		if (m & ADJ_OFFSET) { v.pending = tx->offset; w = 1; }
		tx->freq = v.freq;
		tx->status = (int)v.status;
		tx->maxerror = v.maxerror;
		tx->esterror = v.esterror;
		tx->offset = 0;
		tx->time.tv_sec = (time_t)v.sec;
		tx->time.tv_usec = (suseconds_t)((m & ADJ_NANO) ? v.nsec : v.nsec / 1000);
	}
	vc_close(fd, &v, w);
	return (v.status & STA_UNSYNC) ? TIME_ERROR : TIME_OK;
}

/* A pure ADJ_OFFSET_SINGLESHOT replaces the pending slew and returns the
 * old remainder; everything else goes to do_adjtime(). */
static int do_adjtime_entry(struct timex *tx, const char *who)
{
	if ((tx->modes & ADJ_OFFSET_SS_READ) != ADJ_OFFSET_SS_READ &&
			(tx->modes & ADJ_OFFSET_SINGLESHOT) == ADJ_OFFSET_SINGLESHOT &&
			tx->modes == ADJ_OFFSET_SINGLESHOT) {
		struct vc v;
		int fd = vc_open(&v);
		long old;
		if (fd < 0) {
			errno = EPERM;
			return -1;
		}
		vlog("%s modes=0x%x offset=%ld (singleshot slew)", who, tx->modes, tx->offset);
		old = v.pending;
		v.pending = tx->offset;
		tx->offset = old;
		vc_close(fd, &v, 1);
		return (v.status & STA_UNSYNC) ? TIME_ERROR : TIME_OK;
	}
	return do_adjtime(tx, who);
}

int clock_adjtime(clockid_t id, struct timex *tx)
{
	if (id != CLOCK_REALTIME) {
		errno = EINVAL;
		return -1;
	}
	return do_adjtime_entry(tx, "clock_adjtime");
}

int adjtimex(struct timex *tx)
{
	return do_adjtime_entry(tx, "adjtimex");
}

int ntp_adjtime(struct timex *tx)
{
	return do_adjtime_entry(tx, "ntp_adjtime");
}

int clock_settime(clockid_t id, const struct timespec *ts)
{
	struct vc v;
	int fd;

	if (id != CLOCK_REALTIME) {
		errno = EINVAL;
		return -1;
	}
	fd = vc_open(&v);
	if (fd < 0) {
		errno = EPERM;
		return -1;
	}
	vlog("clock_settime %ld.%09ld", (long)ts->tv_sec, ts->tv_nsec);
	v.sec = ts->tv_sec;
	v.nsec = ts->tv_nsec;
	vc_close(fd, &v, 1);
	return 0;
}

int settimeofday(const struct timeval *tv, const struct timezone *tz)
{
	struct vc v;
	int fd;

	(void)tz;
	fd = vc_open(&v);
	if (fd < 0) {
		errno = EPERM;
		return -1;
	}
	vlog("settimeofday %ld.%06ld", tv != NULL ? (long)tv->tv_sec : 0L, tv != NULL ? (long)tv->tv_usec : 0L);
	if (tv != NULL) {
		v.sec = tv->tv_sec;
		v.nsec = (long long)tv->tv_usec * 1000;
	}
	vc_close(fd, &v, 1);
	return 0;
}

static int virt_now(struct timespec *ts)
{
	struct vc v;
	int fd = vc_open(&v);

	if (fd < 0)
		return -1;
	vc_close(fd, &v, 0);
	ts->tv_sec = (time_t)v.sec;
	ts->tv_nsec = (long)v.nsec;
	return 0;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);

	if ((id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) && path() != NULL && virt_now(ts) == 0)
		return 0;
	if (real == NULL)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	return real(id, ts);
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t time(time_t *out)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return (time_t)-1;
	if (out != NULL)
		*out = ts.tv_sec;
	return ts.tv_sec;
}
