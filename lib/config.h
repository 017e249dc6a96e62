/*
 * config: the one INI file all ntskit tools read (ntskit.conf(5)), via inih.
 *
 *   [proxy]          SOCKS5 proxy for nts-ke and nts-poll
 *   [source NAME]    one per time source
 *   [ke] [poll]      per-tool settings
 *   [select]         nts-select
 *   [adjust]         nts-adjust (panic thresholds with ntpd-rs semantics)
 *   [serve]          nts-serve
 *   [sync]           nts-sync (the script reads it; the tools check it)
 *
 * Keys are lowercase words joined by '-'. Unknown sections or keys, a key
 * given twice (except the repeatable serve.listen, ke-listen, tcp-listen,
 * relay-allow, allow and deny), a section given twice, and bad values are errors "FILE:LINE: what".
 * Durations are seconds (decimal) with optional suffix ms/s/m/h/d; the panic
 * thresholds also take "inf" (stored as INFINITY). Command-line flags
 * override what the file says: tools load the file first, then apply flags
 * (nk_cfg_set() applies one "key = value" the way the file would).
 * Fixed-size storage: no allocation.
 */
#ifndef NK_CONFIG_H
#define NK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "aessiv.h"
#include "util.h"

#define NK_CFG_MAX_SOURCES 32
/* [select] min-agree: up to the number of sources nts-select combines (its
 * input may name more sources than a configuration can) */
#define NK_CFG_MAX_AGREE 64
#define NK_CFG_MAX_LISTEN  16
#define NK_CFG_MAX_ALLOW   32
#define NK_CFG_MAX_KE_LISTEN  8         /* serve.ke-listen addresses */
#define NK_CFG_MAX_TCP_LISTEN 8         /* serve.tcp-listen addresses */
#define NK_CFG_MAX_ACL     64           /* serve.allow + serve.deny rules */
#define NK_CFG_MAX_AEAD    4
#define NK_CFG_PATH        1024
#define NK_CFG_HOST        256
#define NK_CFG_MAX_LINE    4096         /* longest line in the file */
#define NK_CFG_NAME        64           /* source name, with its NUL */

/* The default location tools read when no -c/--config is given. */
#define NK_CFG_DEFAULT_PATH "/etc/ntskit.conf"

#define NK_CFG_KE_PORT     4460         /* RFC 8915 §6 */
#define NK_CFG_NTP_PORT    123

/* nts-poll: paths (Tor circuits) per source, at most one per cookie of a
 * full jar (NK_SESSION_MAX_COOKIES) */
#define NK_CFG_MAX_CIRCUITS 8

/* The AEAD ids the file may name: NK_AEAD_* in aessiv.h. */

struct nk_cfg_addr {                /* a host:port; host is a name or an IP literal */
	char host[NK_CFG_HOST];
	uint16_t port;
};

struct nk_cfg_source {
	char name[NK_CFG_NAME];         /* from [source NAME]: A-Z a-z 0-9 . _ - */
	char address[NK_CFG_HOST];      /* host name or IP of the NTS-KE server; default NAME */
	uint16_t ke_port;               /* default 4460 */
	uint16_t ntp_port;              /* 0: as the KE server says (else 123) */
	uint16_t aead[NK_CFG_MAX_AEAD]; /* preference order; naead 0: tool default */
	size_t naead;
	char ca[NK_CFG_PATH];           /* "" : system trust store */
	char sni[NK_CFG_HOST];          /* "" : the address */
	unsigned circuits;              /* nts-poll: 1..NK_CFG_MAX_CIRCUITS; 0: as [poll] says */
	unsigned long line;             /* line of the [source NAME] header */
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
	double lock_wait;               /* seconds to wait for state.lock, >= 0 (default 120) */
	char cert_time[24];             /* "now" (default), "skip-window" or UNIX seconds */
};

