#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int nk_atomic_open(struct nk_atomic *a, const char *path, mode_t mode, struct nk_err *e)
{
	int fd;
	unsigned char r[6];
	char suffix[13];

	memset(a, 0, sizeof *a);
	if (strlen(path) >= sizeof a->path) {
		nk_errf(e, "path too long (%zu bytes): %.60s...", strlen(path), path);
		return -1;
	}
	strcpy(a->path, path);
	for (int tries = 0; tries < 10; tries++) {
		if (nk_random(r, sizeof r) < 0) {
			nk_errf(e, "%s: no random bytes for a temporary name", path);
			return -1;
		}
		nk_hex_encode(suffix, r, sizeof r);
		snprintf(a->tmp, sizeof a->tmp, "%s.tmp-%s", path, suffix);
		/* O_EXCL|O_NOFOLLOW: never write through a planted link */
		fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST) {
			nk_errf(e, "%s: cannot create temporary file: %s", a->tmp, strerror(errno));
			return -1;
		}
	}
	if (fd < 0) {
		nk_errf(e, "%s: cannot create a temporary file", path);
		return -1;
	}
	/* the umask may have narrowed the mode; never widen beyond 'mode' */
	if (fchmod(fd, mode) < 0) {
		nk_errf(e, "%s: chmod: %s", a->tmp, strerror(errno));
		close(fd);
		unlink(a->tmp);
		return -1;
	}
	a->f = fdopen(fd, "w");
	if (a->f == NULL) {
		nk_errf(e, "%s: %s", a->tmp, strerror(errno));
		close(fd);
		unlink(a->tmp);
		return -1;
	}
	return 0;
}

int nk_atomic_commit(struct nk_atomic *a, struct nk_err *e)
{
	char dir[sizeof a->path];
	int dfd, bad;

	bad = fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0;
	if (fclose(a->f) != 0)
		bad = 1;
	a->f = NULL;
	if (bad) {
		nk_errf(e, "%s: write failed: %s", a->tmp, strerror(errno));
		unlink(a->tmp);
		return -1;
	}
	if (rename(a->tmp, a->path) < 0) {
		nk_errf(e, "%s: rename failed: %s", a->path, strerror(errno));
		unlink(a->tmp);
		return -1;
	}
	strcpy(dir, a->path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

void nk_atomic_abort(struct nk_atomic *a)
{
	if (a->f != NULL) {
		fclose(a->f);
		a->f = NULL;
	}
	if (a->tmp[0])
		unlink(a->tmp);
}

int nk_statelock(const char *path, double wait_s, const volatile sig_atomic_t *stop, struct nk_err *e)
{
	char lp[1060];
	int fd;
	double t0 = nk_mono_s(), waited;

	if ((size_t)snprintf(lp, sizeof lp, "%s.lock", path) >= sizeof lp) {
		nk_errf(e, "path too long (%zu bytes): %.60s...", strlen(path), path);
		return -1;
	}
	fd = open(lp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		nk_errf(e, "%s: cannot open the lock file: %s", lp, strerror(errno));
		return -1;
	}
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			nk_errf(e, "%s: flock: %s", lp, strerror(errno));
			close(fd);
			return -1;
		}
		waited = nk_mono_s() - t0;
		if (waited >= wait_s || (stop != NULL && *stop)) {
			nk_errf(e, "%s: another program holds the lock on the state file "
				"(waited %.1f s)", lp, waited);
			close(fd);
			return -2;
		}
		{
			struct timespec ts = { 0, 50 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

void nk_stateunlock(int fd)
{
	if (fd >= 0)
		close(fd);     /* closing the only descriptor releases the flock */
}

int nk_state_quarantine(const char *path, char *moved, size_t cap, struct nk_err *e)
{
	char dst[1100];
	long now = (long)time(NULL);
	int fd;

	/* 0600 first, through a descriptor: a symbolic link is moved as it
	 * is, never followed */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		(void)fchmod(fd, 0600);
		close(fd);
	}
	for (int n = 1; n < 100; n++) {
		int r;
		if (n == 1)
			r = snprintf(dst, sizeof dst, "%s.bad-%ld", path, now);
		else
			r = snprintf(dst, sizeof dst, "%s.bad-%ld.%d", path, now, n);
		if (r < 0 || (size_t)r >= sizeof dst) {
			nk_errf(e, "path too long (%zu bytes): %.60s...", strlen(path), path);
			return -1;
		}
		if (renameat2(AT_FDCWD, path, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
			goto done;
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL && errno != ENOSYS) {
			nk_errf(e, "%s: cannot move it aside to %s: %s", path, dst, strerror(errno));
			return -1;
		}
		/* no RENAME_NOREPLACE on this file system: check, then rename
		 * (the state file's lock keeps our own tools out meanwhile) */
		{
			struct stat sb;
			if (lstat(dst, &sb) == 0)
				continue;
		}
		if (rename(path, dst) == 0)
			goto done;
		nk_errf(e, "%s: cannot move it aside to %s: %s", path, dst, strerror(errno));
		return -1;
	}
	nk_errf(e, "%s: cannot move it aside: too many %s.bad-%ld* files", path, path, now);
	return -1;
done:
	if (moved != NULL && cap > 0)
		snprintf(moved, cap, "%s", dst);
	return 0;
}
