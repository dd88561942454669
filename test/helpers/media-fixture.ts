/**
 * A fake SmartOS platform directory for media tests: any bytes as the
 * kernel (or a real multiboot kernel for boot tests), a small boot_archive
 * and its correct SHA-1 .hash, plus a small DogeOS payload.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaInput } from '../../build/media/target.ts';
import { buildMbKernel } from '../media/mbkernel/build.ts';
import { noise } from './noise.ts';

export interface Fixture {
  readonly root: string;
  readonly platformDir: string;
  readonly payloadDir: string;
  readonly outDir: string;
  input(over?: Partial<MediaInput>): MediaInput;
  cleanup(): void;
}

export function makeFixture(opts: { kernel?: Uint8Array; archiveBytes?: number; payloadBytes?: number } = {}): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'media-fixture-'));
  const platformDir = join(root, 'platform');
  mkdirSync(join(platformDir, 'i86pc/kernel/amd64'), { recursive: true });
  mkdirSync(join(platformDir, 'i86pc/amd64'), { recursive: true });
  mkdirSync(join(platformDir, 'etc/version'), { recursive: true });
  writeFileSync(join(platformDir, 'i86pc/kernel/amd64/unix'), opts.kernel ?? noise(40_000, 7));
  const archive = noise(opts.archiveBytes ?? 300_000, 11);
  writeFileSync(join(platformDir, 'i86pc/amd64/boot_archive'), archive);
  writeFileSync(join(platformDir, 'i86pc/amd64/boot_archive.hash'), `${createHash('sha1').update(archive).digest('hex')}\n`);
  writeFileSync(join(platformDir, 'etc/version/platform'), '20250724T001011Z\n');
  const payloadDir = join(root, 'payload');
  mkdirSync(join(payloadDir, 'fifo/packages'), { recursive: true });
  mkdirSync(join(payloadDir, 'chunter'), { recursive: true });
  writeFileSync(join(payloadDir, 'fifo/packages/snarl-0.8.3.tgz'), noise(opts.payloadBytes ?? 200_000, 3));
  writeFileSync(join(payloadDir, 'fifo/packages/A Long Package Name v2.tgz'), noise(5000, 4));
  writeFileSync(join(payloadDir, 'chunter/chunter-0.8.3.gz'), noise(70_000, 5));
  writeFileSync(join(payloadDir, 'VERSION'), '0.8.3\n');
  const outDir = join(root, 'out');
  mkdirSync(outDir);
  return {
    root,
    platformDir,
    payloadDir,
    outDir,
    input(over = {}) {
      return {
        platformDir,
        payloadDir,
        version: '1.0.0+20250724T001011Z',
        stamp: '20250724T001011Z',
        sourceDateEpoch: 1753315811,
        boot: { console: 'ttya', serialSpeed: 115200, bootProps: {}, timeoutSec: 5 },
        answersJson: new TextEncoder().encode('{"config_console":"ttya"}\n'),
        usb: { sizeBytes: 64 * 1024 * 1024, espSizeBytes: 8 * 1024 * 1024 },
        ...over,
      };
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The ISO and USB suites' setup, once: a real multiboot kernel (built in a
 * throwaway fixture), fixtures carrying it, all removed after the suite.
 * Call setup() in beforeAll, cleanup() in afterAll.
 */
export function mediaFixtureKit(): { setup(): void; fixture(): Fixture; cleanup(): void } {
  const made: Fixture[] = [];
  let kernel: Uint8Array | undefined;
  return {
    setup() {
      const tmp = makeFixture();
      made.push(tmp);
      kernel = buildMbKernel(tmp.root);
    },
    fixture() {
      if (kernel === undefined) throw new Error('mediaFixtureKit: call setup() first');
      const x = makeFixture({ kernel });
      made.push(x);
      return x;
    },
    cleanup() {
      for (const x of made.splice(0)) x.cleanup();
    },
  };
}
