/*
 * nts-serve: NTP and NTS-protected NTP for the LAN and the world, and a
 * TCP transport/relay for clients behind Tor. See nts-serve(8).
 *
 * One process, one event loop (ppoll) over every UDP socket, the TCP
 * listener and its connections; sockets are bound first, then privileges
 * are dropped (--user), then nothing but answering happens.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "acl.h"
#include "config.h"
#include "cookie.h"
#include "exitcode.h"
#include "ke.h"
#include "kesrv.h"
#include "ntpserve.h"
#include "ratelimit.h"
#include "record.h"
#include "serve.h"
#include "util.h"

/* tool-specific exit codes (nts-serve(8), EXIT STATUS) */
#define SERVE_EXIT_BIND  3      /* a socket could not be bound */
#define SERVE_EXIT_PRIV  4      /* dropping privileges failed */
#define SERVE_EXIT_CERT  5      /* --cert/--key unreadable, malformed, or not a pair */
#define SERVE_EXIT_KEYS  6      /* cookie key file unreadable, malformed or unwritable */

static const char usage[] =
	"usage: nts-serve [--config FILE] [--listen ADDR:PORT]... [--ke-listen ADDR:PORT]...\n"
	"                 [--cert FULLCHAIN.pem --key PRIVKEY.pem] [--cookie-keys FILE]\n"
	"                 [--tcp-listen ADDR:PORT]... [--relay-allow HOST:PORT]...\n"
	"                 [--allow CIDR|all]... [--deny CIDR|all]...\n"
	"                 [--status FILE] [--user USER] [--explain]\n"
	"                 [--rate N] [--burst N] [--status-max-age S] [--rotate S] [--keep N]\n"
	"                 [--ntp-server HOST] [--ntp-port PORT]\n"
	"  --version             print the version and exit\n"
	"Serves NTP and NTS-protected NTP on each --listen address (default\n"
	"0.0.0.0:123 and [::]:123), NTP over TCP frames on each --tcp-listen, relaying\n"
	"to --relay-allow destinations, NTS-KE (TLS 1.3, ALPN ntske/1) on each\n"
	"--ke-listen with --cert/--key; to the clients --allow/--deny let in (the\n"
	"longest matching prefix decides, the later of equals). Every option is also\n"
	"a [serve] key of the config file. Logs `serve` records on stderr; SIGUSR2\n"
	"logs the counters.\n"
	"Exit: 0 stopped by SIGTERM/SIGINT, 3 cannot bind, 4 privilege drop failed,\n"
	"5 certificate or key error, 6 cookie key file error, 64 usage, 78 bad config.\n";

/* ---- log records --------------------------------------------------------- */

static struct nk_rec_writer logw;
static unsigned log_sec_count;
static uint64_t log_suppressed;
static time_t log_sec;

struct nk_rec_writer *nk_serve_log_begin(const char *event)
{
	struct timespec ts;

	nk_clock_real(&ts);
	nk_recw_begin(&logw, "serve");
	nk_recw_double(&logw, "t", (double)ts.tv_sec + ts.tv_nsec * 1e-9, 6, 0);
	nk_recw_str(&logw, "event", event);
	return &logw;
}

void nk_serve_log_end(struct nk_rec_writer *w)
{
	if (log_suppressed > 0 && strcmp(w->keys[1], "event") == 0) {
		nk_recw_u64(w, "suppressed", log_suppressed);
		log_suppressed = 0;
	}
	if (nk_recw_end(w, stderr) < 0)
		fprintf(stderr, "# nts-serve: log record refused: %s\n", w->why ? w->why : "?");
}

int nk_serve_log_client_ok(void)
{
	time_t now = time(NULL);

	if (now != log_sec) {
		log_sec = now;
		log_sec_count = 0;
	}
	if (log_sec_count >= NK_SERVE_LOG_BURST) {
		log_suppressed++;
		return 0;
	}
	log_sec_count++;
	return 1;
}

int nk_serve_fmt_addr(char *out, size_t cap, const struct sockaddr *sa)
{
	char h[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;

		inet_ntop(AF_INET, &s->sin_addr, h, sizeof h);
		return nk_hostport_format(out, cap, h, ntohs(s->sin_port));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, h, sizeof h);
		return nk_hostport_format(out, cap, h, ntohs(s->sin6_port));
	}
	return snprintf(out, cap, "unknown");
}

void nk_serve_log_addr(struct nk_rec_writer *w, const char *key, const struct sockaddr *sa)
{
	char buf[80];

	if (nk_serve_fmt_addr(buf, sizeof buf, sa) > 0)
		nk_recw_str(w, key, buf);
}

static void log_error(const char *event, const char *msg)
{
	struct nk_rec_writer *w = nk_serve_log_begin(event);
	char m[256];
	size_t i;

	/* values carry no spaces: the message goes in with '_' for them */
	for (i = 0; msg[i] && i < sizeof m - 1; i++)
		m[i] = (msg[i] == ' ' || (unsigned char)msg[i] < 0x20) ? '_' : msg[i];
	m[i] = 0;
	nk_recw_str(w, "error", i ? m : "-");
	nk_serve_log_end(w);
}

