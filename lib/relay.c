/*
 * relay: the TCP relay frame (see relay.h and nts-poll(1) "TCP RELAY FRAME").
 */
#include <string.h>

#include "relay.h"

long nk_relay_encode(uint8_t *out, size_t cap, const struct nk_socks5_addr *dst,
	const uint8_t *pkt, size_t len, struct nk_err *e)
{
	int h;
	size_t body;

	if (len < NK_RELAY_NTP_MIN || len > NK_RELAY_NTP_MAX) {
		nk_errf(e, "relay frame: NTP packet of %zu octets (must be %d..%d)",
			len, NK_RELAY_NTP_MIN, NK_RELAY_NTP_MAX);
		return -1;
	}
	if (cap < 2) {
		nk_errf(e, "relay frame: output buffer too small");
		return -1;
	}
	/* RFC 1928 §7 header right after the 2-octet length */
	h = nk_socks5_udp_hdr_encode(out + 2, cap - 2, dst, e);
	if (h < 0)
		return -1;
	body = (size_t)h + len;
	if (2 + body > cap) {
		nk_errf(e, "relay frame: output buffer too small (%zu octets needed)", 2 + body);
		return -1;
	}
	memcpy(out + 2 + h, pkt, len);
	out[0] = (uint8_t)(body >> 8);
	out[1] = (uint8_t)body;
	return (long)(2 + body);
}

/* The body (after LEN): header, then the packet. */
static int parse_body(const uint8_t *b, size_t n, struct nk_relay_frame *f, struct nk_err *e)
{
	struct nk_err se;
	int h;

	if (n < 3) {
		nk_errf(e, "relay frame: %zu octets cannot hold the RFC 1928 header", n);
		return -1;
	}
	if (b[0] != 0 || b[1] != 0) {
		nk_errf(e, "relay frame: RSV is 0x%02x%02x, must be 0x0000", b[0], b[1]);
		return -1;
	}
	if (b[2] != 0) {
		nk_errf(e, "relay frame: FRAG is 0x%02x, fragments are not supported", b[2]);
		return -1;
	}
	memset(&se, 0, sizeof se);
	h = nk_socks5_udp_hdr_parse(b, n, &f->addr, &se);
	if (h < 0) {
		nk_errf(e, "relay frame: %s", se.msg);
		return -1;
	}
	f->pkt = b + h;
	f->len = n - (size_t)h;
	if (f->len < NK_RELAY_NTP_MIN || f->len > NK_RELAY_NTP_MAX) {
		nk_errf(e, "relay frame: NTP packet of %zu octets (must be %d..%d)",
			f->len, NK_RELAY_NTP_MIN, NK_RELAY_NTP_MAX);
		return -1;
	}
	return 0;
}

static int check_len(size_t body, struct nk_err *e)
{
	if (body < NK_RELAY_HDR_MIN + NK_RELAY_NTP_MIN) {
		nk_errf(e, "relay frame: length %zu is too short for a header and an NTP packet "
			"(at least %d)", body, NK_RELAY_HDR_MIN + NK_RELAY_NTP_MIN);
		return -1;
	}
	if (body > NK_RELAY_BODY_MAX) {
		nk_errf(e, "relay frame: length %zu exceeds the maximum %d", body, NK_RELAY_BODY_MAX);
		return -1;
	}
	return 0;
}

int nk_relay_parse(const uint8_t *buf, size_t n, struct nk_relay_frame *f, struct nk_err *e)
{
	size_t body;

	if (n < 2) {
		nk_errf(e, "relay frame: truncated length");
		return -1;
	}
	body = (size_t)buf[0] << 8 | buf[1];
	if (check_len(body, e) < 0)
		return -1;
	if (n != 2 + body) {
		nk_errf(e, "relay frame: length says %zu octets, %zu present", body, n - 2);
		return -1;
	}
	return parse_body(buf + 2, body, f, e);
}

void nk_relay_dec_init(struct nk_relay_dec *d)
{
	d->have = 0;
	d->need = 2;
	d->failed = 0;
}

int nk_relay_dec_feed(struct nk_relay_dec *d, const uint8_t *in, size_t n,
	size_t *used, struct nk_relay_frame *f, struct nk_err *e)
{
	size_t off = 0;

	*used = 0;
	if (d->failed) {
		nk_errf(e, "relay frame: stream already failed");
		return -1;
	}
	while (off < n) {
		size_t take = d->need - d->have;
		if (take > n - off)
			take = n - off;
		memcpy(d->buf + d->have, in + off, take);
		d->have += take;
		off += take;
		if (d->have < d->need)
			break;
		if (d->need == 2) {
			size_t body = (size_t)d->buf[0] << 8 | d->buf[1];
			if (check_len(body, e) < 0) {
				d->failed = 1;
				*used = off;
				return -1;
			}
			d->need = 2 + body;
			continue;
		}
		/* a whole frame */
		*used = off;
		if (parse_body(d->buf + 2, d->need - 2, f, e) < 0) {
			d->failed = 1;
			return -1;
		}
		d->have = 0;
		d->need = 2;
		return 1;
	}
	*used = off;
	return 0;
}
