/**
 * `dogeos media`: writes the ISO and/or USB image from an unpacked platform
 * directory and a payload directory, without the config file — for
 * developers and for re-running the media stage by hand. The release path
 * is `dogeos build`, which maps BuildConfig onto the same MediaInput.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { usageError } from '../../core/errors.ts';
import type { Reporter } from '../../core/events.ts';
import { isoTarget } from '../../media/iso.ts';
import type { ConsoleName, MediaInput, MediaTarget } from '../../media/target.ts';
import { usbTarget } from '../../media/usb.ts';
import { operatorAnswersFile } from '../../stages/answers.ts';
import { type CommandSpec, parseCommandArgs, println } from '../command.ts';

const TARGETS: Record<string, MediaTarget> = { iso: isoTarget, usb: usbTarget };

const HELP = `Usage: dogeos media --platform DIR --version SEMVER --stamp STAMP [options]

Writes dogeos-<version>.iso and/or dogeos-<version>-usb.img into the output
directory (--out-dir, default ./out) and prints '<sha256>  <path>' for each.

  --platform DIR           unpacked SmartOS platform (holds i86pc/)
  --payload DIR            DogeOS payload, placed under /dogeos
  --answers FILE           answers.json for unattended first boot (/private/answers.json)
  --version SEMVER         e.g. 1.0.0+20250724T001011Z; every id on the media derives from it
  --stamp STAMP            the platform's stamp (its etc/version/platform), e.g. 20260101T000000Z
  --loader DIR             the illumos loader's boot/ (from smartos-<STAMP>.iso): piadm support
  --target iso|usb         repeatable; default: both
  --source-date-epoch N    dates on the media (default: $SOURCE_DATE_EPOCH)
  --console text|ttya|ttyb default ttya
  --serial-speed N         GRUB's serial speed, default 115200
  --timeout N              boot menu timeout in seconds, default 5
  --prop KEY=VALUE         extra -B boot property, repeatable (no quotes/commas/spaces)
  --kernel-arg=FLAG        kernel flag before -B (e.g. --kernel-arg=-v), repeatable
  --usb-size BYTES         USB image size, default 1940000256
  --gzip                   also write the USB image gzipped
  --loader-conf            also write boot/loader.conf for the illumos loader
`;

function intOption(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined) {
    if (fallback !== undefined) return fallback;
    throw usageError('USAGE', `media: --${name} is required`, { hint: "see 'dogeos media --help'" });
  }
  if (!/^\d+$/.test(text)) throw usageError('USAGE', `media: --${name} must be a whole number, got '${text}'`);
  return Number(text);
}

function required(name: string, value: string | undefined): string {
  if (value === undefined) throw usageError('USAGE', `media: --${name} is required`, { hint: "see 'dogeos media --help'" });
  return value;
}

/** --answers FILE: read, checked like the build's answers, rewritten in the build's form. */
function operatorAnswers(path: string, reporter: Reporter): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw usageError('USAGE', `media: cannot read --answers ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return operatorAnswersFile(path, bytes, reporter);
}

export const command: CommandSpec = {
  name: 'media',
  summary: 'write the ISO and USB image from a platform directory',
  help: HELP,
  async run(ctx) {
    const { values } = parseCommandArgs(
      'media',
      ctx.argv,
      {
        platform: { type: 'string' },
        payload: { type: 'string' },
        loader: { type: 'string' },
        answers: { type: 'string' },
        version: { type: 'string' },
        stamp: { type: 'string' },
        target: { type: 'string', multiple: true },
        'source-date-epoch': { type: 'string' },
        console: { type: 'string' },
        'serial-speed': { type: 'string' },
        timeout: { type: 'string' },
        prop: { type: 'string', multiple: true },
        'kernel-arg': { type: 'string', multiple: true },
        'usb-size': { type: 'string' },
        gzip: { type: 'boolean' },
        'loader-conf': { type: 'boolean' },
      },
      { allowPositionals: false },
    );
    const targets = (values.target ?? ['iso', 'usb']).map((t) => {
      const target = TARGETS[t];
      if (target === undefined) throw usageError('USAGE', `media: unknown target '${t}' (iso, usb)`);
      return target;
    });
    const bootProps: Record<string, string> = {};
    for (const p of values.prop ?? []) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw usageError('USAGE', `media: --prop wants KEY=VALUE, got '${p}'`);
      bootProps[p.slice(0, eq)] = p.slice(eq + 1);
    }
    const input: MediaInput = {
      platformDir: resolve(ctx.cwd, required('platform', values.platform)),
      ...(values.payload === undefined ? {} : { payloadDir: resolve(ctx.cwd, values.payload) }),
      ...(values.loader === undefined ? {} : { loaderDir: resolve(ctx.cwd, values.loader) }),
      ...(values.answers === undefined ? {} : { answersJson: operatorAnswers(resolve(ctx.cwd, values.answers), ctx.reporter) }),
      version: required('version', values.version),
      stamp: required('stamp', values.stamp),
      sourceDateEpoch: intOption('source-date-epoch', values['source-date-epoch'] ?? ctx.env['SOURCE_DATE_EPOCH']),
      boot: {
        console: (values.console ?? 'ttya') as ConsoleName,
        serialSpeed: intOption('serial-speed', values['serial-speed'], 115200),
        timeoutSec: intOption('timeout', values.timeout, 5),
        bootProps,
        kernelArgs: values['kernel-arg'] ?? [],
        illumosLoaderConf: values['loader-conf'] === true,
      },
      usb: {
        ...(values['usb-size'] === undefined ? {} : { sizeBytes: intOption('usb-size', values['usb-size']) }),
        gzip: values.gzip === true,
      },
      reporter: ctx.reporter,
      signal: ctx.signal,
    };
    for (const t of targets) t.check(input);
    const outDir = resolve(ctx.cwd, ctx.globals.outDir ?? 'out');
    for (const t of targets) {
      for (const a of await t.build(input, outDir)) println(ctx.stdout, `${a.sha256 ?? '-'}  ${a.path}`);
    }
    return 0;
  },
};
