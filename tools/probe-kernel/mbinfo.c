/*
 * Reads the boot information a multiboot1 or multiboot2 loader leaves in
 * memory, and parses module strings and the kernel command line the way
 * illumos does (usr/src/uts/i86pc/dboot/dboot_startkern.c, process_module:
 * the first whitespace-separated word is the module's path and default
 * name; then `name=`, `type=` and `hash=` words; anything else is ignored).
 */
#include "probe.h"

static u32 rd32(u32 addr)
{
	return *(const volatile u32 *)addr;
}

static void add_module(struct boot_info *bi, u32 start, u32 end, const char *string)
{
	u32 i = bi->module_count++;
	if (i >= MAX_MODULES)
		return;
	struct module *m = &bi->modules[i];
	memset(m, 0, sizeof(*m));
	if (start > end) {
		bi->bad_module = 1;
		end = start;
	}
	m->start = start;
	/* GRUB, QEMU and iPXE all pass mod_end one past the last byte. */
	m->size = end - start;
	m->string = string;
	parse_module_string(m);
}

/* Multiboot 0.6.96 §3.3: flags bit 2 = cmdline, bit 3 = mods, bit 9 = loader name. */
static void read_mb1(u32 info, struct boot_info *bi)
{
	u32 flags = rd32(info);
	bi->protocol = 1;
	if (flags & (1u << 2))
		bi->cmdline = (const char *)rd32(info + 16);
	if (flags & (1u << 9))
		bi->loader = (const char *)rd32(info + 64);
	if (flags & (1u << 3)) {
		u32 count = rd32(info + 20);
		u32 addr = rd32(info + 24);
		for (u32 i = 0; i < count; i++) {
			u32 e = addr + 16 * i;
			add_module(bi, rd32(e), rd32(e + 4), (const char *)rd32(e + 8));
		}
	}
}

/* Multiboot2 §3.6: 8-byte header, then 8-byte-aligned tags until type 0. */
static void read_mb2(u32 info, struct boot_info *bi)
{
	u32 total = rd32(info);
	u32 off = 8;
	bi->protocol = 2;
	while (off + 8 <= total) {
		u32 tag = info + off;
		u32 type = rd32(tag);
		u32 size = rd32(tag + 4);
		if (type == 0 || size < 8)
			break;
		if (type == 1)
			bi->cmdline = (const char *)(tag + 8);
		else if (type == 2)
			bi->loader = (const char *)(tag + 8);
		else if (type == 3)
			add_module(bi, rd32(tag + 8), rd32(tag + 12), (const char *)(tag + 16));
		off += (size + 7) & ~7u;
	}
}

void read_boot_info(u32 magic, u32 info_addr, struct boot_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	if (magic == MB1_BOOTLOADER_MAGIC)
		read_mb1(info_addr, bi);
	else if (magic == MB2_BOOTLOADER_MAGIC)
		read_mb2(info_addr, bi);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Next whitespace-separated word of s starting at *pos; len 0 at the end. */
static struct span next_word(const char *s, u32 *pos)
{
	struct span w = { s, 0 };
	u32 i = *pos;
	while (s[i] != '\0' && is_space(s[i]))
		i++;
	w.p = s + i;
	while (s[i] != '\0' && !is_space(s[i]))
		i++;
	w.len = (u32)(s + i - w.p);
	*pos = i;
	return w;
}

static int starts_with(struct span w, const char *prefix)
{
	u32 n = strlen(prefix);
	return w.len >= n && memcmp(w.p, prefix, n) == 0;
}

static int span_is(struct span w, const char *text)
{
	return w.len == strlen(text) && memcmp(w.p, text, w.len) == 0;
}

void parse_module_string(struct module *m)
{
	m->type = MT_FILE;
	if (m->string == NULL)
		return;
	u32 pos = 0;
	m->path = next_word(m->string, &pos);
	m->name = m->path;
	for (;;) {
		struct span w = next_word(m->string, &pos);
		if (w.len == 0)
			break;
		struct span v = { w.p + 5, w.len >= 5 ? w.len - 5 : 0 };
		if (starts_with(w, "name=")) {
			if (v.len > 0)
				m->name = v;
		} else if (starts_with(w, "type=")) {
			/* illumos: unknown types default to "file". */
			if (span_is(v, "rootfs"))
				m->type = MT_ROOTFS;
			else if (span_is(v, "hash"))
				m->type = MT_HASH;
		} else if (starts_with(w, "hash=")) {
			if (v.len > 0)
				m->inline_hash = v;
		}
	}
}

/*
 * Quote-aware word splitting of the kernel command line: illumos allows
 * quoted -B values ('…' or "…") that contain commas or spaces.
 */
static struct span next_cmd_word(const char *s, u32 *pos)
{
	u32 i = *pos;
	while (s[i] != '\0' && is_space(s[i]))
		i++;
	struct span w = { s + i, 0 };
	char quote = 0;
	while (s[i] != '\0' && (quote != 0 || !is_space(s[i]))) {
		if (quote == 0 && (s[i] == '"' || s[i] == '\''))
			quote = s[i];
		else if (quote != 0 && s[i] == quote)
			quote = 0;
		i++;
	}
	w.len = (u32)(s + i - w.p);
	*pos = i;
	return w;
}

/* Prints `PROBE PROP k=v` for each comma-separated -B property. */
static void print_props(struct span props)
{
	u32 i = 0;
	while (i < props.len) {
		u32 start = i;
		char quote = 0;
		while (i < props.len && (quote != 0 || props.p[i] != ',')) {
			char c = props.p[i];
			if (quote == 0 && (c == '"' || c == '\''))
				quote = c;
			else if (quote != 0 && c == quote)
				quote = 0;
			i++;
		}
		const char *p = props.p + start;
		u32 len = i - start;
		u32 eq = 0;
		while (eq < len && p[eq] != '=')
			eq++;
		put_str("PROBE PROP ");
		put_bytes_escaped(p, eq);
		if (eq < len) {
			const char *v = p + eq + 1;
			u32 vlen = len - eq - 1;
			/* illumos strips one pair of surrounding quotes. */
			if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
				v++;
				vlen -= 2;
			}
			put_char('=');
			put_bytes_escaped(v, vlen);
		}
		put_nl();
		i++; /* skip the comma */
	}
}

void print_cmdline_props(const char *cmdline)
{
	u32 pos = 0;
	struct span kernel = next_cmd_word(cmdline, &pos);
	put_str("PROBE KERNEL ");
	put_bytes_escaped(kernel.p, kernel.len);
	put_nl();
	for (;;) {
		struct span w = next_cmd_word(cmdline, &pos);
		if (w.len == 0)
			break;
		if (span_is(w, "-B")) {
			print_props(next_cmd_word(cmdline, &pos));
		} else if (starts_with(w, "-B")) {
			struct span rest = { w.p + 2, w.len - 2 };
			print_props(rest);
		} else {
			put_str("PROBE OPTION ");
			put_bytes_escaped(w.p, w.len);
			put_nl();
		}
	}
}
