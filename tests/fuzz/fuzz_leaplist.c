/*
 * libFuzzer target for nts-adjust's leap-seconds list parser
 * (nts-adjust/leap.c) and the arming decision: any bytes as the list, then
 * a decision for each announcement on the list's own dates; no crash, no
 * sanitizer report, and an armed leap only on 30 June or 31 December.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../../nts-adjust/leap.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nk_leap_list l;
	struct nk_leap_decision d;
	struct nk_err e;
	FILE *f;
	size_t i;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (f == NULL)
		return 0;
	if (nk_leap_list_read(&l, f, "fuzz", &e) == 0) {
		for (i = 0; i < l.n; i++) {
			for (int leap = 0; leap < 4; leap++) {
				struct tm tm;
				time_t t = (time_t)(l.e[i].at - 43200);
				nk_leap_decide(leap, l.e[i].at - 43200, &l, &d);
				gmtime_r(&t, &tm);
				if (d.armed && !((tm.tm_mon == 5 && tm.tm_mday == 30) ||
						(tm.tm_mon == 11 && tm.tm_mday == 31)))
					__builtin_trap();
			}
		}
	}
	fclose(f);
	return 0;
}
