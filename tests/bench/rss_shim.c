/*
 * rss_shim: LD_PRELOAD'ed by tests/bench/ke_rss.sh. When the process ends
 * (exit() or _exit(), as nts-ke's children do), appends one line to the
 * file named by NTSKIT_RSS_LOG:
 *
 *   rss pid=N hwm=KB libc=KB bin=KB anon=KB other=KB
 *
 * hwm is the peak resident set (VmHWM); the rest split the resident set at
 * the end by mapping (/proc/self/smaps): libc is libc.so and the dynamic
 * loader, bin the program's own file, anon the heap, stack, .bss and other
 * anonymous memory, other any other library. The shim's own pages are left
 * out of every figure but hwm (a few KB).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int done;

static void report(void)
{
	const char *log = getenv("NTSKIT_RSS_LOG");
	char line[512], name[512] = "", self[512] = "";
	long hwm = 0, libc = 0, bin = 0, anon = 0, other = 0, kb;
	FILE *f;
	Dl_info di;

	if (done || log == NULL)
		return;
	done = 1;
	if (dladdr((void *)report, &di) && di.dli_fname)
		snprintf(self, sizeof self, "%s", di.dli_fname);
	if ((f = fopen("/proc/self/status", "r")) != NULL) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
				hwm = kb;
		fclose(f);
	}
	if ((f = fopen("/proc/self/smaps", "r")) == NULL)
		return;
	char exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx", &a, &b) == 2) {
			/* the path, if any, is the sixth field */
			char *p = line;
			int field = 0;
			name[0] = 0;
			while (*p && field < 5) {
				while (*p && *p != ' ')
					p++;
				while (*p == ' ')
					p++;
				field++;
			}
			snprintf(name, sizeof name, "%s", p);
			name[strcspn(name, "\n")] = 0;
		} else if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
			const char *base = strrchr(name, '/');
			base = base ? base + 1 : name;
			if (self[0] && strcmp(name, self) == 0)
				continue;
			if (!strncmp(base, "libc.so", 7) || !strncmp(base, "ld-linux", 8))
				libc += kb;
			else if (exe[0] && strcmp(name, exe) == 0)
				bin += kb;
			else if (name[0] == 0 || name[0] == '[')
				anon += kb;
			else
				other += kb;
		}
	}
	fclose(f);
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd >= 0) {
		int len = snprintf(line, sizeof line, "rss pid=%d hwm=%ld libc=%ld bin=%ld anon=%ld other=%ld\n",
			(int)getpid(), hwm, libc, bin, anon, other);
		if (write(fd, line, (size_t)len) < 0) {
			/* nothing to do: a bench figure is missing */
		}
		close(fd);
	}
}

__attribute__((destructor)) static void at_exit(void)
{
	report();
}

void _exit(int status)
{
	void (*real)(int) = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
	report();
	real(status);
	for (;;)
		;
}