/* ---- state ------------------------------------------------------------- */

struct udp_sock {
	int fd;
	struct sockaddr_storage addr;
	socklen_t len;
};

static struct nk_config cfg;
static struct nk_cookie_keys keys;
static struct nk_rl rl;
static struct nk_tcp tcp;
static struct nk_kesrv kesrv;
static struct nk_serve_ke_conf ke_conf;
static struct nk_serve_ntp ntp;
static struct nk_acl acl;
static struct udp_sock udp[NK_CFG_MAX_LISTEN];
static struct sockaddr_storage listen_ss[NK_CFG_MAX_LISTEN];
static socklen_t listen_len[NK_CFG_MAX_LISTEN];
static size_t nudp;
static int explain;
static double rotate_interval;
static struct timespec keys_mtime, status_mtime;
static uint64_t udp_in, udp_out, udp_req, udp_ans, udp_denied;

static volatile sig_atomic_t sig_term, sig_hup, sig_usr1, sig_usr2;

static void on_signal(int s)
{
	if (s == SIGHUP)
		sig_hup = 1;
	else if (s == SIGUSR1)
		sig_usr1 = 1;
	else if (s == SIGUSR2)
		sig_usr2 = 1;
	else
		sig_term = 1;
}

static int addr_to_sockaddr(const struct nk_cfg_addr *a, struct sockaddr_storage *ss,
	socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, a->host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		*len = sizeof *s4;
		return 0;
	}
	if (inet_pton(AF_INET6, a->host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		*len = sizeof *s6;
		return 0;
	}
	return -1;
}

