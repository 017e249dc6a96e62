/*
 * fanout: run one child process per job, all at once, and collect the
 * lines each child writes back on its pipe, under one deadline. nts-ke and
 * nts-poll handle every time source this way: a source that hangs cannot
 * delay the others past the deadline, and one that crashes cannot take the
 * others down.
 *
 *   static struct nk_fanout_child kids[N];
 *   for (i...) nk_fanout_start(kids, n, i, job_fn, &job[i]);   job_fn _exit()s
 *   nk_fanout_collect(kids, n, seconds, on_line, arg);
 *   kids[i].killed: the child was still running at the deadline (SIGKILL)
 *
 * Lines are at most NK_FANOUT_LINE_MAX - 1 bytes; a longer one ends that
 * child's collection (its pipe is closed). Line buffers may hold secrets
 * (session records): every byte is wiped once handed over.
 */
#ifndef NK_FANOUT_H
#define NK_FANOUT_H

#include <stddef.h>
#include <sys/types.h>

#define NK_FANOUT_LINE_MAX 32768
/* children read at once; more are read as others finish */
#define NK_FANOUT_MAX      256

struct nk_fanout_child {
	pid_t pid;              /* 0: not started */
	int fd;                 /* read end of its pipe; -1 when closed */
	int killed;             /* set by collect: still running at the deadline */
	size_t len;
	char buf[NK_FANOUT_LINE_MAX];
};

/* Mark every child as not started (call once before the first start). */
void nk_fanout_init(struct nk_fanout_child *all, size_t n);

/* Fork child i. In the child: the read ends of the other children are
 * closed and fn(arg, wfd) runs; it must not return (it ends with _exit).
 * 0, or -1 with errno set (pipe or fork failed). */
int nk_fanout_start(struct nk_fanout_child *all, size_t n, size_t i,
	void (*fn)(void *arg, int wfd), void *arg);

/* Read lines from every started child until each has closed its pipe or
 * 'limit' seconds have passed; line(arg, i, text, len) is called for each
 * complete line (NUL-terminated, without the newline). Children still
 * running at the limit are killed and marked; every started child is
 * reaped. Returns the number killed. */
size_t nk_fanout_collect(struct nk_fanout_child *all, size_t n, double limit,
	void (*line)(void *arg, size_t i, char *text, size_t len), void *arg);

#endif
