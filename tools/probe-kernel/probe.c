/*
 * The probe kernel: stands in for illumos `unix` in boot tests. It reports,
 * on COM1, what the boot loader handed over (protocol, command line,
 * modules), repeats the module checks illumos makes before it starts
 * (dboot_startkern.c: fixup_modules, assign_module_hashes, check_images),
 * looks for the UFS superblock in each rootfs module, and tells QEMU its
 * verdict through isa-debug-exit. The line format is in README.md.
 */
#include "probe.h"
#include "status.h"

#define DEBUG_EXIT_PORT 0xf4
/* illumos UFS: superblock at byte 8192, fs_magic at offset 1372 in it
 * (shared/specs/illumos-ufs.md §1 and the superblock table). */
#define UFS_MAGIC_OFFSET (8192 + 1372)
#define UFS_MAGIC 0x00011954u

static struct boot_info bi;
static int first_failure; /* 0 while everything passed */
static const char *first_reason;

static void fail(int status, const char *reason)
{
	if (first_failure == 0) {
		first_failure = status;
		first_reason = reason;
	}
}

static const char *type_name(enum module_type t)
{
	return t == MT_ROOTFS ? "rootfs" : t == MT_HASH ? "hash" : "file";
}

static void put_span(struct span s)
{
	put_bytes_escaped(s.p, s.len);
}

static void report_modules(u32 count)
{
	put_str("PROBE MODULES count=");
	put_u32(bi.module_count);
	put_nl();
	for (u32 i = 0; i < count; i++) {
		struct module *m = &bi.modules[i];
		struct sha1_ctx ctx;
		sha1_init(&ctx);
		sha1_update(&ctx, (const u8 *)m->start, m->size);
		sha1_final(&ctx, m->sha1);
		put_str("PROBE MODULE ");
		put_u32(i);
		put_str(" size=");
		put_u32(m->size);
		put_str(" sha1=");
		put_hex(m->sha1, 20);
		put_str(" type=");
		put_str(type_name(m->type));
		put_str(" name=");
		put_span(m->name);
		put_str(" path=");
		put_span(m->path);
		put_str(" string=");
		if (m->string != NULL)
			put_escaped(m->string);
		put_nl();
	}
}

/* dboot_startkern.c fixup_modules: one or two untyped, unhashed modules are
 * the legacy "archive [hash]" form. */
