/*
 * A tiny multiboot1 kernel for the media boot tests: it prints, on COM1,
 * the command line GRUB built and each module's string and size, then
 * leaves QEMU through isa-debug-exit (port 0xf4). The boot tests pass only
 * on these lines (STYLE.md "boot tests": a value the guest reports).
 */
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define MB_MAGIC 0x1BADB002u
#define MB_FLAGS 0u

__attribute__((section(".multiboot"), used, aligned(4)))
static const u32 mb_header[3] = {MB_MAGIC, MB_FLAGS, (u32)(0u - MB_MAGIC - MB_FLAGS)};

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void putc(char c) {
  while ((inb(0x3f8 + 5) & 0x20) == 0) {}
  outb(0x3f8, (u8)c);
}
static void puts(const char *s) { while (*s) putc(*s++); }
static void putu(u32 n) {
  char buf[11];
  int i = 10;
  buf[i] = 0;
  do { buf[--i] = (char)('0' + n % 10); n /= 10; } while (n && i > 0);
  puts(&buf[i]);
}

struct mb_info { u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr; };
struct mb_module { u32 start, end, string, reserved; };

void kmain(u32 magic, struct mb_info *mbi) {
  outb(0x3f8 + 1, 0x00); /* no interrupts */
  outb(0x3f8 + 3, 0x80); outb(0x3f8 + 0, 0x01); outb(0x3f8 + 1, 0x00); /* 115200 */
  outb(0x3f8 + 3, 0x03); /* 8n1 */
  puts("\nMBK magic-ok=");
  puts(magic == 0x2BADB002u ? "yes" : "no");
  puts("\nMBK cmdline=");
  if (mbi->flags & (1u << 2)) puts((const char *)mbi->cmdline);
  puts("\n");
  if (mbi->flags & (1u << 3)) {
    struct mb_module *m = (struct mb_module *)mbi->mods_addr;
    for (u32 i = 0; i < mbi->mods_count; i++) {
      puts("MBK module=");
      puts((const char *)m[i].string);
      puts(" size=");
      putu(m[i].end - m[i].start);
      puts("\n");
    }
  }
  puts("MBK done\n");
  outb(0xf4, 0x10); /* QEMU exits with status (0x10 << 1) | 1 = 33 */
  for (;;) __asm__ volatile("cli; hlt");
}

__asm__(
    ".pushsection .text\n"
    ".globl _start\n"
    "_start:\n"
    "  mov $stack_top, %esp\n"
    "  push %ebx\n"
    "  push %eax\n"
    "  call kmain\n"
    "1: hlt\n"
    "  jmp 1b\n"
    ".popsection\n"
    ".pushsection .bss\n"
    ".align 16\n"
    "stack_bottom: .skip 16384\n"
    "stack_top:\n"
    ".popsection\n");
