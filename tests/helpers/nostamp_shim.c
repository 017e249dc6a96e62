/*
 * nostamp_shim.so: LD_PRELOAD shim that keeps a process from asking the
 * kernel for receive timestamps, for servers run under libfaketime.
 *
 * libfaketime shifts what the process reads from the clock, not the
 * timestamps the kernel attaches to received datagrams (SO_TIMESTAMP,
 * SO_TIMESTAMPNS, SO_TIMESTAMPING). A faked NTP server that uses them
 * answers with a real receive time and a faked transmit time: a server
 * started 30 s ahead is measured about 15 s ahead, with a delay near 0.
 * With this shim loaded BEFORE libfaketime
 *     LD_PRELOAD="nostamp_shim.so libfaketime.so.1"
 * such setsockopt() calls succeed without reaching the kernel; no
 * timestamp control message ever arrives, so the server falls back to
 * reading the (faked) clock when a request comes in, and both of its
 * timestamps come from the same clock.
 *
 *   NTSKIT_NOSTAMP_LOG=FILE  one line per dropped call (appended), so a
 *                            test can see the shim was in effect.
 * Every other setsockopt() goes to libc unchanged.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* the names of the SOL_SOCKET options that ask for receive timestamps;
 * the *_NEW numbers are the 64-bit time_t variants (Linux 5.1) */
static const char *stamp_option(int name)
{
	switch (name) {
	case 29: return "SO_TIMESTAMP";
	case 35: return "SO_TIMESTAMPNS";
	case 37: return "SO_TIMESTAMPING";
	case 63: return "SO_TIMESTAMP_NEW";
	case 64: return "SO_TIMESTAMPNS_NEW";
	case 65: return "SO_TIMESTAMPING_NEW";
	default: return NULL;
	}
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static int (*real)(int, int, int, const void *, socklen_t);
	const char *opt = level == SOL_SOCKET ? stamp_option(name) : NULL;

	if (opt != NULL) {
		const char *lp = getenv("NTSKIT_NOSTAMP_LOG");
		if (lp != NULL) {
			FILE *f = fopen(lp, "a");
			if (f != NULL) {
				fprintf(f, "pid %ld: setsockopt(%d, SOL_SOCKET, %s) dropped\n",
					(long)getpid(), fd, opt);
				fclose(f);
			}
		}
		return 0;
	}
	if (real == NULL) {
		*(void **)&real = dlsym(RTLD_NEXT, "setsockopt");
		if (real == NULL) {
			errno = ENOSYS;
			return -1;
		}
	}
	return real(fd, level, name, val, len);
}
