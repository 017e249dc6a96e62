/*
 * config: the one INI file all ntskit tools read (ntskit.conf(5)), via inih.
 *
 *   [proxy]          SOCKS5 proxy for nts-ke and nts-poll
 *   [source NAME]    one per time source
 *   [ke] [poll]      per-tool settings
 *   [select]         nts-select
 *   [adjust]         nts-adjust (panic thresholds with ntpd-rs semantics)
 *   [serve]          nts-serve
 *
 * Unknown sections or keys and bad values are errors "FILE:LINE: what".
 * Durations are seconds (decimal) with optional suffix ms/s/m/h/d; the panic
 * thresholds also take "inf" (stored as INFINITY). Command-line flags
 * override what the file says: tools load the file first, then apply flags.
 * Fixed-size storage: no allocation.
 */
#ifndef NK_CONFIG_H
#define NK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define NK_CFG_MAX_SOURCES 32
#define NK_CFG_MAX_LISTEN  16
#define NK_CFG_MAX_ALLOW   32
#define NK_CFG_MAX_AEAD    4
#define NK_CFG_PATH        1024
#define NK_CFG_HOST        256

struct nk_cfg_addr {                /* a host:port; host is a name or an IP literal */
	char host[NK_CFG_HOST];
	uint16_t port;
};

struct nk_cfg_source {
	char name[64];                  /* from [source NAME] */
	char address[NK_CFG_HOST];      /* host name or IP of the NTS-KE server */
	uint16_t ke_port;               /* default 4460 */
	uint16_t ntp_port;              /* 0: as the KE server says (else 123) */
	uint16_t aead[NK_CFG_MAX_AEAD]; /* preference order; naead 0: tool default */
	size_t naead;
	char ca[NK_CFG_PATH];           /* "" : system trust store */
	char sni[NK_CFG_HOST];          /* "" : the address */
};

struct nk_cfg_proxy {
	int set;                        /* 1 when [proxy] names a server */
	struct nk_cfg_addr socks5;
	char user[256], pass[256];      /* "" : no username/password */
	int isolate;                    /* -1 auto (on for port 9050/9150), 0 off, 1 on */
	int direct;                     /* 1: the user allows NTP to go direct despite the proxy */
	struct nk_cfg_addr relay;       /* TCP relay (nts-serve) for NTP; host "" : none */
};

struct nk_cfg_ke {
	double timeout;                 /* seconds, default 10 */
	char state[NK_CFG_PATH];        /* state file, "" : none */
};

struct nk_cfg_poll {
	unsigned count;                 /* samples per source per run, default 4 */
	double spacing;                 /* seconds between them, default 2 */
	double interval;                /* 0: one round; else poll forever */
	double timeout;                 /* per exchange, default 5 */
};

struct nk_cfg_select {
	unsigned min_agree;             /* default 1; the write-up uses 3 */
	double max_distance;            /* seconds, default 1.5 */
};

struct nk_cfg_adjust {
	double step_threshold;          /* default 0.128 */
	double panic_single;            /* default 1000 (s); INFINITY for inf */
	double panic_startup_forward;   /* default INFINITY */
	double panic_startup_backward;  /* default 1800 */
	double panic_accumulated;       /* default INFINITY */
	char status_file[NK_CFG_PATH];
	char state_file[NK_CFG_PATH];
};

struct nk_cfg_serve {
	struct nk_cfg_addr listen[NK_CFG_MAX_LISTEN];
	size_t nlisten;
	struct nk_cfg_addr ke_listen;   /* host "" : none */
	struct nk_cfg_addr tcp_listen;  /* host "" : none */
	struct nk_cfg_addr relay_allow[NK_CFG_MAX_ALLOW];
	size_t nrelay_allow;
	char cert[NK_CFG_PATH], key[NK_CFG_PATH], cookie_keys[NK_CFG_PATH];
	char status_file[NK_CFG_PATH];
	char user[64];
};

struct nk_config {
	char path[NK_CFG_PATH];         /* file it came from, "" when none */
	struct nk_cfg_proxy proxy;
	struct nk_cfg_source source[NK_CFG_MAX_SOURCES];
	size_t nsources;
	struct nk_cfg_ke ke;
	struct nk_cfg_poll poll;
	struct nk_cfg_select select;
	struct nk_cfg_adjust adjust;
	struct nk_cfg_serve serve;
};

/* Fill every field with its documented default. */
void nk_cfg_defaults(struct nk_config *c);
/* Defaults, then the file. 0, or -1 with e = "FILE:LINE: what is wrong". */
int nk_cfg_load(struct nk_config *c, const char *path, struct nk_err *e);

/* Shared value parsers, also used for command-line flags (e says what was wrong). */
int nk_cfg_parse_duration(const char *s, int allow_inf, double *out, struct nk_err *e);
int nk_cfg_parse_addr(const char *s, uint16_t def_port, struct nk_cfg_addr *a, struct nk_err *e);
int nk_cfg_parse_aead_list(const char *s, uint16_t *aead, size_t *n, struct nk_err *e);

#endif