static int bind_sock(const struct nk_cfg_addr *a, int type, struct sockaddr_storage *ss,
	socklen_t *len, struct nk_err *e)
{
	int fd, one = 1;

	if (addr_to_sockaddr(a, ss, len) < 0) {
		nk_errf(e, "%s:%u: not an IP address (listen addresses must be literals)",
			a->host, (unsigned)a->port);
		return -1;
	}
	fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		nk_errf(e, "socket: %s", strerror(errno));
		return -1;
	}
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (type == SOCK_DGRAM) {
		int rcvbuf = 1 << 20;   /* absorb bursts (bounded: 1 MiB) */

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
		/* kernel receive timestamps; on a wildcard socket also the
		 * destination address of each datagram, so that its answer
		 * leaves from that address (a socket bound to one address
		 * answers from it anyway, and skips that per-datagram work) */
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
		if (ss->ss_family == AF_INET &&
		    ((struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY))
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
		else if (ss->ss_family == AF_INET6 &&
		    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)ss)->sin6_addr))
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
	}
	if (bind(fd, (struct sockaddr *)ss, *len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		nk_errf(e, "bind %s %s:%u: %s", type == SOCK_STREAM ? "tcp" : "udp",
			a->host, (unsigned)a->port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* A listening TCP socket on each of the n addresses a[] into fd[]. -1 (said
 * on stderr) when one cannot be bound. */
static int listen_tcp(const struct nk_cfg_addr *a, size_t n, int *fd)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct nk_err e;

	for (size_t i = 0; i < n; i++) {
		fd[i] = bind_sock(&a[i], SOCK_STREAM, &ss, &sl, &e);
		if (fd[i] < 0) {
			fprintf(stderr, "nts-serve: %s\n", e.msg);
			return -1;
		}
	}
	return 0;
}

/* ---- privileges ---------------------------------------------------------- */

static int drop_privileges(const char *user, struct nk_err *e)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	struct passwd *pw;
	gid_t gid;
	uid_t uid;

	pw = getpwnam(user);
	if (pw == NULL) {
		nk_errf(e, "--user %s: no such user", user);
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0) {
		nk_errf(e, "--user %s: refusing to run as root", user);
		return -1;
	}
	/* the capability bounding set first (needs CAP_SETPCAP, still ours) */
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		nk_errf(e, "--user %s: %s", user, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		nk_errf(e, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	/* after setuid to a non-root user the kernel cleared the permitted
	 * and effective sets; clear them explicitly anyway, then verify */
	memset(data, 0, sizeof data);
	(void)syscall(SYS_capset, &hdr, data);
	if (syscall(SYS_capget, &hdr, data) < 0 || data[0].effective || data[0].permitted ||
	    data[1].effective || data[1].permitted) {
		nk_errf(e, "capabilities still held after the drop");
		return -1;
	}
	if (setuid(0) == 0 || getuid() != uid || geteuid() != uid || getgid() != gid) {
		nk_errf(e, "privilege drop did not stick");
		return -1;
	}
	return 0;
}

/* ---- cookie keys ------------------------------------------------------- */

static int mtime_of(const char *path, struct timespec *ts)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	*ts = st.st_mtim;
	return 0;
}

static void log_rotation(const char *how)
{
	struct nk_rec_writer *w = nk_serve_log_begin("key-rotation");
	char id[9];

	snprintf(id, sizeof id, "%08x", keys.n ? (unsigned)keys.k[0].id : 0u);
	nk_recw_str(w, "how", how);
	nk_recw_str(w, "key-id", id);
	nk_recw_u64(w, "keys", keys.n);
	nk_serve_log_end(w);
}

/* Rotate: re-read the shared file first (another server may have rotated
 * already), then add a key only when the newest is still due. */
static int rotate_keys(int force, const char *how)
{
	struct nk_err e;
	time_t now = time(NULL);
	const char *path = cfg.serve.cookie_keys;

	if (path[0]) {
		static struct nk_cookie_keys fresh;

		nk_cookie_keys_init(&fresh, keys.keep);
		if (nk_cookie_keys_load(&fresh, path, &e) > 0) {
			if (!force && fresh.k[0].created + rotate_interval > (double)now &&
			    (fresh.k[0].id != keys.k[0].id || fresh.n != keys.n)) {
				nk_cookie_keys_wipe(&keys);
				keys = fresh;
				nk_cookie_keys_wipe(&fresh);
				mtime_of(path, &keys_mtime);
				log_rotation("adopted-from-file");
				return 0;
			}
		}
		nk_cookie_keys_wipe(&fresh);
	}
	if (nk_cookie_keys_rotate(&keys, now, &e) < 0) {
		log_error("key-rotation", e.msg);
		return -1;
	}
	if (path[0]) {
		if (nk_cookie_keys_save(&keys, path, &e) < 0) {
			/* after the privilege drop the file's directory may not
			 * be writable: the key still works until a restart */
			log_error("key-rotation", e.msg);
		} else {
			mtime_of(path, &keys_mtime);
		}
	}
	log_rotation(how);
	return 0;
}

/* The shared key file changed (another server rotated): take it. */
static void reload_keys(int forced)
{
	struct timespec m;
	struct nk_err e;
	static struct nk_cookie_keys fresh;
	const char *path = cfg.serve.cookie_keys;

	if (!path[0] || mtime_of(path, &m) < 0)
		return;
	if (!forced && m.tv_sec == keys_mtime.tv_sec && m.tv_nsec == keys_mtime.tv_nsec)
		return;
	keys_mtime = m;
	nk_cookie_keys_init(&fresh, keys.keep);
	if (nk_cookie_keys_load(&fresh, path, &e) <= 0) {
		log_error("reload", e.msg);
		nk_cookie_keys_wipe(&fresh);
		return;
	}
	nk_cookie_keys_wipe(&keys);
	keys = fresh;
	nk_cookie_keys_wipe(&fresh);
	log_rotation("reloaded-from-file");
}

static void reload_status(int forced)
{
	struct timespec m = { 0, 0 };
	struct nk_err e;
	const char *path = cfg.serve.status_file;
	int rc, had = ntp.status.have;

	if (!path[0])
		return;
	if (mtime_of(path, &m) < 0) {
		if (had || forced) {
			memset(&ntp.status, 0, sizeof ntp.status);
			status_mtime = m;
			if (had)
				log_error("reload", "status file gone: answering unsynchronised");
		}
		return;
	}
	if (!forced && m.tv_sec == status_mtime.tv_sec && m.tv_nsec == status_mtime.tv_nsec)
		return;
	status_mtime = m;
	rc = nk_serve_status_load(path, &ntp.status, &e);
	if (rc < 0) {
		log_error("reload", e.msg);
	} else {
		struct nk_rec_writer *w = nk_serve_log_begin("reload");

		nk_recw_str(w, "what", "status");
		nk_recw_u64(w, "stratum", ntp.status.stratum);
		nk_recw_u64(w, "leap", ntp.status.leap);
		if (ntp.status.refid_text[0])
			nk_recw_str(w, "refid", ntp.status.refid_text);
		nk_serve_log_end(w);
	}
}

/* ---- UDP ----------------------------------------------------------------- */

/*
 * One UDP datagram: its buffer, where it came from, its kernel receive
 * time, and the control message that makes the answer leave from the
 * address the request was sent to.
 */
#define UDP_BATCH 16
struct udp_slot {
	struct sockaddr_storage from;
	struct iovec iov;
	union { char buf[256]; struct cmsghdr align; } ctl, rctl;
	uint8_t in[2048], out[2048];
};

/* Read a request's control messages: its kernel receive time into *rx,
 * and, on wildcard sockets, the answer's control message in s->rctl
 * (IP_PKTINFO / IPV6_PKTINFO naming the request's destination address as
 * the source). Returns the length of that message, 0 when there is none. */
static size_t read_ctl(struct msghdr *mh, struct udp_slot *s, struct timespec *rx)
{
	struct cmsghdr *cm;
	size_t rctl_len = 0;

	memset(s->rctl.buf, 0, sizeof s->rctl.buf);
	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(rx, CMSG_DATA(cm), sizeof *rx);
		} else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct cmsghdr *o = (struct cmsghdr *)s->rctl.buf;
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof pi);
			pi.ipi_ifindex = 0;
			pi.ipi_spec_dst = pi.ipi_addr;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(o), &pi, sizeof pi);
			rctl_len = CMSG_SPACE(sizeof pi);
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct cmsghdr *o = (struct cmsghdr *)s->rctl.buf;
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof pi);
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(o), &pi, sizeof pi);
			rctl_len = CMSG_SPACE(sizeof pi);
		}
	}
	return rctl_len;
}

