/**
 * The codec steps, ours against reference tools on the same bytes, run
 * back to back within a round so both see the same machine load:
 * UFS pack (makefs -t ffs, mke2fs -d), UFS read (the host page cache),
 * lofi pack (pigz -6 -p N, gzip -6).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchInputs } from './inputs.ts';
import { REPO } from './inputs.ts';
import { measure, type StepCommand } from './measure.ts';
import type { Sample } from './stats.ts';

/** SmartOS's root: 350000 KiB, newfs -i 12248 -b 4096 (shared/DESIGN.md). */
export const ROOT_SIZE_BYTES = 350_000 * 1024;

export interface Step {
  /** Figure id: `<step>.<who>`. */
  readonly id: string;
  readonly label: string;
  readonly tool: string;
  command(scratch: string): StepCommand;
  /** Removes what the step wrote (not timed). */
  cleanup?(scratch: string): void;
}

const worker = (args: readonly string[], logFile: string): StepCommand => ({
  cmd: process.execPath,
  args: ['--import', 'tsx', join(REPO, 'tools', 'bench', 'worker.ts'), ...args],
  cwd: REPO,
  logFile,
});

export function codecSteps(inputs: BenchInputs, threads: number): Step[] {
  const rm = (name: string) => (scratch: string) => rmSync(join(scratch, name), { force: true });
  return [
    {
      id: 'ufs-pack.dogeos',
      label: 'UFS pack of the root',
      tool: 'dogeos (readHostTree + writeUfsTo)',
      command: (s) => worker(['ufs-pack', inputs.rootDir, join(s, 'ufs.img'), String(ROOT_SIZE_BYTES)], join(s, 'ufs-pack.log')),
      cleanup: rm('ufs.img'),
    },
    {
      id: 'ufs-pack.makefs',
      label: 'UFS pack of the root',
      tool: 'makefs -t ffs',
      command: (s) => ({
        cmd: 'makefs',
        args: [
          '-t',
          'ffs',
          '-s',
          String(ROOT_SIZE_BYTES),
          '-o',
          'version=1,bsize=4096,fsize=1024,density=12248,minfree=0,optimization=space',
          join(s, 'ffs.img'),
          inputs.rootDir,
        ],
        logFile: join(s, 'makefs.log'),
      }),
      cleanup: rm('ffs.img'),
    },
    {
      id: 'ufs-pack.mke2fs',
      label: 'UFS pack of the root',
      tool: 'mke2fs -t ext2 -d',
      command: (s) => ({
        cmd: 'mke2fs',
        args: ['-q', '-F', '-t', 'ext2', '-b', '4096', '-i', '12248', '-m', '0', '-d', inputs.rootDir, join(s, 'ext2.img'), `${ROOT_SIZE_BYTES / 1024}k`],
        logFile: join(s, 'mke2fs.log'),
      }),
      cleanup: rm('ext2.img'),
    },
    {
      id: 'ufs-read.dogeos',
      label: 'read every file of the root',
      tool: 'dogeos (openUfs + read)',
      command: (s) => worker(['ufs-read', inputs.bootArchive], join(s, 'ufs-read.log')),
    },
    {
      id: 'ufs-read.host',
      label: 'read every file of the root',
      tool: 'host directory, page cache (node readSync)',
      command: (s) => worker(['host-read', inputs.rootDir], join(s, 'host-read.log')),
    },
    {
      id: 'lofi-pack.dogeos',
      label: 'lofi pack of /usr',
      tool: `dogeos (packLofiTo, ${threads} threads)`,
      command: (s) => worker(['lofi-pack', inputs.usrImage, join(s, 'usr.lgz'), String(threads)], join(s, 'lofi-pack.log')),
      cleanup: rm('usr.lgz'),
    },
    {
      id: 'lofi-pack.pigz',
      label: 'lofi pack of /usr',
      tool: `pigz -6 -p ${threads}`,
      command: (s) => ({
        cmd: 'pigz',
        args: ['-6', '-p', String(threads), '-c', inputs.usrImage],
        stdoutFile: join(s, 'usr.pigz.gz'),
        logFile: join(s, 'pigz.log'),
      }),
      cleanup: rm('usr.pigz.gz'),
    },
    {
      id: 'lofi-pack.gzip',
      label: 'lofi pack of /usr',
      tool: 'gzip -6',
      command: (s) => ({ cmd: 'gzip', args: ['-6', '-c', inputs.usrImage], stdoutFile: join(s, 'usr.gz'), logFile: join(s, 'gzip.log') }),
      cleanup: rm('usr.gz'),
    },
  ];
}

/** Runs one step once; the scratch directory must exist. */
export async function runStep(step: Step, scratch: string): Promise<Sample> {
  step.cleanup?.(scratch);
  try {
    return await measure(step.command(scratch));
  } finally {
    step.cleanup?.(scratch);
  }
}
