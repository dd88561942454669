/*
 * Entry point and boot headers of the probe kernel.
 *
 * Like illumos unix (usr/src/uts/i86pc/dboot/dboot_grub.s) the image carries
 * a multiboot1 header with the "a.out kludge" (load addresses in the header,
 * so the loader need not understand the ELF) and a multiboot2 header with
 * address and entry tags. QEMU's -kernel (multiboot1 only), GRUB's
 * `multiboot` and `multiboot2` commands and iPXE all take this path.
 * Multiboot specs: GNU "Multiboot Specification" 0.6.96 §3.1 and
 * "Multiboot2 Specification" 2.0 §3.1.
 */

#define MB1_MAGIC       0x1BADB002
#define MB1_FLAGS       0x00010003 /* page-align modules, want memory info, a.out kludge */

#define MB2_MAGIC       0xE85250D6
#define MB2_ARCH_I386   0

	.section .multiboot1, "a"
	.p2align 2
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header        /* header_addr */
	.long _load_start       /* load_addr */
	.long _load_end         /* load_end_addr */
	.long _bss_end          /* bss_end_addr */
	.long _start            /* entry_addr */

	.section .multiboot2, "a"
	.p2align 3
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* address tag (type 2) */
	.p2align 3
	.short 2, 0
	.long 24
	.long mb2_header
	.long _load_start
	.long _load_end
	.long _bss_end
	/* entry address tag (type 3) */
	.p2align 3
	.short 3, 0
	.long 12
	.long _start
	/* module alignment tag (type 6): page-aligned modules */
	.p2align 3
	.short 6, 0
	.long 8
	/* end tag */
	.p2align 3
	.short 0, 0
	.long 8
mb2_header_end:

	.text
	.globl _start
	.type _start, @function
_start:
	/* 32-bit protected mode, paging off; eax = magic, ebx = info. */
	cli
	cld
	movl $stack_top, %esp
	pushl $0                /* keep 16-byte alignment for the C call */
	pushl $0
	pushl %ebx
	pushl %eax
	call probe_main
1:	cli
	hlt
	jmp 1b

	.bss
	.p2align 4
stack_bottom:
	.skip 32768
stack_top:

	.section .note.GNU-stack, "", @progbits
