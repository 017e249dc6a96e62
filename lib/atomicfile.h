/*
 * atomicfile: write a file so that readers see the old or the new content,
 * never a mix: a temporary file in the same directory, created with the
 * final mode (0600 for state files holding secrets), fsync'd, then renamed
 * over the target, and the directory fsync'd.
 *
 *   struct nk_atomic a;
 *   if (nk_atomic_open(&a, path, 0600, &e) < 0) ...
 *   fprintf(a.f, ...);
 *   if (nk_atomic_commit(&a, &e) < 0) ...     (or nk_atomic_abort(&a))
 *
 * A read-modify-write of a state file by two programs at once would lose
 * one program's change (or, for a cookie jar, use a cookie twice). The
 * tools that rewrite a state file hold an advisory lock on PATH.lock
 * (flock, 0600, created on first use) from reading the file to renaming
 * the new one over it:
 *
 *   int lk = nk_statelock(path, NK_STATELOCK_WAIT, &stop_flag, &e);
 *   if (lk == -2) ... another program held it for the whole wait: exit 75
 *   if (lk < 0) ... e.msg says why the lock file could not be used
 *   ... read, write, commit ...
 *   nk_stateunlock(lk);
 */
#ifndef NK_ATOMICFILE_H
#define NK_ATOMICFILE_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "util.h"

struct nk_atomic {
	FILE *f;                /* write here between open and commit */
	char path[1024];
	char tmp[1060];
};

int nk_atomic_open(struct nk_atomic *a, const char *path, mode_t mode, struct nk_err *e);
int nk_atomic_commit(struct nk_atomic *a, struct nk_err *e);
void nk_atomic_abort(struct nk_atomic *a);

/* seconds a tool waits for another program's lock on its state file */
#define NK_STATELOCK_WAIT 120

/* Lock PATH.lock, waiting up to wait_s seconds (or until *stop, when not
 * NULL, becomes non-zero). Returns the lock's descriptor; -2 when it stayed
 * held by another program (or *stop was set), -1 on any other error. */
int nk_statelock(const char *path, double wait_s, const volatile sig_atomic_t *stop, struct nk_err *e);
void nk_stateunlock(int fd);

/* A state file that cannot be parsed is moved aside, never left to fail
 * every later run nor silently overwritten: renamed to PATH.bad-UNIXTIME
 * (PATH.bad-UNIXTIME.N when that exists, never replacing a file), mode
 * 0600 (it may hold secrets). Call it with the state file's lock held. The
 * new name goes to moved (cap bytes, may be NULL). 0, or -1 with e filled. */
int nk_state_quarantine(const char *path, char *moved, size_t cap, struct nk_err *e);

#endif
