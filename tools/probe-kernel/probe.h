/* Shared types and helpers of the probe kernel (freestanding, 32-bit). */
#ifndef PROBE_H
#define PROBE_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define NULL ((void *)0)

/* util.c: the few libc routines gcc may call even when freestanding. */
void *memcpy(void *dst, const void *src, u32 n);
void *memset(void *dst, int c, u32 n);
int memcmp(const void *a, const void *b, u32 n);
u32 strlen(const char *s);

static inline void outb(u16 port, u8 value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 value;
	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

/* serial.c: COM1 output. */
void serial_init(void);
void put_char(char c);
void put_str(const char *s);
void put_bytes_escaped(const char *s, u32 len);
void put_escaped(const char *s);
void put_u32(u32 v);
void put_hex(const u8 *bytes, u32 len);
void put_nl(void);

/* sha1.c */
struct sha1_ctx {
	u32 h[5];
	u64 total_bytes;
	u8 block[64];
	u32 block_used;
};
void sha1_init(struct sha1_ctx *ctx);
void sha1_update(struct sha1_ctx *ctx, const u8 *data, u32 len);
void sha1_final(struct sha1_ctx *ctx, u8 digest[20]);

/* A piece of a string owned by the boot loader (never modified). */
struct span {
	const char *p;
	u32 len;
};

enum module_type { MT_FILE = 0, MT_ROOTFS = 1, MT_HASH = 2 };

#define MAX_MODULES 64

struct module {
	u32 start;
	u32 size;
	const char *string;     /* whole module string as the loader passed it */
	struct span path;       /* first word */
	struct span name;       /* name= or else the first word (illumos) */
	struct span inline_hash; /* hash= option, rarely used */
	enum module_type type;  /* as parsed from type= */
	enum module_type effective_type; /* after the legacy fixup */
	u8 sha1[20];
};

struct boot_info {
	int protocol;           /* 1 or 2, 0 if unknown */
	const char *cmdline;    /* NULL if none */
	const char *loader;     /* NULL if none */
	u32 module_count;       /* may exceed MAX_MODULES: then only the first are kept */
	int bad_module;         /* some module has start > end */
	struct module modules[MAX_MODULES];
};

/* mbinfo.c */
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u
#define MB2_BOOTLOADER_MAGIC 0x36D76289u
void read_boot_info(u32 magic, u32 info_addr, struct boot_info *bi);
void parse_module_string(struct module *m);
void print_cmdline_props(const char *cmdline);

int span_eq(struct span a, struct span b);

#endif
