/*
 * COM1 (16550 UART at I/O port 0x3f8), 115200 8N1. Every probe line goes
 * here; QEMU's -serial captures it. Bytes outside printable ASCII and the
 * backslash are written as \xHH and \\ so each marker stays one line.
 */
#include "probe.h"

#define COM1 0x3f8

void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB on */
	outb(COM1 + 0, 0x01); /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1, DLAB off */
	outb(COM1 + 2, 0xC7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void put_char(char c)
{
	/* Wait for the transmit holding register, but never forever. */
	for (u32 spins = 0; spins < 100000; spins++) {
		if ((inb(COM1 + 5) & 0x20) != 0)
			break;
	}
	outb(COM1, (u8)c);
}

void put_str(const char *s)
{
	while (*s != '\0')
		put_char(*s++);
}

static const char hexdigits[] = "0123456789abcdef";

void put_bytes_escaped(const char *s, u32 len)
{
	for (u32 i = 0; i < len; i++) {
		u8 c = (u8)s[i];
		if (c == '\\') {
			put_str("\\\\");
		} else if (c < 0x20 || c > 0x7e) {
			put_str("\\x");
			put_char(hexdigits[c >> 4]);
			put_char(hexdigits[c & 15]);
		} else {
			put_char((char)c);
		}
	}
}

void put_escaped(const char *s)
{
	put_bytes_escaped(s, strlen(s));
}

void put_u32(u32 v)
{
	char buf[10];
	int n = 0;
	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		put_char(buf[--n]);
}

void put_hex(const u8 *bytes, u32 len)
{
	for (u32 i = 0; i < len; i++) {
		put_char(hexdigits[bytes[i] >> 4]);
		put_char(hexdigits[bytes[i] & 15]);
	}
}

void put_nl(void)
{
	put_str("\r\n");
}