/* The answer to one datagram in s->out (0: none). */
static size_t udp_answer(struct udp_slot *s, size_t r, const struct timespec *rx, uint64_t now_ms)
{
	enum nk_serve_kind kind;
	enum nk_rl_verdict v;
	size_t n;

	if (explain) {
		char a[80];

		nk_serve_fmt_addr(a, sizeof a, (struct sockaddr *)&s->from);
		fprintf(stderr, "nts-serve: UDP request from %s, %zu octets\n", a, r);
		nk_ntp_explain(stderr, "nts-serve: request: ", s->in, r, rx->tv_sec);
	}
	if (r < NK_NTP_HDR_LEN || ((s->in[0] & 7) != NK_NTP_MODE_CLIENT))
		return 0;       /* not a client request: not even rate-limited */
	if (!nk_acl_allowed(&acl, (struct sockaddr *)&s->from)) {
		udp_denied++;   /* refused by allow/deny: no answer, no rate-limit entry */
		nk_serve_log_denied("udp", (struct sockaddr *)&s->from);
		return 0;
	}
	v = nk_rl_check(&rl, (struct sockaddr *)&s->from, now_ms);
	if (v == NK_RL_DROP)
		return 0;
	if (v == NK_RL_KOD) {
		n = nk_serve_ntp_kod(s->in, r, "RATE", s->out, sizeof s->out);
		if (nk_serve_log_client_ok()) {
			struct nk_rec_writer *w = nk_serve_log_begin("refused");

			nk_recw_str(w, "transport", "udp");
			nk_serve_log_addr(w, "client", (struct sockaddr *)&s->from);
			nk_recw_str(w, "reason", "rate-limit");
			nk_serve_log_end(w);
		}
	} else {
		n = nk_serve_ntp_answer(&ntp, s->in, r, rx, s->out, sizeof s->out, &kind);
	}
	if (n == 0 || n > r)
		return 0;       /* never amplify */
	if (explain)
		nk_ntp_explain(stderr, "nts-serve: answer: ", s->out, n, rx->tv_sec);
	return n;
}

/*
 * Serve what is waiting on one UDP socket: up to UDP_BATCH datagrams per
 * recvmmsg() call, each answered as soon as it is read and sent with its
 * own sendmsg(), so that its transmit timestamp (taken while building the
 * answer) is at most one answer's work ahead of the datagram leaving.
 * Batching the receive side saves a system call per datagram under load
 * and costs nothing in accuracy: receive times are the kernel's.
 */
static void udp_service(struct udp_sock *u, uint64_t now_ms)
{
	static struct udp_slot slot[UDP_BATCH];
	static struct mmsghdr mm[UDP_BATCH];

	for (int rounds = 0; rounds < 8; rounds++) {
		int got;

		for (int i = 0; i < UDP_BATCH; i++) {
			struct msghdr *mh = &mm[i].msg_hdr;

			slot[i].iov.iov_base = slot[i].in;
			slot[i].iov.iov_len = sizeof slot[i].in;
			memset(mh, 0, sizeof *mh);
			mh->msg_name = &slot[i].from;
			mh->msg_namelen = sizeof slot[i].from;
			mh->msg_iov = &slot[i].iov;
			mh->msg_iovlen = 1;
			mh->msg_control = slot[i].ctl.buf;
			mh->msg_controllen = sizeof slot[i].ctl.buf;
		}
		got = recvmmsg(u->fd, mm, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0)
			return;
		for (int i = 0; i < got; i++) {
			struct udp_slot *s = &slot[i];
			struct msghdr *mh = &mm[i].msg_hdr;
			struct timespec rx = { 0, 0 };
			size_t r = mm[i].msg_len, n, rctl_len;

			udp_in += r;
			udp_req++;
			if (mh->msg_flags & MSG_TRUNC)
				continue;       /* longer than any NTP packet we answer */
			rctl_len = read_ctl(mh, s, &rx);
			if (!nk_test_restamp(&rx) && rx.tv_sec == 0)
				nk_clock_real(&rx);
			n = udp_answer(s, r, &rx, now_ms);
			if (n == 0)
				continue;
			s->iov.iov_base = s->out;
			s->iov.iov_len = n;
			mh->msg_control = rctl_len ? s->rctl.buf : NULL;
			mh->msg_controllen = rctl_len;
			mh->msg_flags = 0;
			if (sendmsg(u->fd, mh, MSG_DONTWAIT) == (ssize_t)n) {
				udp_out += n;
				udp_ans++;
			}
		}
		if (got < UDP_BATCH)
			return;
	}
}

