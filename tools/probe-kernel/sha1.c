/* SHA-1 as specified in FIPS 180-4 §6.1 (big-endian words, 64-byte blocks). */
#include "probe.h"

static u32 rol(u32 x, u32 n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(struct sha1_ctx *ctx, const u8 *p)
{
	u32 w[80];
	for (int t = 0; t < 16; t++)
		w[t] = (u32)p[4 * t] << 24 | (u32)p[4 * t + 1] << 16 | (u32)p[4 * t + 2] << 8 | p[4 * t + 3];
	for (int t = 16; t < 80; t++)
		w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

	u32 a = ctx->h[0], b = ctx->h[1], c = ctx->h[2], d = ctx->h[3], e = ctx->h[4];
	for (int t = 0; t < 80; t++) {
		u32 f, k;
		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6;
		}
		u32 tmp = rol(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = tmp;
	}
	ctx->h[0] += a;
	ctx->h[1] += b;
	ctx->h[2] += c;
	ctx->h[3] += d;
	ctx->h[4] += e;
}

void sha1_init(struct sha1_ctx *ctx)
{
	ctx->h[0] = 0x67452301;
	ctx->h[1] = 0xEFCDAB89;
	ctx->h[2] = 0x98BADCFE;
	ctx->h[3] = 0x10325476;
	ctx->h[4] = 0xC3D2E1F0;
	ctx->total_bytes = 0;
	ctx->block_used = 0;
}

void sha1_update(struct sha1_ctx *ctx, const u8 *data, u32 len)
{
	ctx->total_bytes += len;
	if (ctx->block_used > 0) {
		while (len > 0 && ctx->block_used < 64) {
			ctx->block[ctx->block_used++] = *data++;
			len--;
		}
		if (ctx->block_used < 64)
			return;
		sha1_block(ctx, ctx->block);
		ctx->block_used = 0;
	}
	while (len >= 64) {
		sha1_block(ctx, data);
		data += 64;
		len -= 64;
	}
	while (len > 0) {
		ctx->block[ctx->block_used++] = *data++;
		len--;
	}
}

void sha1_final(struct sha1_ctx *ctx, u8 digest[20])
{
	u64 bits = ctx->total_bytes * 8;
	u8 pad = 0x80;
	u8 zero = 0;
	/* total_bytes must not count the padding; keep the length aside. */
	sha1_update(ctx, &pad, 1);
	while (ctx->block_used != 56)
		sha1_update(ctx, &zero, 1);
	u8 len_be[8];
	for (int i = 0; i < 8; i++)
		len_be[i] = (u8)(bits >> (56 - 8 * i));
	sha1_update(ctx, len_be, 8);
	for (int i = 0; i < 5; i++) {
		digest[4 * i] = (u8)(ctx->h[i] >> 24);
		digest[4 * i + 1] = (u8)(ctx->h[i] >> 16);
		digest[4 * i + 2] = (u8)(ctx->h[i] >> 8);
		digest[4 * i + 3] = (u8)ctx->h[i];
	}
}
