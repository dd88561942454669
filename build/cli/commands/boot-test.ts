/**
 * `dogeos boot-test`: boots media (or a kernel directly) in QEMU and checks
 * what the guest reports. Passes only on a value the guest itself reports.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configError, ExitStatus, usageError } from '../../core/errors.ts';
import { servePxeTree } from '../../media/pxe/server.ts';
import type { AccelSetting, KernelModule } from '../../qemu/argv.ts';
import type { FirmwareKind } from '../../qemu/firmware.ts';
import { writeJUnitFile } from '../../qemu/junit.ts';
import { expectationForKernelBoot } from '../../qemu/kernel-expect.ts';
import {
  type BootCell,
  type BootExpectation,
  type MatrixMedium,
  type MatrixResult,
  matrixToJUnit,
  runBootMatrix,
  type StandardMedia,
  standardMatrix,
} from '../../qemu/matrix.ts';
import type { ProbeExpectation } from '../../qemu/probe-check.ts';
import type { SmartOsGoal } from '../../qemu/smartos-watch.ts';
import { builtMediaCells, readBuiltMedia } from '../boot-from-build.ts';
import { type CommandContext, type CommandSpec, parseCommandArgs, println } from '../command.ts';
import { loadConfigFor } from '../load-config.ts';

const HELP = `Usage: dogeos boot-test [options]

Boots DogeOS media in QEMU and checks what the guest reports on its serial
console. With the probe kernel in place of unix (--expect probe) a cell
passes only when the probe itself reports a pass through isa-debug-exit and
its report matches the expectation; with a real platform (--expect smartos)
when the console reaches --goal.

Media:
  --kernel FILE            boot FILE with QEMU's multiboot loader (BIOS only)
  --append=TEXT            its command line; use the = form, since it starts
                           with a dash: --append="-B smartos=true,console=ttya"
  --module "FILE ARGS"     a module and its string (repeatable), e.g.
                           --module "out/boot_archive type=rootfs name=ramdisk"
  --media KIND             iso-cd | iso-disk | usb | pxe (repeatable)
  --iso FILE               the ISO for iso-cd / iso-disk
  --usb FILE               the USB image for usb
  --pxe-root DIR           TFTP root for pxe (the guest sees it at tftp://10.0.2.2/;
                           QEMU's network is isolated, so there is no HTTP)
  --pxe-bios-file NAME     what BIOS PXE loads (default undionly.kpxe)
  --pxe-uefi-file NAME     what UEFI PXE loads (default grub/core.efi)
  --matrix                 every given medium under BIOS and UEFI

Checks:
  --firmware bios|uefi     (default bios; ignored with --matrix)
  --expect probe|smartos   (default probe)
  --expectation FILE       JSON probe expectation {kernelPath?, bootProps?, modules:[{type,name,sha1}]}
  --goal installer|login|firstboot-done   for --expect smartos (default login)

Run:
  --accel tcg|kvm|auto     (default auto: measures when it can; KVM may be slower when nested)
  --timeout S              per boot (default 60 for probe, 1800 for smartos)
  --jobs N                 cells booted at once (default: the CPU count)
  --memory MIB             guest memory (default 512; SmartOS needs 4096+)
  --log-dir DIR            where serial logs are kept (default <out>/boot-logs)
  --junit FILE             write JUnit XML results

Exit status: 0 all cells passed, 1 a boot test failed, 64 usage, 69 missing tool/firmware.
`;

const OPTIONS = {
  kernel: { type: 'string' },
  append: { type: 'string' },
  module: { type: 'string', multiple: true },
  media: { type: 'string', multiple: true },
  iso: { type: 'string' },
  usb: { type: 'string' },
  'pxe-root': { type: 'string' },
  'pxe-bios-file': { type: 'string' },
  'pxe-uefi-file': { type: 'string' },
  matrix: { type: 'boolean' },
  firmware: { type: 'string' },
  expect: { type: 'string' },
  expectation: { type: 'string' },
  goal: { type: 'string' },
  accel: { type: 'string' },
  timeout: { type: 'string' },
  jobs: { type: 'string' },
  memory: { type: 'string' },
  'log-dir': { type: 'string' },
  junit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw usageError('USAGE', `--${flag} must be one of ${allowed.join(', ')} (got '${value}')`, {
    hint: "see 'dogeos boot-test --help'",
  });
}

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw usageError('USAGE', `--${flag} must be a positive whole number (got '${value}')`);
  return Number(value);
}

function parseModule(text: string, cwd: string): KernelModule {
  const m = /^\s*(\S+)(?:\s+(.*))?$/.exec(text);
  if (m === null) throw usageError('USAGE', `--module needs "FILE [ARGS]" (got '${text}')`);
  return { path: resolve(cwd, m[1]!), ...(m[2] === undefined ? {} : { args: m[2].trim() }) };
}

function readExpectation(path: string): ProbeExpectation {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as ProbeExpectation;
    if (!Array.isArray(parsed.modules)) throw new Error('"modules" must be an array');
    return parsed;
  } catch (e) {
    throw configError('BOOT_TEST_EXPECTATION', `cannot use expectation file ${path}: ${(e as Error).message}`, {
      details: { path },
    });
  }
}

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

function buildCells(v: Values, ctx: CommandContext): BootCell[] {
  const expectKind = oneOf('expect', v.expect, ['probe', 'smartos'] as const, 'probe');
  const goal = oneOf<SmartOsGoal>('goal', v.goal, ['installer', 'login', 'firstboot-done'], 'login');
  const memoryMiB = positiveInt('memory', v.memory);
  const withMemory = memoryMiB === undefined ? {} : { memoryMiB };
  const probeExpectation = v.expectation === undefined ? undefined : readExpectation(resolve(ctx.cwd, v.expectation));

  if (v.kernel !== undefined) {
    if (v.media !== undefined || v.matrix === true) throw usageError('USAGE', '--kernel cannot be combined with --media or --matrix');
    const kernelPath = resolve(ctx.cwd, v.kernel);
    const modules = (v.module ?? []).map((m) => parseModule(m, ctx.cwd));
    const expect: BootExpectation =
      expectKind === 'smartos'
        ? { kind: 'smartos', goal }
        : {
            kind: 'probe',
            probe: probeExpectation ?? expectationForKernelBoot({ kernelPath, modules, ...(v.append === undefined ? {} : { append: v.append }) }),
          };
    return [
      {
        id: 'bios/kernel',
        firmware: 'bios',
        medium: { kind: 'kernel', path: kernelPath, modules, ...(v.append === undefined ? {} : { append: v.append }) },
        expect,
        ...withMemory,
      },
    ];
  }

  const kinds = (v.media ?? []).map((m) => oneOf<MatrixMedium>('media', m, ['iso-cd', 'iso-disk', 'usb', 'pxe'], 'iso-cd'));
  const media: StandardMedia = {
    ...(v.iso === undefined ? {} : { iso: resolve(ctx.cwd, v.iso) }),
    ...(v.usb === undefined ? {} : { usb: resolve(ctx.cwd, v.usb) }),
    ...(v['pxe-root'] === undefined
      ? {}
      : {
          pxe: {
            tftpRoot: resolve(ctx.cwd, v['pxe-root']),
            biosBootFile: v['pxe-bios-file'] ?? 'undionly.kpxe',
            uefiBootFile: v['pxe-uefi-file'] ?? 'grub/core.efi',
          },
        }),
  };
  const firmware = oneOf<FirmwareKind>('firmware', v.firmware, ['bios', 'uefi'], 'bios');
  const expect: BootExpectation =
    expectKind === 'smartos' ? { kind: 'smartos', goal } : { kind: 'probe', ...(probeExpectation === undefined ? {} : { probe: probeExpectation }) };
  const cells = standardMatrix(media, expect, {
    firmwares: v.matrix === true ? ['bios', 'uefi'] : [firmware],
    ...(kinds.length === 0 ? {} : { kinds }),
  }).map((c) => ({ ...c, ...withMemory, ...(expectKind === 'smartos' ? { noReboot: false } : {}) }));
  if (cells.length === 0 && v.iso === undefined && v.usb === undefined && v['pxe-root'] === undefined && expectKind === 'probe') {
    // Nothing named: boot what `dogeos build` wrote for this config.
    const { config } = loadConfigFor(ctx);
    const built = readBuiltMedia(config);
    return builtMediaCells(built, {
      firmwares: v.matrix === true ? ['bios', 'uefi'] : [firmware],
      ...(kinds.length === 0 ? {} : { kinds }),
    }).map((c) => ({ ...c, ...withMemory }));
  }
  if (cells.length === 0) {
    throw usageError('USAGE', 'nothing to boot: give --kernel, or --media with --iso / --usb / --pxe-root, or build first', {
      hint: "see 'dogeos boot-test --help'",
    });
  }
  return cells;
}

function report(ctx: CommandContext, result: MatrixResult): void {
  if (ctx.globals.json) {
    println(ctx.stdout, JSON.stringify({ type: 'boot-test-result', ...result }));
    return;
  }
  for (const c of result.cells) {
    const secs = (c.durationMs / 1000).toFixed(1);
    println(ctx.stdout, `${c.passed ? 'PASS' : 'FAIL'} ${c.id} (${secs} s${c.accel === undefined ? '' : `, ${c.accel}`}) serial log: ${c.serialLogPath}`);
    if (c.error !== undefined) println(ctx.stdout, `     error ${c.error.code}: ${c.error.message}`);
    for (const f of c.failures) {
      const detail = f.expected === undefined && f.actual === undefined ? '' : ` (expected ${f.expected ?? '-'}, got ${f.actual ?? '-'})`;
      println(ctx.stdout, `     ${f.check}: ${f.message}${detail}`);
    }
  }
}

export const command: CommandSpec = {
  name: 'boot-test',
  summary: 'boot media (or a kernel) in QEMU and check what the guest reports',
  help: HELP,
  async run(ctx: CommandContext): Promise<number> {
    const { values: v } = parseCommandArgs('boot-test', ctx.argv, OPTIONS, { allowPositionals: false });
    if (v.help === true) {
      ctx.stdout.write(HELP);
      return ExitStatus.ok;
    }
    const cells = buildCells(v, ctx);
    const accel = oneOf<AccelSetting>('accel', v.accel, ['tcg', 'kvm', 'auto'], 'auto');
    const timeoutS = positiveInt('timeout', v.timeout);
    const jobs = positiveInt('jobs', v.jobs);
    const logDir = resolve(ctx.cwd, v['log-dir'] ?? join(ctx.globals.outDir ?? loadConfigFor(ctx).config.outDir, 'boot-logs'));
    const kernelCell = cells.find((c) => c.medium.kind === 'kernel');
    // PXE cells fetch over HTTP from the bundle (iPXE); serve it on loopback, which QEMU's user network shows the guest as 10.0.2.2.
    const pxeCell = cells.find((c) => c.medium.kind === 'pxe' && c.medium.bootFile.startsWith('http://10.0.2.2:'));
    const server =
      pxeCell?.medium.kind === 'pxe'
        ? await servePxeTree({ root: pxeCell.medium.tftpRoot, port: Number(/:(\d+)\//.exec(pxeCell.medium.bootFile)?.[1] ?? 80), host: '127.0.0.1' })
        : undefined;
    let result: MatrixResult;
    try {
      result = await runBootMatrix(cells, {
        logDir,
        accel,
        reporter: ctx.reporter,
        signal: ctx.signal,
        ...(timeoutS === undefined ? {} : { timeoutMs: timeoutS * 1000 }),
        ...(jobs === undefined ? {} : { jobs }),
        // accel 'auto' measures by booting the probe; only a probe can be booted bare.
        ...(kernelCell?.medium.kind === 'kernel' && kernelCell.expect.kind === 'probe' ? { probeKernelPath: kernelCell.medium.path } : {}),
      });
    } finally {
      await server?.close();
    }
    if (v.junit !== undefined) writeJUnitFile(resolve(ctx.cwd, v.junit), matrixToJUnit(result));
    report(ctx, result);
    return result.passed ? ExitStatus.ok : ExitStatus.bootFailed;
  },
};