/* ---- main ------------------------------------------------------------------ */

/* The counters: in the stop record, and in a stats record on SIGUSR2. */
static void log_counters(const char *event, int with_ke)
{
	struct nk_rec_writer *w = nk_serve_log_begin(event);

	nk_recw_u64(w, "udp-requests", udp_req);
	nk_recw_u64(w, "udp-answers", udp_ans);
	nk_recw_u64(w, "udp-bytes-in", udp_in);
	nk_recw_u64(w, "udp-bytes-out", udp_out);
	nk_recw_u64(w, "ntp", ntp.count[NK_SERVE_PLAIN]);
	nk_recw_u64(w, "nts", ntp.count[NK_SERVE_NTS]);
	nk_recw_u64(w, "ntsn", ntp.count[NK_SERVE_NTSN]);
	nk_recw_u64(w, "bad-auth", ntp.count[NK_SERVE_BADAUTH]);
	nk_recw_u64(w, "bad-nts", ntp.count[NK_SERVE_BADNTS]);
	nk_recw_u64(w, "rate-kod", rl.kods);
	nk_recw_u64(w, "rate-drop", rl.dropped);
	nk_recw_u64(w, "rl-evictions", rl.evictions);
	nk_recw_u64(w, "tcp-bytes-in", tcp.bytes_in);
	nk_recw_u64(w, "tcp-bytes-out", tcp.bytes_out);
	nk_recw_u64(w, "tcp-local", tcp.frames_local);
	nk_recw_u64(w, "tcp-relayed", tcp.frames_relayed);
	nk_recw_u64(w, "tcp-refused", tcp.refused);
	nk_recw_u64(w, "tcp-malformed", tcp.malformed);
	nk_recw_u64(w, "tcp-evicted", tcp.evicted);
	if (with_ke) {
		nk_recw_u64(w, "ke-accepted", kesrv.accepted);
		nk_recw_u64(w, "ke-answered", kesrv.answered);
		nk_recw_u64(w, "ke-errors", kesrv.errors);
		nk_recw_u64(w, "ke-no-aead", kesrv.no_aead);
		nk_recw_u64(w, "ke-tls-failed", kesrv.tls_failed);
		nk_recw_u64(w, "ke-timeouts", kesrv.timeouts);
		nk_recw_u64(w, "ke-evicted", kesrv.evicted);
		nk_recw_u64(w, "ke-reloads", kesrv.reloads);
	}
	/* clients refused by allow/deny, per transport */
	nk_recw_u64(w, "udp-denied", udp_denied);
	nk_recw_u64(w, "tcp-denied", tcp.denied);
	if (with_ke)
		nk_recw_u64(w, "ke-denied", kesrv.denied);
	nk_serve_log_end(w);
}

/* Warn when the NTS-KE certificate in use is expired, not yet valid, or
 * expires within NK_SERVE_CERT_WARN_DAYS (at start and after each SIGHUP). */
#define NK_SERVE_CERT_WARN_DAYS 14
static void check_cert_window(const struct nk_ke_cred *kc)
{
	time_t now = time(NULL);
	const char *problem = NULL;
	struct nk_rec_writer *w;

	if (kc->not_after == 0 && kc->not_before == 0)
		problem = "validity-unknown";
	else if ((int64_t)now < kc->not_before)
		problem = "not-yet-valid";
	else if ((int64_t)now > kc->not_after)
		problem = "expired";
	else if (kc->not_after - (int64_t)now < (int64_t)NK_SERVE_CERT_WARN_DAYS * 86400)
		problem = "expires-soon";
	if (problem == NULL)
		return;
	w = nk_serve_log_begin("warning");
	nk_recw_str(w, "what", "cert");
	nk_recw_str(w, "problem", problem);
	nk_recw_i64(w, "not-before", kc->not_before);
	nk_recw_i64(w, "not-after", kc->not_after);
	nk_recw_i64(w, "seconds-left", kc->not_after - (int64_t)now);
	nk_recw_str(w, "cert", cfg.serve.cert);
	nk_serve_log_end(w);
}

/* Name the k-th address of a list: key, key2, key3, ... */
static void log_list(struct nk_rec_writer *w, const char *key, size_t k, const struct sockaddr *sa)
{
	char name[32], buf[80];

	if (k == 0)
		snprintf(name, sizeof name, "%s", key);
	else
		snprintf(name, sizeof name, "%s%zu", key, k + 1);
	nk_serve_fmt_addr(buf, sizeof buf, sa);
	nk_recw_str(w, name, buf);
}

