import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExitStatus } from '../../core/errors.ts';
import { findTool, run } from '../../host/exec.ts';
import { HOST_FILES, HOST_TOOLS } from '../../host/tools.ts';
import { type CommandSpec, parseCommandArgs, println } from '../command.ts';
import { loadConfigFor } from '../load-config.ts';
import { formatBytes } from '../render.ts';

/** A build needs the sealed archive, media and cache: a few GiB. */
const MIN_FREE_BYTES = 6 * 1024 ** 3;

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly required: boolean;
  readonly detail: string;
  readonly debianPackage?: string;
}

async function toolCheck(t: (typeof HOST_TOOLS)[number]): Promise<Check> {
  const path = findTool(t.name);
  if (path === undefined) {
    return { name: t.name, ok: false, required: t.requiredForBuild, detail: `not found (${t.purpose})`, debianPackage: t.debianPackage };
  }
  // Run it, so a broken install is caught too.
  const r = await run(t.name, t.versionArgs, { allowFailure: true, timeoutMs: 20_000 }).catch((e: Error) => ({ status: -1, stdout: '', stderr: e.message }));
  const first = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim() !== '') ?? '';
  const ranOk = r.status === 0 || (r.status > 0 && first !== '');
  return {
    name: t.name,
    ok: ranOk,
    required: t.requiredForBuild,
    detail: ranOk ? first.trim().slice(0, 70) : `found at ${path} but failed to run`,
    debianPackage: t.debianPackage,
  };
}

function kvmCheck(): Check {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return { name: '/dev/kvm', ok: true, required: false, detail: 'usable (boot tests default to TCG: nested KVM can be slower; measure)' };
  } catch {
    return { name: '/dev/kvm', ok: false, required: false, detail: 'not usable: boot tests use TCG (slower, still correct)' };
  }
}

function diskCheck(label: string, dir: string): Check {
  try {
    // Measure the nearest existing ancestor: doctor creates nothing.
    let probe = dir;
    while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
    const s = statfsSync(probe);
    const free = s.bavail * s.bsize;
    return { name: `${label} ${dir}`, ok: free >= MIN_FREE_BYTES, required: true, detail: `${formatBytes(free)} free (needs ${formatBytes(MIN_FREE_BYTES)})` };
  } catch (e) {
    return { name: `${label} ${dir}`, ok: false, required: true, detail: `cannot use: ${(e as Error).message}` };
  }
}

export const command: CommandSpec = {
  name: 'doctor',
  summary: 'check this machine for everything the build needs',
  help: `Usage: dogeos doctor

Checks the Node.js version, every Debian tool the pipeline and the tests use
(by running it), /dev/kvm, and free disk in the output, work and cache
directories. Prints what to install. Exit 0 when everything REQUIRED for a
build is present, 69 otherwise.
`,
  async run(ctx) {
    parseCommandArgs('doctor', ctx.argv, {}, { allowPositionals: false });
    const { config } = loadConfigFor(ctx);
    const major = Number(process.versions.node.split('.')[0]);
    const checks: Check[] = [
      { name: 'node', ok: major >= 20, required: true, detail: `v${process.versions.node} (needs >= 20)` },
      ...(await Promise.all(HOST_TOOLS.map(toolCheck))),
      ...HOST_FILES.map((f) => ({
        name: f.path,
        ok: existsSync(f.path),
        required: f.requiredForBuild,
        detail: f.purpose,
        debianPackage: f.debianPackage,
      })),
      kvmCheck(),
      diskCheck('out', config.outDir),
      diskCheck('work', config.workDir),
      diskCheck('cache', config.cacheDir ?? ''),
    ];
    const missingPkgs = [...new Set(checks.filter((c) => !c.ok && c.debianPackage !== undefined).map((c) => c.debianPackage!))].sort();
    const requiredMissing = checks.filter((c) => !c.ok && c.required);
    if (ctx.globals.json) {
      ctx.stdout.write(`${JSON.stringify({ type: 'doctor', ok: requiredMissing.length === 0, checks, install: missingPkgs })}\n`);
    } else {
      for (const c of checks) {
        const mark = c.ok ? 'ok  ' : c.required ? 'MISS' : 'warn';
        println(
          ctx.stdout,
          `${mark}  ${c.name.padEnd(34)} ${c.detail}${!c.ok && c.debianPackage !== undefined ? ` [Debian package: ${c.debianPackage}]` : ''}`,
        );
      }
      if (missingPkgs.length > 0) {
        println(ctx.stdout);
        println(ctx.stdout, `To install what is missing: sudo apt-get install --no-install-recommends ${missingPkgs.join(' ')}`);
        println(ctx.stdout, "(or run 'make deps', which installs everything)");
      }
      println(ctx.stdout, requiredMissing.length === 0 ? '\nready to build' : `\n${requiredMissing.length} required item(s) missing`);
    }
    return requiredMissing.length === 0 ? ExitStatus.ok : ExitStatus.unavailable;
  },
};