static void legacy_fixup(u32 count)
{
	for (u32 i = 0; i < count; i++)
		bi.modules[i].effective_type = bi.modules[i].type;
	if (count == 0 || count > 2)
		return;
	for (u32 i = 0; i < count; i++) {
		if (bi.modules[i].type != MT_FILE || bi.modules[i].inline_hash.len != 0)
			return;
	}
	bi.modules[0].effective_type = MT_ROOTFS;
	if (count == 2) {
		bi.modules[1].effective_type = MT_HASH;
		bi.modules[1].name = bi.modules[0].name;
	}
	put_str("PROBE FIXUP legacy");
	put_nl();
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Compares a module's SHA-1 with the first 40 hex characters of `ascii`. */
static void check_hash(u32 index, const char *ascii, u32 ascii_len, const char *source)
{
	struct module *m = &bi.modules[index];
	put_str("PROBE HASHCHECK name=");
	put_span(m->name);
	if (ascii_len < 40) {
		put_str(" short");
		fail(PROBE_FAIL_HASH_SHORT, "hash-short");
	} else {
		int bad_hex = 0;
		u8 expected[20];
		for (int i = 0; i < 20; i++) {
			int hi = hex_value(ascii[2 * i]), lo = hex_value(ascii[2 * i + 1]);
			if (hi < 0 || lo < 0)
				bad_hex = 1;
			expected[i] = (u8)((hi << 4) | (lo & 15));
		}
		if (bad_hex) {
			put_str(" badhex");
			fail(PROBE_FAIL_HASH_BADHEX, "hash-badhex");
		} else if (memcmp(expected, m->sha1, 20) == 0) {
			put_str(" ok");
		} else {
			put_str(" mismatch");
			fail(PROBE_FAIL_HASH_MISMATCH, "hash-mismatch");
		}
		put_str(" expected=");
		put_bytes_escaped(ascii, 40);
	}
	put_str(" actual=");
	put_hex(m->sha1, 20);
	put_str(" module=");
	put_u32(index);
	put_str(" hash-module=");
	put_str(source);
	put_nl();
}

static void put_index_str(char *buf, u32 v)
{
	/* small decimal for the hash-module= field */
	char tmp[10];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	int j = 0;
	while (n > 0)
		buf[j++] = tmp[--n];
	buf[j] = '\0';
}

/* assign_module_hashes + check_images: every non-hash module is checked
 * against the first hash module with the same name. */
static void check_hashes(u32 count)
{
	int used[MAX_MODULES] = { 0 };
	for (u32 i = 0; i < count; i++) {
		struct module *m = &bi.modules[i];
		if (m->effective_type == MT_HASH)
			continue;
		if (m->inline_hash.len != 0) {
			check_hash(i, m->inline_hash.p, m->inline_hash.len, "inline");
			continue;
		}
		for (u32 j = 0; j < count; j++) {
			struct module *h = &bi.modules[j];
			if (h->effective_type != MT_HASH || !span_eq(h->name, m->name))
				continue;
			char source[12];
			put_index_str(source, j);
			used[j] = 1;
			check_hash(i, (const char *)h->start, h->size, source);
			break;
		}
	}
	/* illumos ignores a hash nobody pairs with; for us it is a broken
	 * config (a lost name= or a dropped path), so say so. */
	for (u32 j = 0; j < count; j++) {
		if (bi.modules[j].effective_type != MT_HASH || used[j])
			continue;
		put_str("PROBE HASHCHECK name=");
		put_span(bi.modules[j].name);
		put_str(" unpaired hash-module=");
		put_u32(j);
		put_nl();
		fail(PROBE_FAIL_HASH_UNPAIRED, "hash-unpaired");
	}
}

static int has_hash_for(u32 index, u32 count)
{
	struct module *m = &bi.modules[index];
	if (m->inline_hash.len != 0)
		return 1;
	for (u32 j = 0; j < count; j++) {
		if (bi.modules[j].effective_type == MT_HASH && span_eq(bi.modules[j].name, m->name))
			return 1;
	}
	return 0;
}

static void check_rootfs(u32 count)
{
	int rootfs_seen = 0;
	for (u32 i = 0; i < count; i++) {
		struct module *m = &bi.modules[i];
		if (m->effective_type != MT_ROOTFS)
			continue;
		rootfs_seen = 1;
		if (!has_hash_for(i, count))
			fail(PROBE_FAIL_ROOTFS_UNHASHED, "rootfs-unhashed");
		int ok = 0;
		if (m->size >= UFS_MAGIC_OFFSET + 4) {
			const u8 *p = (const u8 *)(m->start + UFS_MAGIC_OFFSET);
			u32 magic = (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
			ok = magic == UFS_MAGIC;
		}
		put_str("PROBE ROOTFS name=");
		put_span(m->name);
		put_str(" module=");
		put_u32(i);
		put_str(ok ? " ufs-magic=ok" : " ufs-magic=bad");
		put_nl();
		if (!ok)
			fail(PROBE_FAIL_ROOTFS_MAGIC, "rootfs-magic");
	}
	if (!rootfs_seen)
		fail(PROBE_FAIL_NO_ROOTFS, "no-rootfs");
}

static void finish(void)
{
	int status = first_failure == 0 ? PROBE_PASS : first_failure;
	put_str("PROBE RESULT ");
	put_str(first_failure == 0 ? "pass reason=none" : "fail reason=");
	if (first_failure != 0)
		put_str(first_reason);
	put_str(" status=");
	put_u32((u32)status);
	put_nl();
	put_str("PROBE END");
	put_nl();
	/* QEMU exits with (status << 1) | 1; on other machines this is a no-op. */
	outb(DEBUG_EXIT_PORT, (u8)status);
}

void probe_main(u32 magic, u32 info)
{
	serial_init();
	put_nl();
	put_str("PROBE BEGIN");
	put_nl();
	read_boot_info(magic, info, &bi);
	if (bi.protocol == 0) {
		put_str("PROBE PROTOCOL unknown magic=");
		u8 m[4] = { (u8)(magic >> 24), (u8)(magic >> 16), (u8)(magic >> 8), (u8)magic };
		put_hex(m, 4);
		put_nl();
		fail(PROBE_FAIL_LOADER, "loader");
		finish();
		return;
	}
	put_str(bi.protocol == 1 ? "PROBE PROTOCOL multiboot1" : "PROBE PROTOCOL multiboot2");
	put_nl();
	if (bi.loader != NULL) {
		put_str("PROBE LOADER ");
		put_escaped(bi.loader);
		put_nl();
	}
	put_str("PROBE CMDLINE ");
	if (bi.cmdline != NULL)
		put_escaped(bi.cmdline);
	put_nl();
	if (bi.cmdline != NULL)
		print_cmdline_props(bi.cmdline);

	u32 count = bi.module_count > MAX_MODULES ? MAX_MODULES : bi.module_count;
	report_modules(count);
	if (bi.module_count > MAX_MODULES)
		fail(PROBE_FAIL_TOO_MANY_MODULES, "too-many-modules");
	if (bi.bad_module)
		fail(PROBE_FAIL_BAD_MODULE, "bad-module");
	if (count == 0)
		fail(PROBE_FAIL_NO_MODULES, "no-modules");
	legacy_fixup(count);
	check_hashes(count);
	check_rootfs(count);
	finish();
}
