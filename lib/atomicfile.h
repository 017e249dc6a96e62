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
 */
#ifndef NK_ATOMICFILE_H
#define NK_ATOMICFILE_H

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

#endif