struct nk_cfg_poll {
	unsigned count;                 /* samples per source per run, default 4 */
	double spacing;                 /* seconds between them, default 2 */
	double interval;                /* 0: one round; else poll forever */
	double timeout;                 /* per exchange, default 5 */
	double lock_wait;               /* seconds to wait for the state lock, >= 0 (default 120) */
	char state[NK_CFG_PATH];        /* --state: sessions from this file, not stdin; "" : none */
	unsigned circuits;              /* paths per source, 1..NK_CFG_MAX_CIRCUITS; 0: auto */
};

struct nk_cfg_select {
	unsigned min_agree;             /* default 1; the write-up uses 3 */
	double max_distance;            /* seconds, default 1.5 */
	double round_gap;               /* stream rounds: > 0, at most 1 d (default 10) */
	int stream;                     /* 1: one offset per round (--stream) */
};

/* Panic thresholds follow ntpd-rs [synchronization]: a step larger than the
 * threshold is refused (nts-adjust exits without touching the clock).
 * INFINITY: no limit. */
/* tzdata's list of leap seconds (Debian: package tzdata) */
#define NK_CFG_LEAP_LIST "/usr/share/zoneinfo/leap-seconds.list"

struct nk_cfg_adjust {
	double step_threshold;          /* default 0.128: larger offsets are stepped, smaller slewed */
	double panic_single;            /* default 1000 (s); 0: no step after startup; INFINITY for inf */
	double panic_startup_forward;   /* default INFINITY */
	double panic_startup_backward;  /* default 86400 (ntpd-rs) */
	double panic_accumulated;       /* default INFINITY (ntpd-rs "unset"; 0 in the file means the same) */
	char status_file[NK_CFG_PATH];
	char state_file[NK_CFG_PATH];
	char leap_list[NK_CFG_PATH];    /* leap-seconds.list; default NK_CFG_LEAP_LIST, "none": not used */
	int stream;                     /* 1: apply every offset record (--stream) */
	int dry_run;                    /* 1: decide and report only (--dry-run) */
};

/* One serve.allow / serve.deny rule: a CIDR block, or "all". */
struct nk_cfg_acl {
	uint8_t allow;                  /* 1: allow, 0: deny */
	uint8_t family;                 /* 4, 6, or 0 for "all" (both, prefix 0) */
	uint8_t prefix;                 /* 0..32 / 0..128 */
	uint8_t addr[16];               /* the network (4 or 16 octets), host bits zero */
};

/* Defaults of the [serve] numbers (nts-serve(8)). */
#define NK_CFG_SERVE_RATE      2.0      /* requests a second per client */
#define NK_CFG_SERVE_BURST     16
#define NK_CFG_SERVE_MAX_AGE   10800.0  /* status-max-age: 3 h */

struct nk_cfg_serve {
	struct nk_cfg_addr listen[NK_CFG_MAX_LISTEN];   /* IP literals; default port 123 */
	size_t nlisten;
	struct nk_cfg_addr ke_listen[NK_CFG_MAX_KE_LISTEN];     /* IP literals; default port 4460 */
	size_t nke_listen;              /* 0: no NTS-KE */
	struct nk_cfg_addr tcp_listen[NK_CFG_MAX_TCP_LISTEN];   /* IP literals; port required */
	size_t ntcp_listen;             /* 0: no TCP transport */
	struct nk_cfg_addr relay_allow[NK_CFG_MAX_ALLOW];   /* default port 123 */
	size_t nrelay_allow;
	char cert[NK_CFG_PATH], key[NK_CFG_PATH], cookie_keys[NK_CFG_PATH];
	char status_file[NK_CFG_PATH];
	char user[64];
	char ntp_server[NK_CFG_HOST];   /* NTS-KE Server record (RFC 8915 §4.1.7); "" : none */
	uint16_t ntp_port;              /* NTS-KE Port record; 0 : the first listen port */
	double rate;                    /* rate limit, 0.001..1e6 a second (default 2) */
	unsigned burst;                 /* its bucket, 1..65535 (default 16) */
	double status_max_age;          /* seconds, >= 0 (default 3 h) */
	double rotate;                  /* cookie key rotation, seconds; 0: never (default 1 d) */
	unsigned keep;                  /* cookie keys kept, 1..NK_COOKIE_MAX_KEYS (default 7) */
	struct nk_cfg_acl acl[NK_CFG_MAX_ACL];  /* allow/deny rules in file order */
	size_t nacl;
};

