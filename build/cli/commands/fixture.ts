import { resolve } from 'node:path';
import { buildFixturePlatform } from '../../../tools/fixture/platform.ts';
import { usageError } from '../../core/errors.ts';
import { type CommandSpec, parseCommandArgs, println } from '../command.ts';

const DEFAULT_STAMP = '20250724T001011Z';

export const command: CommandSpec = {
  name: 'fixture',
  summary: 'write a SmartOS-shaped fixture platform release (for tests and demos)',
  help: `Usage: dogeos fixture release --out DIR [--stamp STAMP] [--profile small|realistic] [--kernel FILE]

Writes a platform release with the real SmartOS layout into DIR (which plays
the role of .../Joyent_Dev/public/SmartOS): <STAMP>/platform-release-*.tgz,
<STAMP>/smartos-<STAMP>.iso (/platform, /etc/version/boot and a STAND-IN
illumos loader under /boot: named like the real files, booting nothing),
md5sums.txt, sha256sums.txt, latest and platform-latest.tgz. The boot
archive is an illumos UFS image (written by our codec) holding a
SmartOS-like root, with /usr.lgz (lofi) inside. Deterministic per stamp.

Options:
  --out DIR        where to write (also accepted as the global --out)
  --stamp STAMP    release stamp (default ${DEFAULT_STAMP})
  --profile P      small (fast, for tests) or realistic (SmartOS sizes, for benchmarks)
  --kernel FILE    multiboot kernel to ship as unix (default: the probe kernel)

Serve DIR over HTTP and point --base-url at it, or build from the tarball
directly: dogeos build --platform DIR/<STAMP>/platform-release-*.tgz
`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs('fixture', ctx.argv, {
      stamp: { type: 'string' },
      profile: { type: 'string' },
      kernel: { type: 'string' },
    });
    if (positionals[0] !== 'release' || positionals.length > 1) {
      throw usageError('USAGE', "fixture: say 'dogeos fixture release --out DIR'", { hint: "see 'dogeos fixture --help'" });
    }
    const out = ctx.globals.outDir;
    if (out === undefined) throw usageError('USAGE', 'fixture release: --out DIR is required');
    const profile = values.profile ?? 'small';
    if (profile !== 'small' && profile !== 'realistic') throw usageError('USAGE', `fixture release: --profile must be small or realistic, not '${profile}'`);
    const stamp = values.stamp ?? DEFAULT_STAMP;
    if (!/^\d{8}T\d{6}Z$/.test(stamp)) throw usageError('USAGE', `fixture release: --stamp must look like ${DEFAULT_STAMP}, not '${stamp}'`);
    const rel = await buildFixturePlatform({
      outDir: resolve(ctx.cwd, out),
      stamp,
      profile,
      ...(values.kernel === undefined ? {} : { kernelPath: resolve(ctx.cwd, values.kernel) }),
      reporter: ctx.reporter,
    });
    if (ctx.globals.json) {
      ctx.stdout.write(`${JSON.stringify({ type: 'result', stamp: rel.stamp, tarball: rel.tarballPath, sha256: rel.tarballSha256 })}\n`);
    } else {
      println(ctx.stdout, `fixture release ${rel.stamp}: ${rel.tarballPath}`);
      println(ctx.stdout, `  sha256 ${rel.tarballSha256}`);
    }
    return 0;
  },
};
