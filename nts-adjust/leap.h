/*
 * Leap seconds: when nts-adjust arms the kernel's leap indicator.
 *
 * The sources' leap indicator (the majority of the sources nts-select used,
 * in the offset record) is only an announcement. A leap second is armed
 * (STA_INS / STA_DEL, and the leap field of the status file nts-serve
 * advertises) only
 *   - on the last day of June or December (UTC), the only days IERS has ever
 *     used, because the kernel acts at the end of the day it is armed on; and
 *   - when the system's leap-seconds.list (tzdata) is present and unexpired,
 *     only if it lists that very leap second (the same direction).
 * With no usable list, the sources' majority decides.
 */
#ifndef NK_ADJUST_LEAP_H
#define NK_ADJUST_LEAP_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

#define NK_LEAP_LIST_MAX 64

/* seconds between 1900-01-01 (NTP) and 1970-01-01 (Unix) */
#define NK_LEAP_NTP_UNIX 2208988800.0

struct nk_leap_list {
	int have;               /* 1: loaded */
	double expires;         /* Unix time of the "#@" line; 0: none given */
	size_t n;
	struct {
		double at;      /* Unix time from which tai_utc applies */
		int tai_utc;
	} e[NK_LEAP_LIST_MAX];
};

/* Load a leap-seconds.list file. Returns 0 (loaded), 1 (no such file:
 * l->have = 0), -1 (unreadable or malformed: e says the line). */
int nk_leap_list_load(struct nk_leap_list *l, const char *path, struct nk_err *e);
/* The same from an open stream (path names it in messages): 0 or -1. */
int nk_leap_list_read(struct nk_leap_list *l, FILE *f, const char *path, struct nk_err *e);

struct nk_leap_decision {
	int armed;              /* 0 none, 1 insert, 2 delete (NTP leap indicator values) */
	double at;              /* Unix time at which the day ends (the leap happens before it) */
	char why[200];          /* one sentence: what was decided and why */
};

/* Decide for the sources' indicator `leap` (0..3) at UTC time `now`, with the
 * list `l` (NULL or l->have == 0: no list). */
void nk_leap_decide(int leap, double now, const struct nk_leap_list *l, struct nk_leap_decision *d);

#endif
