/*
 * relay: the TCP relay frame that carries NTP packets over a byte stream
 * (nts-poll --relay, nts-serve's TCP endpoint), documented for other
 * implementers in nts-poll(1), section "TCP RELAY FRAME".
 *
 *   +--------+-----+------+------+----------+----------+-------------+
 *   |  LEN   | RSV | FRAG | ATYP | DST.ADDR | DST.PORT | NTP packet  |
 *   +--------+-----+------+------+----------+----------+-------------+
 *   |   2    |  2  |  1   |  1   | Variable |    2     | 48..1500    |
 *   +--------+-----+------+------+----------+----------+-------------+
 *
 *   LEN   unsigned 16-bit, network byte order: the number of octets that
 *         follow (the header and the packet, not LEN itself).
 *   RSV..DST.PORT  exactly the UDP request header of RFC 1928 §7 (built and
 *         parsed with lib/socks5's nk_socks5_udp_hdr_encode/parse): RSV
 *         0x0000, FRAG 0x00 (fragmentation is not supported), ATYP 0x01
 *         IPv4 / 0x03 domain name (length octet, 1..255 octets) / 0x04
 *         IPv6. From the client it names the destination time server
 *         (by name when a proxy is used: the relay resolves it); in the
 *         answer it names the server that answered.
 *   NTP packet  one whole NTPv4 packet (RFC 5905 + extension fields),
 *         NK_RELAY_NTP_MIN..NK_RELAY_NTP_MAX octets.
 *
 * Frames follow each other back to back on the stream; there is no other
 * framing. A receiver must reject (and close the stream on) a LEN that
 * cannot hold a header and a 48-octet packet or that exceeds the maximum,
 * a RSV other than 0, a FRAG other than 0 and a bad ATYP/address: after
 * one bad frame the stream cannot be resynchronised.
 *
 * Encoder: nk_relay_encode(). Decoder: caller-owned struct nk_relay_dec,
 * fed any number of bytes at a time (nk_relay_dec_feed); no allocation.
 */
#ifndef NK_RELAY_H
#define NK_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "socks5.h"
#include "util.h"

#define NK_RELAY_NTP_MIN   48      /* an NTP header (RFC 5905 §7.3) */
#define NK_RELAY_NTP_MAX   1500    /* one NTP packet: what fits an Ethernet MTU */
#define NK_RELAY_HDR_MIN   8       /* RSV FRAG ATYP=3 LEN=1 one octet PORT */
/* Largest value of LEN and largest whole frame */
#define NK_RELAY_BODY_MAX  (NK_SOCKS5_UDP_HDR_MAX + NK_RELAY_NTP_MAX)
#define NK_RELAY_FRAME_MAX (2 + NK_RELAY_BODY_MAX)

/* Encode one frame: dst names the destination (or the answering server),
 * pkt/len the NTP packet (NK_RELAY_NTP_MIN..NK_RELAY_NTP_MAX octets).
 * Returns the frame length, or -1 with e filled (packet length out of
 * range, bad address, cap too small). */
long nk_relay_encode(uint8_t *out, size_t cap, const struct nk_socks5_addr *dst,
	const uint8_t *pkt, size_t len, struct nk_err *e);

/* One decoded frame; pkt points into the decoder's buffer and stays valid
 * until the next nk_relay_dec_feed() call. */
struct nk_relay_frame {
	struct nk_socks5_addr addr;
	const uint8_t *pkt;
	size_t len;
};

struct nk_relay_dec {
	uint8_t buf[NK_RELAY_FRAME_MAX];
	size_t have;        /* octets of the current frame received so far */
	size_t need;        /* 2 until LEN is known, then 2 + LEN */
	int failed;         /* 1 after an error: every later call fails again */
};

void nk_relay_dec_init(struct nk_relay_dec *d);

/* Feed in[0..n). *used gets how many octets were consumed (always all of
 * them unless a frame completed earlier in the buffer: call again with the
 * rest). Returns
 *    1  a frame is complete: *f filled (the decoder is ready for the next);
 *    0  more octets needed (all of in consumed);
 *   -1  the stream is malformed (e says how); the decoder stays failed.
 * Checks: LEN in [NK_RELAY_HDR_MIN + NK_RELAY_NTP_MIN, NK_RELAY_BODY_MAX]
 * as soon as the 2 octets are in, then RSV = 0, FRAG = 0, a valid ATYP and
 * address, and a packet of NK_RELAY_NTP_MIN..NK_RELAY_NTP_MAX octets. */
int nk_relay_dec_feed(struct nk_relay_dec *d, const uint8_t *in, size_t n,
	size_t *used, struct nk_relay_frame *f, struct nk_err *e);

/* Parse one complete frame in buf[0..n) (exactly one frame, nothing
 * after it): 0, or -1 with e filled. f->pkt points into buf. */
int nk_relay_parse(const uint8_t *buf, size_t n, struct nk_relay_frame *f,
	struct nk_err *e);

#endif
