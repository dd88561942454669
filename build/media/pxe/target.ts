/**
 * The PXE media target: `out/dogeos-<version>-pxe/` (TFTP + HTTP root) and
 * `out/dogeos-<version>-pxe.tar.gz`, byte-identical for identical inputs.
 * Work happens in a hidden sibling directory that is renamed into place at
 * the end, and removed on any failure.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { unavailableError } from '../../core/errors.ts';
import { type Reporter, silentReporter, timedStage } from '../../core/events.ts';
import { listTree, normaliseTree, treeDigest } from '../../core/fstree.ts';
import { GzipBlockReuse, reportReuse } from '../../core/gzip-blocks.ts';
import { writeTarGz } from '../../core/targz.ts';
import { requireTool } from '../../host/exec.ts';
import { requireGrubModules } from '../../host/grub-netdir.ts';
import { previousOutput } from '../image-reuse.ts';
import type { Artifact, MediaTarget } from '../target.ts';
import { UNDIONLY_SOURCE, writeBundle } from './bundle.ts';
import { planPxe } from './plan.ts';
import type { PxeInput } from './types.ts';

function checkHost(): void {
  requireTool('grub-mknetdir');
  requireGrubModules('x86_64-efi');
  requireGrubModules('i386-pc');
  if (!existsSync(UNDIONLY_SOURCE)) {
    throw unavailableError('HOST_FILE_MISSING', `${UNDIONLY_SOURCE} is missing`, {
      hint: 'install it: apt-get install ipxe   (or run make deps)',
      details: { path: UNDIONLY_SOURCE, debianPackage: 'ipxe' },
    });
  }
}

async function buildPxe(input: PxeInput, outDir: string): Promise<Artifact[]> {
  const reporter: Reporter = input.reporter ?? silentReporter;
  const plan = planPxe(input);
  checkHost();
  await mkdir(outDir, { recursive: true });
  const work = await mkdtemp(join(outDir, `.${plan.name}.partial-`));
  try {
    const root = join(work, plan.name);
    await mkdir(root);
    await timedStage(reporter, 'pxe-tree', () => writeBundle(plan, root, reporter));
    input.signal?.throwIfAborted();
    const entries = await listTree(root);
    normaliseTree(root, entries, input.sourceDateEpoch);
    const tarTmp = join(work, `${plan.name}.tar.gz`);
    // The last PXE tarball's blocks, and the platform tarball's: its boot archive and kernel start blocks
    // of their own there as here (core/targz.ts tarDataStarts), so even a full build deflates them once.
    const blocks = new GzipBlockReuse([previousOutput(input.incremental?.previousDir, '-pxe.tar.gz'), input.sealed?.tarballPath]);
    // The tree's digest is read while the tarball is written: both read the
    // same files, and the hashing fills what the tarball's waits leave idle.
    // Both settle before anything is thrown, so no read outlives the work directory.
    const [tarred, digested] = await Promise.allSettled([
      timedStage(reporter, 'pxe-tarball', async () => {
        try {
          return await writeTarGz({
            cwd: work,
            topDir: plan.name,
            entries,
            outFile: tarTmp,
            epochSec: input.sourceDateEpoch,
            reporter,
            task: 'pxe-tarball',
            blocks,
          });
        } finally {
          blocks.close();
        }
      }),
      input.treeDigest === false ? Promise.resolve(undefined) : treeDigest(root, entries),
    ]);
    if (tarred.status === 'rejected') throw tarred.reason;
    if (digested.status === 'rejected') throw digested.reason;
    const tar = tarred.value;
    const digest = digested.value;
    reportReuse(reporter, 'pxe-tarball', blocks, 'the last build and the platform tarball');
    input.signal?.throwIfAborted();
    const tarSha256 = tar.sha256;
    const tarSize = tar.sizeBytes;

    input.signal?.throwIfAborted();
    const finalDir = join(outDir, plan.name);
    const finalTar = join(outDir, `${plan.name}.tar.gz`);
    await rm(finalDir, { recursive: true, force: true });
    await rm(finalTar, { force: true });
    await rename(root, finalDir);
    await rename(tarTmp, finalTar);
    if (input.incremental !== undefined) blocks.writeIndex(finalTar);

    reporter.emit({ type: 'artifact', path: finalTar, sizeBytes: tarSize, sha256: tarSha256 });
    return [
      {
        target: 'pxe',
        name: basename(finalDir),
        path: finalDir,
        kind: 'directory',
        sizeBytes: entries.reduce((sum, e) => sum + (e.type === 'file' ? e.sizeBytes : 0), 0),
        ...(digest === undefined ? {} : { sha256: digest.sha256 }),
      },
      { target: 'pxe', name: basename(finalTar), path: finalTar, kind: 'file', sizeBytes: tarSize, sha256: tarSha256 },
    ];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export const pxeTarget: MediaTarget<PxeInput> = {
  name: 'pxe',
  check(input: PxeInput): void {
    planPxe(input);
    checkHost();
  },
  build: buildPxe,
};
