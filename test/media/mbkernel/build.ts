/** Builds mbkernel.c into a multiboot1 ELF with the host gcc/ld (tests only). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export function buildMbKernel(workDir: string): Uint8Array {
  const obj = join(workDir, 'mbkernel.o');
  const elf = join(workDir, 'mbkernel.elf');
  execFileSync('gcc', [
    '-m32',
    '-ffreestanding',
    '-fno-pic',
    '-fno-pie',
    '-fno-stack-protector',
    '-nostdlib',
    '-O2',
    '-c',
    join(HERE, 'mbkernel.c'),
    '-o',
    obj,
  ]);
  execFileSync('ld', ['-m', 'elf_i386', '--no-warn-rwx-segments', '-T', join(HERE, 'mbkernel.ld'), '-o', elf, obj]);
  return readFileSync(elf);
}
