/** `dogeos publish`: add a build to a release channel, or promote a release in it. */
import { resolve } from 'node:path';
import { usageError } from '../../core/errors.ts';
import { publishToChannel } from '../../release/channel/channel.ts';
import { type CommandSpec, parseCommandArgs, println } from '../command.ts';
import { loadConfigFor } from '../load-config.ts';

const HELP = `Usage: dogeos publish --channel DIR [--keep N] [--promote STAMP] [--url-path /PATH/] [--listen [ADDR:]PORT] [--json]

Adds the build in outDir (--out, or the config's outDir) to the release
channel DIR as <STAMP>/ (the build's DogeOS stamp): its media, platform
tarball, PXE tarball, SBOM, provenance, SHA256SUMS (+ .asc) and
build-manifest.json, the ISO also as smartos-<STAMP>.iso, index.html,
sha256sums.txt and md5sums.txt. Then 'latest', 'smartos-latest.iso' and the
directory listing name the newest release, so that SmartOS's piadm
(PIADM_URL_PREFIX=<channel URL>/), 'dogeos build --base-url <channel URL>'
and PXE servers read it like SmartOS's own download area. DIR is created
when it does not exist. Readers see a publish whole or not at all; a second
publish to the same channel waits for the first.

  --channel DIR     the channel directory (required)
  --promote STAMP   make STAMP what every reader sees as newest, without
                    publishing a build (rollback: promote the previous stamp);
                    newer releases leave the listing but stay on disk
  --keep N          keep only the newest N releases, and the promoted one
  --url-path PATH   the URL path the channel is served under (default /),
                    remembered by the channel
  --listen [A:]P    where the generated nginx site listens (default 80;
                    e.g. 127.0.0.1:8080), remembered by the channel
  --json            print the result as one JSON object

The nginx site is written to DIR/conf/nginx-site.conf.`;

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v)) throw usageError('USAGE', `publish: ${flag} must be a whole number, not '${v}'`);
  return Number(v);
}

export const command: CommandSpec = {
  name: 'publish',
  summary: 'add a build to a release channel (SmartOS layout) or promote a release',
  help: HELP,
  async run(ctx) {
    const { values } = parseCommandArgs(
      'publish',
      ctx.argv,
      {
        channel: { type: 'string' },
        promote: { type: 'string' },
        keep: { type: 'string' },
        'url-path': { type: 'string' },
        listen: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      { allowPositionals: false },
    );
    if (values.help) {
      println(ctx.stdout, HELP);
      return 0;
    }
    if (values.channel === undefined) throw usageError('USAGE', 'publish: --channel DIR is required', { hint: "see 'dogeos publish --help'" });
    const outDir = values.promote === undefined ? loadConfigFor(ctx).config.outDir : undefined;
    const r = await publishToChannel({
      channel: resolve(ctx.cwd, values.channel),
      outDir,
      promote: values.promote,
      keep: positiveInt('--keep', values.keep),
      urlPath: values['url-path'],
      listen: values.listen,
      reporter: ctx.reporter,
      signal: ctx.signal,
    });
    if (values.json || ctx.globals.json) {
      println(ctx.stdout, JSON.stringify({ type: 'result', command: 'publish', ...r }));
      return 0;
    }
    if (r.published !== undefined)
      println(ctx.stdout, r.unchanged ? `${r.published} is already in ${r.channel} (same bytes)` : `published ${r.published} to ${r.channel}`);
    println(ctx.stdout, `newest      ${r.promoted ?? '-'}`);
    println(ctx.stdout, `listed      ${r.listed.join(' ') || '-'}`);
    const withdrawn = r.releases.filter((s) => !r.listed.includes(s));
    if (withdrawn.length > 0) println(ctx.stdout, `withdrawn   ${withdrawn.join(' ')}`);
    if (r.removed.length > 0) println(ctx.stdout, `removed     ${r.removed.join(' ')}`);
    println(ctx.stdout, `nginx site  ${r.nginxSite}`);
    return 0;
  },
};
