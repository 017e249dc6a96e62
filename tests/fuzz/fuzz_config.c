/* libFuzzer target for lib/config: any input is loaded as ntskit.conf
 * (through a memfd, since nk_cfg_load takes a path), and fed to the value
 * parsers. Besides "no crash": an error message always starts with the
 * file name and a line number, and a file that loads has sane values. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

static struct nk_config cfg;
static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_err e;
	char s[256];
	size_t n = size < sizeof s - 1 ? size : sizeof s - 1;

	if (fd < 0) {
		fd = memfd_create("fuzz.conf", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (nk_cfg_load(&cfg, path, &e) == 0) {
		if (cfg.nsources > NK_CFG_MAX_SOURCES || cfg.serve.nlisten > NK_CFG_MAX_LISTEN ||
		    cfg.select.min_agree < 1 || isnan(cfg.adjust.panic_single) ||
		    cfg.adjust.panic_single < 0 || !(cfg.ke.timeout > 0))
			abort();
		for (size_t i = 0; i < cfg.nsources; i++)
			if (cfg.source[i].ke_port == 0 || cfg.source[i].address[0] == 0)
				abort();
	} else {
		size_t pl = strlen(path);
		/* "PATH:LINE: ..." */
		if (strncmp(e.msg, path, pl) != 0 || e.msg[pl] != ':')
			abort();
	}

	/* the value parsers on the raw input as one string */
	memcpy(s, data, n);
	s[n] = 0;
	{
		double d;
		struct nk_cfg_addr a;
		uint16_t ids[NK_CFG_MAX_AEAD];
		size_t k;
		if (nk_cfg_parse_duration(s, 1, &d, &e) == 0 && (isnan(d) || d < 0))
			abort();
		(void)nk_cfg_parse_addr(s, 123, &a, &e);
		(void)nk_cfg_parse_addr(s, 0, &a, &e);
		if (nk_cfg_parse_aead_list(s, ids, &k, &e) == 0 && (k == 0 || k > NK_CFG_MAX_AEAD))
			abort();
		(void)nk_cfg_set(&cfg, "serve", "listen", s, &e);
	}
	return 0;
}
