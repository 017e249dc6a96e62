/* Leap seconds: see leap.h. */
#include "leap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* the list counts NTP seconds of era 0 (until 2036) */
#define NK_LEAP_NTP_MAX 4294967295ULL

int nk_leap_list_load(struct nk_leap_list *l, const char *path, struct nk_err *e)
{
	FILE *f;
	int rc;

	memset(l, 0, sizeof *l);
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return 1;
		nk_errf(e, "leap-seconds list %s: %s", path, strerror(errno));
		return -1;
	}
	rc = nk_leap_list_read(l, f, path, e);
	fclose(f);
	return rc;
}

int nk_leap_list_read(struct nk_leap_list *l, FILE *f, const char *path, struct nk_err *e)
{
	char line[256];
	unsigned long lineno = 0;

	memset(l, 0, sizeof *l);
	while (fgets(line, sizeof line, f) != NULL) {
		char *p = line, *end;
		unsigned long long ntp;
		long off;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			nk_errf(e, "leap-seconds list %s:%lu: line too long", path, lineno);
			goto bad;
		}
		if (p[0] == '#') {
			if (p[1] == '@') {      /* expiry, NTP seconds */
				p += 2;
				while (*p == ' ' || *p == '\t')
					p++;
				errno = 0;
				ntp = *p >= '0' && *p <= '9' ? strtoull(p, &end, 10) : (end = p, 0);
				if (end == p || errno != 0 || ntp < NK_LEAP_NTP_UNIX || ntp > NK_LEAP_NTP_MAX) {
					nk_errf(e, "leap-seconds list %s:%lu: bad expiry (#@) line", path, lineno);
					goto bad;
				}
				l->expires = (double)ntp - NK_LEAP_NTP_UNIX;
			}
			continue;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || *p == 0)
			continue;
		errno = 0;
		ntp = *p >= '0' && *p <= '9' ? strtoull(p, &end, 10) : (end = p, 0);
		if (end == p || errno != 0 || (*end != ' ' && *end != '\t') || ntp < NK_LEAP_NTP_UNIX ||
				ntp > NK_LEAP_NTP_MAX) {
			nk_errf(e, "leap-seconds list %s:%lu: expected NTP seconds and TAI-UTC", path, lineno);
			goto bad;
		}
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		off = *p >= '0' && *p <= '9' ? strtol(p, &end, 10) : (end = p, -1);
		if (end == p || off < 0 || off > 1000 || (*end != 0 && *end != '\n' && *end != ' ' &&
				*end != '\t' && *end != '#')) {
			nk_errf(e, "leap-seconds list %s:%lu: bad TAI-UTC value", path, lineno);
			goto bad;
		}
		if (l->n == NK_LEAP_LIST_MAX) {
			nk_errf(e, "leap-seconds list %s:%lu: more than %d entries", path, lineno, NK_LEAP_LIST_MAX);
			goto bad;
		}
		if (l->n > 0 && (double)ntp - NK_LEAP_NTP_UNIX <= l->e[l->n - 1].at) {
			nk_errf(e, "leap-seconds list %s:%lu: entries out of order", path, lineno);
			goto bad;
		}
		l->e[l->n].at = (double)ntp - NK_LEAP_NTP_UNIX;
		l->e[l->n].tai_utc = (int)off;
		l->n++;
	}
	if (ferror(f)) {
		nk_errf(e, "leap-seconds list %s: read error", path);
		goto bad;
	}
	l->have = 1;
	return 0;
bad:
	memset(l, 0, sizeof *l);
	return -1;
}

static void fmt_day_end(char *out, size_t cap, double at, int leap)
{
	time_t t = (time_t)at - 1;      /* the day's last second, 23:59:59 */
	struct tm tm;

	gmtime_r(&t, &tm);
	/* an inserted second is 23:59:60; a deleted one is 23:59:59 */
	snprintf(out, cap, "%04d-%02d-%02dT23:59:%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, leap == 1 ? "60" : "59");
}

void nk_leap_decide(int leap, double now, const struct nk_leap_list *l, struct nk_leap_decision *d)
{
	time_t t = (time_t)now;
	struct tm tm;
	char when[64], day[40];
	const char *what = leap == 1 ? "insert" : "delete";
	size_t i;

	memset(d, 0, sizeof *d);
	if (leap != 1 && leap != 2) {
		snprintf(d->why, sizeof d->why, "no leap second announced");
		return;
	}
	gmtime_r(&t, &tm);
	snprintf(day, sizeof day, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	/* the end of this UTC day */
	d->at = (double)(t - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec)) + 86400;
	fmt_day_end(when, sizeof when, d->at, leap);
	if (!((tm.tm_mon == 5 && tm.tm_mday == 30) || (tm.tm_mon == 11 && tm.tm_mday == 31))) {
		snprintf(d->why, sizeof d->why, "the sources announce a leap second (leap=%d) on %s: not armed, "
			"a leap second is only armed on 30 June or 31 December (UTC)", leap, day);
		return;
	}
	if (l != NULL && l->have && l->expires > now) {
		int before = 0, found = 0, dir = 0;

		for (i = 0; i < l->n; i++) {
			if (l->e[i].at == d->at) {
				found = 1;
				dir = l->e[i].tai_utc - before;
				break;
			}
			before = l->e[i].tai_utc;
		}
		if (!found || (leap == 1 && dir != 1) || (leap == 2 && dir != -1)) {
			snprintf(d->why, sizeof d->why, "the sources announce a leap second to %s at %s, but "
				"the leap-seconds list (unexpired) has none there: not armed", what, when);
			return;
		}
		d->armed = leap;
		snprintf(d->why, sizeof d->why, "%s a leap second at %s (the sources' majority, "
			"confirmed by the leap-seconds list)", what, when);
		return;
	}
	d->armed = leap;
	snprintf(d->why, sizeof d->why, "%s a leap second at %s (the sources' majority; %s)", what, when,
		l != NULL && l->have ? "the leap-seconds list has expired" : "no leap-seconds list");
}
