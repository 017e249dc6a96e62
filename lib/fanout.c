#include "fanout.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void nk_fanout_init(struct nk_fanout_child *all, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		all[i].pid = 0;
		all[i].fd = -1;
		all[i].killed = 0;
		all[i].len = 0;
	}
}

int nk_fanout_start(struct nk_fanout_child *all, size_t n, size_t i,
	void (*fn)(void *arg, int wfd), void *arg)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		int err = errno;
		close(p[0]);
		close(p[1]);
		errno = err;
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		for (size_t k = 0; k < n; k++)
			if (k != i && all[k].fd >= 0)
				close(all[k].fd);
		fn(arg, p[1]);
		_exit(0);
	}
	close(p[1]);
	all[i].pid = pid;
	all[i].fd = p[0];
	all[i].killed = 0;
	all[i].len = 0;
	return 0;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Hand over every complete line in c's buffer. */
static void lines(struct nk_fanout_child *c, size_t i,
	void (*line)(void *arg, size_t i, char *text, size_t len), void *arg)
{
	char *nl;

	while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
		size_t l = (size_t)(nl - c->buf);
		*nl = 0;
		line(arg, i, c->buf, l);
		nk_wipe(c->buf, l + 1);
		memmove(c->buf, nl + 1, c->len - l - 1);
		c->len -= l + 1;
		nk_wipe(c->buf + c->len, l + 1);
	}
}

size_t nk_fanout_collect(struct nk_fanout_child *all, size_t n, double limit,
	void (*line)(void *arg, size_t i, char *text, size_t len), void *arg)
{
	struct pollfd pfd[NK_FANOUT_MAX];
	size_t idx[NK_FANOUT_MAX], killed = 0;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		size_t m = 0;
		double left = limit - elapsed(&t0);
		for (size_t i = 0; i < n && m < NK_FANOUT_MAX; i++)
			if (all[i].fd >= 0) {
				pfd[m].fd = all[i].fd;
				pfd[m].events = POLLIN;
				idx[m++] = i;
			}
		if (m == 0 || left <= 0)
			break;
		if (poll(pfd, m, left > 0.2 ? 200 : (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
		for (size_t k = 0; k < m; k++) {
			struct nk_fanout_child *c = &all[idx[k]];
			ssize_t r;
			if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r > 0) {
				c->len += (size_t)r;
				lines(c, idx[k], line, arg);
				if (c->len < sizeof c->buf - 1)
					continue;       /* else: a line too long: stop reading it */
			}
			close(c->fd);
			c->fd = -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct nk_fanout_child *c = &all[i];
		if (c->fd >= 0) {
			kill(c->pid, SIGKILL);
			close(c->fd);
			c->fd = -1;
			c->killed = 1;
			killed++;
		}
		if (c->pid > 0) {
			while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
				;
			c->pid = 0;
		}
		nk_wipe(c->buf, c->len);
		c->len = 0;
	}
	return killed;
}
