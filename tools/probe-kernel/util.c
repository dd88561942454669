/* The libc routines gcc may emit calls to even with -ffreestanding. */
#include "probe.h"

void *memcpy(void *dst, const void *src, u32 n)
{
	u8 *d = dst;
	const u8 *s = src;
	while (n-- > 0)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, u32 n)
{
	u8 *d = dst;
	while (n-- > 0)
		*d++ = (u8)c;
	return dst;
}

int memcmp(const void *a, const void *b, u32 n)
{
	const u8 *x = a, *y = b;
	for (u32 i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

u32 strlen(const char *s)
{
	u32 n = 0;
	while (s[n] != '\0')
		n++;
	return n;
}

int span_eq(struct span a, struct span b)
{
	return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}