int main(int argc, char **argv)
{
	static struct pollfd pfd[NK_CFG_MAX_LISTEN + NK_CFG_MAX_TCP_LISTEN + 3 * NK_TCP_MAX_CONN +
		NK_KE_MAX_LISTEN + NK_KE_MAX_CONN];
	const char *config = NULL;
	int tcp_fd[NK_CFG_MAX_TCP_LISTEN], ke_fd[NK_CFG_MAX_KE_LISTEN];
	size_t nke = 0;
	struct nk_err e;
	struct sigaction sa;
	sigset_t block, empty;
	time_t last_tick = 0;
	int rc;
	/* before anything is opened: a closed stdin/stdout/stderr must not
	 * become a state file, a lock or a socket */
	if (nk_stdfds_open() < 0)
		return NK_EXIT_SOFTWARE;


	/* the config file first: flags override it */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[i + 1];
	if (config == NULL && access(NK_CFG_DEFAULT_PATH, R_OK) == 0)
		config = NK_CFG_DEFAULT_PATH;
	if (config != NULL) {
		if (nk_cfg_load(&cfg, config, &e) < 0) {
			fprintf(stderr, "nts-serve: %s\n", e.msg);
			return NK_EXIT_CONFIG;
		}
	} else {
		nk_cfg_defaults(&cfg);
	}
	{
		/* every flag is a [serve] key, checked by the same code as the
		 * file (lib/config.c): one range per setting */
		static const char *const keys[] = {
			"listen", "ke-listen", "cert", "key", "cookie-keys", "tcp-listen", "relay-allow",
			"status", "user", "rate", "burst", "status-max-age", "rotate", "keep",
			"ntp-server", "ntp-port", "allow", "deny",
		};
		int seen_listen = 0, seen_ke = 0, seen_tcp = 0, seen_relay = 0, seen_acl = 0;

		for (int i = 1; i < argc; i++) {
			const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL, *key;
			size_t k;

			if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
				fputs(usage, stdout);
				return NK_EXIT_OK;
			}
			if (strcmp(a, "--version") == 0)
				return nk_print_version("nts-serve");
			if (strcmp(a, "--explain") == 0) {
				explain = 1;
				continue;
			}
			if (v == NULL) {
				fprintf(stderr, "nts-serve: %s: unknown option or missing value\n%s", a, usage);
				return NK_EXIT_USAGE;
			}
			i++;
			if (strcmp(a, "--config") == 0)
				continue;
			for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
				if (strncmp(a, "--", 2) == 0 && strcmp(a + 2, keys[k]) == 0)
					break;
			if (k == sizeof keys / sizeof keys[0]) {
				fprintf(stderr, "nts-serve: %s: unknown option\n%s", a, usage);
				return NK_EXIT_USAGE;
			}
			key = keys[k];
			/* repeatable flags replace the file's list rather than add
			 * to it (--allow and --deny together replace its rules) */
			if (strcmp(key, "listen") == 0 && !seen_listen++)
				cfg.serve.nlisten = 0;
			if (strcmp(key, "ke-listen") == 0 && !seen_ke++)
				cfg.serve.nke_listen = 0;
			if (strcmp(key, "tcp-listen") == 0 && !seen_tcp++)
				cfg.serve.ntcp_listen = 0;
			if (strcmp(key, "relay-allow") == 0 && !seen_relay++)
				cfg.serve.nrelay_allow = 0;
			if ((strcmp(key, "allow") == 0 || strcmp(key, "deny") == 0) && !seen_acl++)
				cfg.serve.nacl = 0;
			if (nk_cfg_set(&cfg, "serve", key, v, &e) < 0) {
				fprintf(stderr, "nts-serve: --%s: %s\n", key, e.msg);
				return NK_EXIT_USAGE;
			}
		}
	}
	if (cfg.serve.nke_listen > 0 && (!cfg.serve.cert[0] || !cfg.serve.key[0])) {
		fprintf(stderr, "nts-serve: --ke-listen %s:%u needs --cert FULLCHAIN.pem and --key PRIVKEY.pem\n",
			cfg.serve.ke_listen[0].host, (unsigned)cfg.serve.ke_listen[0].port);
		return NK_EXIT_USAGE;
	}
	if (cfg.serve.nlisten == 0 && cfg.serve.ntcp_listen == 0) {
		nk_cfg_set(&cfg, "serve", "listen", "0.0.0.0:123", &e);
		nk_cfg_set(&cfg, "serve", "listen", "[::]:123", &e);
	}
	rotate_interval = cfg.serve.rotate;
	nk_acl_init(&acl, cfg.serve.acl, cfg.serve.nacl);

	/* cookie keys: read (and created or rotated when due) before the drop */
	nk_cookie_keys_init(&keys, cfg.serve.keep);
	if (cfg.serve.cookie_keys[0]) {
		rc = nk_cookie_keys_load(&keys, cfg.serve.cookie_keys, &e);
		if (rc < 0) {
			fprintf(stderr, "nts-serve: cookie keys: %s\n", e.msg);
			return SERVE_EXIT_KEYS;
		}
		if (rc == 0 || (rotate_interval > 0 && keys.k[0].created + rotate_interval <= (double)time(NULL))) {
			if (nk_cookie_keys_rotate(&keys, time(NULL), &e) < 0 ||
			    nk_cookie_keys_save(&keys, cfg.serve.cookie_keys, &e) < 0) {
				fprintf(stderr, "nts-serve: cookie keys: %s\n", e.msg);
				return SERVE_EXIT_KEYS;
			}
		}
		mtime_of(cfg.serve.cookie_keys, &keys_mtime);
	} else if (nk_cookie_keys_rotate(&keys, time(NULL), &e) < 0) {
		fprintf(stderr, "nts-serve: cookie keys: %s\n", e.msg);
		return SERVE_EXIT_KEYS;
	}
	if (nk_rl_init(&rl, cfg.serve.rate, cfg.serve.burst) < 0) {
		fprintf(stderr, "nts-serve: rate limiter: bad values or CSPRNG failure\n");
		return NK_EXIT_SOFTWARE;
	}
	ntp.keys = &keys;
	ntp.max_age = cfg.serve.status_max_age;
	ntp.explain = explain ? stderr : NULL;

	/* bind every socket first */
	for (size_t i = 0; i < cfg.serve.nlisten; i++) {
		int fd = bind_sock(&cfg.serve.listen[i], SOCK_DGRAM, &udp[nudp].addr, &udp[nudp].len, &e);

		if (fd < 0) {
			fprintf(stderr, "nts-serve: %s\n", e.msg);
			return SERVE_EXIT_BIND;
		}
		udp[nudp].fd = fd;
		listen_ss[nudp] = udp[nudp].addr;
		listen_len[nudp] = udp[nudp].len;
		nudp++;
	}
	if (listen_tcp(cfg.serve.tcp_listen, cfg.serve.ntcp_listen, tcp_fd) < 0)
		return SERVE_EXIT_BIND;
	tcp.listen = listen_ss;
	tcp.listenlen = listen_len;
	tcp.nlisten = nudp;
	tcp.ntp = &ntp;
	tcp.acl = &acl;
	if (nk_tcp_init(&tcp, tcp_fd, cfg.serve.ntcp_listen, cfg.serve.relay_allow, cfg.serve.nrelay_allow, &e) < 0) {
		fprintf(stderr, "nts-serve: %s\n", e.msg);
		return NK_EXIT_CONFIG;
	}
	if (listen_tcp(cfg.serve.ke_listen, cfg.serve.nke_listen, ke_fd) < 0)
		return SERVE_EXIT_BIND;
	nke = cfg.serve.nke_listen;
	/* NTS-KE (RFC 8915 §4): Port record when the NTP port is not 123
	 * (§4.1.8), Server record only when configured (§4.1.7) */
	ke_conf.keys = &keys;
	ke_conf.explain = explain ? stderr : NULL;
	if (cfg.serve.ntp_server[0])
		ke_conf.ntp_server = cfg.serve.ntp_server;
	/* TCP frames that name this server so are answered here, not relayed */
	tcp.own_name = ke_conf.ntp_server;
	if (cfg.serve.ntp_port > 0)
		ke_conf.ntp_port = cfg.serve.ntp_port;
	else if (nudp > 0 && cfg.serve.listen[0].port != 123)
		ke_conf.ntp_port = cfg.serve.listen[0].port;
	if (ke_conf.ntp_port == 123)
		ke_conf.ntp_port = 0;
	/* certificates: read before the privilege drop */
	if (nk_kesrv_init(&kesrv, nke ? ke_fd[0] : -1, cfg.serve.cert, cfg.serve.key, &ke_conf,
		explain, &e) < 0) {
		fprintf(stderr, "nts-serve: %s\n", e.msg);
		return SERVE_EXIT_CERT;
	}
	for (size_t i = 1; i < nke; i++)
		if (nk_kesrv_listen_add(&kesrv, ke_fd[i], &e) < 0) {
			fprintf(stderr, "nts-serve: %s\n", e.msg);
			return NK_EXIT_SOFTWARE;
		}
	kesrv.acl = &acl;
	reload_status(1);

	/* then drop privileges */
	if (cfg.serve.user[0]) {
		if (drop_privileges(cfg.serve.user, &e) < 0) {
			fprintf(stderr, "nts-serve: %s\n", e.msg);
			return SERVE_EXIT_PRIV;
		}
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);

	{
		struct nk_rec_writer *w = nk_serve_log_begin("start");
		char id[9];
		size_t nallow = 0;

		/* every address: listen, listen2, ..., tcp-listen, tcp-listen2, ... */
		for (size_t i = 0; i < nudp; i++)
			log_list(w, "listen", i, (struct sockaddr *)&udp[i].addr);
		for (size_t i = 0; i < tcp.nlfd; i++)
			log_list(w, "tcp-listen", i, (struct sockaddr *)&tcp.laddr[i]);
		if (nke > 0) {
			const struct nk_ke_cred *kc = nk_kesrv_current(&kesrv);

			for (size_t i = 0; i < kesrv.nlfd; i++)
				log_list(w, "ke-listen", i, (struct sockaddr *)&kesrv.laddr[i]);
			nk_recw_str(w, "cert-key", kc->c.key.key_type == BR_KEYTYPE_RSA ? "rsa" : "ec");
			nk_recw_u64(w, "chain", kc->c.chain_len);
			nk_recw_i64(w, "not-before", kc->not_before);
			nk_recw_i64(w, "not-after", kc->not_after);
			nk_recw_u64(w, "ke-slots", NK_KE_MAX_CONN);
			nk_recw_u64(w, "ntp-port", ke_conf.ntp_port ? ke_conf.ntp_port : 123);
		}
		nk_recw_u64(w, "relay-allow", cfg.serve.nrelay_allow);
		snprintf(id, sizeof id, "%08x", (unsigned)keys.k[0].id);
		nk_recw_str(w, "key-id", id);
		nk_recw_u64(w, "keys", keys.n);
		nk_recw_str(w, "cookie-keys", cfg.serve.cookie_keys[0] ? "file" : "memory");
		nk_recw_str(w, "status", ntp.status.have ? "read" : "none");
		nk_recw_u64(w, "uid", (uint64_t)getuid());
		nk_recw_u64(w, "rl-bytes", sizeof rl);
		for (size_t i = 0; i < cfg.serve.nacl; i++)
			nallow += cfg.serve.acl[i].allow;
		nk_recw_u64(w, "allow-rules", nallow);
		nk_recw_u64(w, "deny-rules", cfg.serve.nacl - nallow);
		nk_serve_log_end(w);
	}
	if (nke > 0)
		check_cert_window(nk_kesrv_current(&kesrv));
	else if (cfg.serve.cert[0] || cfg.serve.key[0]) {
		struct nk_rec_writer *w = nk_serve_log_begin("warning");

		/* a certificate without NTS-KE is not used: most likely a
		 * forgotten ke-listen */
		nk_recw_str(w, "what", "config");
		nk_recw_str(w, "problem", "cert-without-ke-listen");
		nk_serve_log_end(w);
	}

	while (!sig_term) {
		size_t n = 0;
		uint64_t now_ms = nk_serve_now_ms();
		int to = nk_tcp_timeout(&tcp, now_ms), kto = nk_kesrv_timeout(&kesrv, now_ms);
		struct timespec ts;
		time_t now;

		if (sig_hup) {
			sig_hup = 0;
			reload_status(1);
			reload_keys(1);
			if (nke > 0) {
				if (nk_kesrv_reload(&kesrv, &e) < 0)
					log_error("reload", e.msg);
				/* the certificate in use, new or kept */
				check_cert_window(nk_kesrv_current(&kesrv));
			}
		}
		if (sig_usr1) {
			sig_usr1 = 0;
			rotate_keys(1, "signal");
		}
		if (sig_usr2) {
			sig_usr2 = 0;
			log_counters("stats", nke > 0);
		}
		now = time(NULL);
		if (now != last_tick) {
			last_tick = now;
			reload_status(0);
			reload_keys(0);
			if (rotate_interval > 0 && keys.n > 0 && keys.k[0].created + rotate_interval <= (double)now)
				rotate_keys(0, "scheduled");
		}
		for (size_t i = 0; i < nudp; i++) {
			pfd[n].fd = udp[i].fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
		nk_tcp_fill(&tcp, pfd, &n, sizeof pfd / sizeof pfd[0]);
		nk_kesrv_fill(&kesrv, pfd, &n, sizeof pfd / sizeof pfd[0]);
		if (kto >= 0 && (to < 0 || kto < to))
			to = kto;
		if (to < 0 || to > 1000)
			to = 1000;
		ts.tv_sec = to / 1000;
		ts.tv_nsec = (long)(to % 1000) * 1000000L;
		rc = ppoll(pfd, n, &ts, &empty);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			log_error("error", strerror(errno));
			break;
		}
		now_ms = nk_serve_now_ms();
		for (size_t i = 0; i < nudp; i++)
			if (pfd[i].revents & POLLIN)
				udp_service(&udp[i], now_ms);
		nk_tcp_service(&tcp, pfd, now_ms);
		nk_kesrv_service(&kesrv, pfd, now_ms);
	}

	log_counters("stop", nke > 0);
	nk_tcp_close_all(&tcp);
	nk_kesrv_close_all(&kesrv);
	for (size_t i = 0; i < nudp; i++)
		close(udp[i].fd);
	nk_cookie_keys_wipe(&keys);
	return NK_EXIT_OK;
}