/* [sync]: nts-sync's record log for ntskit-plot (nts-sync(8)) */
#define NK_CFG_LOG_MAX      (1024 * 1024)       /* log-max default: 1 M */
#define NK_CFG_LOG_MAX_MIN  1024
#define NK_CFG_LOG_MAX_MAX  (1024ULL * 1024 * 1024)
#define NK_CFG_LOG_KEEP     3
#define NK_CFG_LOG_KEEP_MAX 100
struct nk_cfg_sync {
	char log[NK_CFG_PATH];          /* "" : no log */
	uint64_t log_max;               /* bytes: the log is rotated before it grows past this */
	unsigned log_keep;              /* rotated files kept: FILE.1 .. FILE.N */
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
	struct nk_cfg_sync sync;
};

/* Fill every field with its documented default. */
void nk_cfg_defaults(struct nk_config *c);
/* Defaults, then the file. 0, or -1 with e = "FILE:LINE: what is wrong"
 * (or "FILE: why" when it cannot be opened or read). Not thread-safe: inih's
 * options are process globals, set for the call and restored after. */
int nk_cfg_load(struct nk_config *c, const char *path, struct nk_err *e);

/* Apply one setting as if it were in the file, for command-line flags:
 * section "source NAME" adds the source when it is new. Repeatable keys add.
 * 0, or -1 with e = "[section] key: what is wrong". */
int nk_cfg_set(struct nk_config *c, const char *section, const char *key,
	const char *value, struct nk_err *e);

/* Whether to use Tor stream isolation (a fresh SOCKS5 user/password per
 * source and run): isolate = yes -> 1, no -> 0, auto -> 1 when a proxy is set
 * on port 9050 or 9150 (Tor's SOCKS ports) and no user is configured. */
int nk_cfg_isolate(const struct nk_cfg_proxy *p);

/* The source called name, or NULL. */
struct nk_cfg_source *nk_cfg_source_find(struct nk_config *c, const char *name);

/* Shared value parsers, also used for command-line flags (e says what was wrong).
 * duration: DIGITS[.DIGITS][ms|s|m|h|d], or "inf" when allow_inf; >= 0, finite
 * unless inf. addr: HOST[:PORT] / [V6][:PORT] (def_port 0: port required);
 * HOST a name (letters, digits, '-', '.', '_') or a valid IPv4/IPv6 literal.
 * aead list: comma-separated ids or names (AEAD_AES_SIV_CMAC_256 ...), no
 * repeats, at most NK_CFG_MAX_AEAD. */
int nk_cfg_parse_duration(const char *s, int allow_inf, double *out, struct nk_err *e);
int nk_cfg_parse_addr(const char *s, uint16_t def_port, struct nk_cfg_addr *a, struct nk_err *e);
int nk_cfg_parse_aead_list(const char *s, uint16_t *aead, size_t *n, struct nk_err *e);
/* An allow/deny value: "all", or ADDR[/PREFIX] (IPv4 or IPv6, no brackets;
 * without /PREFIX the one address); host bits beyond the prefix must be 0. */
int nk_cfg_parse_cidr(const char *s, struct nk_cfg_acl *r, struct nk_err *e);
/* yes/no, true/false, on/off, 1/0 -> 1/0; -1 otherwise. */
int nk_cfg_parse_bool(const char *s);
/* Name of an AEAD id ("AEAD_AES_SIV_CMAC_256"), or NULL when unknown. */
const char *nk_cfg_aead_name(uint16_t id);

#endif
