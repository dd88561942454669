/**
 * What a direct `-kernel` boot must show, derived from the files and
 * strings handed to QEMU: the module types and names illumos would parse
 * (dboot_startkern.c `process_module`) and each file's SHA-1.
 */
import { dataError } from '../core/errors.ts';
import { hashFileSync } from '../core/hash.ts';
import type { KernelModule } from './argv.ts';
import type { ExpectedModule, ProbeExpectation } from './probe-check.ts';

function sha1File(path: string): string {
  try {
    // Streamed: a boot archive may be larger than Node's 2 GiB whole-file read.
    return hashFileSync('sha1', path);
  } catch (e) {
    throw dataError('BOOT_TEST_MODULE_UNREADABLE', `cannot read module file ${path}`, { cause: e, details: { path } });
  }
}

/** illumos's reading of a module string: first word = path and default name. */
export function parseModuleWords(moduleString: string): { path: string; name: string; type: ExpectedModule['type'] } {
  const words = moduleString.split(/[ \t\n\r\f]+/).filter((w) => w !== '');
  const path = words[0] ?? '';
  let name = path;
  let type: ExpectedModule['type'] = 'file';
  for (const w of words.slice(1)) {
    if (w.startsWith('name=') && w.length > 5) name = w.slice(5);
    else if (w === 'type=rootfs') type = 'rootfs';
    else if (w === 'type=hash') type = 'hash';
    else if (w.startsWith('type=')) type = 'file';
  }
  return { path, name, type };
}

/**
 * The -B properties of a command line, as illumos splits them: commas
 * separate properties except inside quotes; one pair of quotes is removed.
 */
export function parseBootProps(cmdline: string): Record<string, string> {
  const props: Record<string, string> = {};
  const words = cmdline.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let list: string | undefined;
    if (w === '-B') list = words[++i];
    else if (w.startsWith('-B')) list = w.slice(2);
    if (list === undefined) continue;
    for (const item of list.match(/(?:[^,"']+|"[^"]*"|'[^']*')+/g) ?? []) {
      const eq = item.indexOf('=');
      const key = eq < 0 ? item : item.slice(0, eq);
      let value = eq < 0 ? '' : item.slice(eq + 1);
      if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
      props[key] = value;
    }
  }
  return props;
}

/** The expectation for `qemu -kernel KERNEL -append APPEND -initrd MODULES`. */
export function expectationForKernelBoot(opts: {
  readonly kernelPath: string;
  readonly append?: string;
  readonly modules: readonly KernelModule[];
}): ProbeExpectation {
  return {
    protocol: 'multiboot1',
    // QEMU puts the kernel's file name before the -append text.
    kernelPath: opts.kernelPath,
    bootProps: parseBootProps(opts.append ?? ''),
    modules: opts.modules.map((m) => {
      const parsed = parseModuleWords(m.args === undefined ? m.path : `${m.path} ${m.args}`);
      return { type: parsed.type, name: parsed.name, sha1: sha1File(m.path), path: m.path };
    }),
  };
}
