/*
 * transport: how nts-poll's NTP packets reach a time server (nts-poll(1),
 * TRANSPORTS). One transport per source and run, opened once and used for
 * every exchange of that run:
 *
 *   TP_UDP         UDP straight to the server. The only place nts-poll
 *                  resolves a server name (getaddrinfo), so it is opened
 *                  only when no proxy is set or the user allowed --direct.
 *   TP_SOCKS5_UDP  SOCKS5 UDP ASSOCIATE (RFC 1928 §7); the server is named
 *                  in each datagram's header exactly as the session names it
 *                  (a host name goes as ATYP 3: the proxy resolves it).
 *   TP_RELAY       the TCP relay frame (lib/relay.h) on one TCP stream to a
 *                  relay (nts-serve), through SOCKS5 CONNECT when a proxy is
 *                  set (the relay's name is then resolved by the proxy too),
 *                  else a direct TCP connection.
 *
 * Receiving never trusts the transport: every packet is checked by NTS
 * (nts.h); the transport only drops what is not even a packet.
 */
#ifndef NTS_POLL_TRANSPORT_H
#define NTS_POLL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "relay.h"
#include "socks5.h"
#include "util.h"

enum tp_kind { TP_UDP, TP_SOCKS5_UDP, TP_RELAY };

/* What the caller decided (main.c). */
struct tp_conf {
	const struct nk_socks5_proxy *proxy;   /* NULL: no proxy */
	int direct;                 /* 1: UDP may go direct despite a proxy */
	const char *relay_host;     /* NULL: no relay */
	uint16_t relay_port;
	int timeout_ms;             /* for opening (proxy steps, TCP connect) */
	FILE *explain;              /* NULL unless --explain */
	const char *source;         /* for messages */
	int isolated;               /* 1: the proxy login is a fresh isolation login (Tor) */
};

struct tp {
	enum tp_kind kind;
	int tor;                    /* TP_RELAY through a proxy with an isolation login */
	int fd;                     /* UDP socket or TCP stream; -1 when closed */
	struct nk_socks5_udp u;     /* TP_SOCKS5_UDP */
	struct nk_socks5_addr dst;  /* the time server as the session names it */
	struct nk_relay_dec dec;    /* TP_RELAY */
	uint8_t rbuf[4096];         /* TP_RELAY: bytes read, not yet decoded */
	size_t rlen, roff;
	unsigned long sent, answered; /* TP_RELAY: frames sent and frames received */
	uint8_t fbuf[NK_RELAY_FRAME_MAX];
	char peer[800];             /* what we talk to, for messages */
};

/* Results of tp_open() and tp_recv() besides 0 / a length. */
#define TP_ERR      (-1)   /* fatal for this source (e says why) */
#define TP_NOUDP    (-2)   /* tp_open: the proxy refuses UDP ASSOCIATE (0x07) */
#define TP_DROPPED  (-3)   /* tp_recv: one datagram dropped (e says why); call again */
#define TP_TIMEOUT  (-4)   /* tp_recv: nothing before the deadline */

/* Open the transport to host:port (the session's ntp=). Picks the kind:
 * relay if c->relay_host; else SOCKS5 UDP if c->proxy; else UDP. With a
 * proxy that answers UDP ASSOCIATE with 0x07 it falls back to direct UDP
 * only when c->direct (saying so on stderr), else returns TP_NOUDP with a
 * message naming the two ways out (--relay, --direct). */
int tp_open(struct tp *t, const struct tp_conf *c, const char *host, uint16_t port,
	struct nk_err *e);
/* Send one NTP packet. 0 or TP_ERR. */
int tp_send(struct tp *t, const uint8_t *pkt, size_t len, struct nk_err *e);
/* Wait until the monotonic deadline for one packet: its length (> 0) with
 * *rx = CLOCK_REALTIME right when it arrived, or TP_TIMEOUT, TP_DROPPED,
 * TP_ERR. */
long tp_recv(struct tp *t, uint8_t *buf, size_t cap, const struct timespec *deadline,
	struct timespec *rx, struct nk_err *e);
void tp_close(struct tp *t);
/* "udp", "socks5-udp", "tcp-relay", or "tor": the relay through a proxy
 * with a stream isolation login (the sample's via=). */
const char *tp_via(const struct tp *t);

#endif
