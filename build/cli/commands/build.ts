import { resolve } from 'node:path';
import type { ConfigOverrides } from '../../config/load.ts';
import { runBuild } from '../../pipeline.ts';
import { type CommandSpec, parseCommandArgs, println } from '../command.ts';
import { loadConfigFor } from '../load-config.ts';
import { formatBytes } from '../render.ts';

export const command: CommandSpec = {
  name: 'build',
  summary: 'build DogeOS media (ISO, USB image, PXE bundle) from a SmartOS platform',
  help: `Usage: dogeos build [--platform STAMP|latest|URL|PATH] [--base-url URL] [--media iso,usb,pxe] [--explain]

Runs the whole pipeline: acquire (download, verify, cache, unpack) → compose
(overlays, SMF manifests, first-boot configuration) → seal (new boot
archive, .hash, .manifest, platform tarball) → media (ISO, USB image, PXE
bundle) → collect (SHA256SUMS, build-manifest.json, SBOM). Outputs go to
outDir (--out). Stages whose inputs did not change are skipped; after an
edit the others rebuild from their last result (README "Rebuilds").

Options:
  --platform SRC   release stamp, "latest", a URL, or a local .tgz/.iso/.img(.gz)
  --base-url URL   download base (a mirror of the SmartOS download host)
  --media LIST     which media to build, comma-separated (default: iso,usb,pxe)
  --explain        say why each stage ran or was skipped

Environment:
  DOGEOS_ROOT_PASSWORD        root password; stored only as a SHA-512 crypt hash
  DOGEOS_FIFO_ADMIN_PASSWORD  refused (config error): the head node makes its own
  SOURCE_DATE_EPOCH           timestamps in every output
`,
  async run(ctx) {
    const { values } = parseCommandArgs(
      'build',
      ctx.argv,
      {
        platform: { type: 'string' },
        'base-url': { type: 'string' },
        media: { type: 'string' },
        explain: { type: 'boolean' },
      },
      { allowPositionals: false },
    );
    const platform: Record<string, string> = {};
    if (values.platform !== undefined) {
      const p = values.platform;
      platform['source'] = /^(latest|\d{8}T\d{6}Z|https?:\/\/.*)$/.test(p) ? p : resolve(ctx.cwd, p);
    }
    if (values['base-url'] !== undefined) platform['baseUrl'] = values['base-url'];
    const overrides: ConfigOverrides = {
      ...(Object.keys(platform).length > 0 ? { platform } : {}),
      ...(values.media === undefined
        ? {}
        : {
            media: {
              formats: values.media
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            },
          }),
    };
    const { config } = loadConfigFor(ctx, overrides);
    const result = await runBuild({ config, reporter: ctx.reporter, signal: ctx.signal, env: ctx.env, cwd: ctx.cwd, offline: ctx.globals.offline });
    if (ctx.globals.json) {
      ctx.stdout.write(
        `${JSON.stringify({ type: 'result', version: result.version, stamp: result.stamp, upstreamStamp: result.upstreamStamp, outDir: result.outDir, outputs: result.outputs, stages: result.stages })}\n`,
      );
      return 0;
    }
    if (values.explain === true) {
      println(ctx.stdout, 'Stages:');
      for (const s of result.stages) println(ctx.stdout, `  ${s.stage.padEnd(14)} ${s.ran ? 'ran    ' : 'skipped'}  ${s.reason}`);
    }
    println(ctx.stdout, `DogeOS ${result.version} (platform ${result.stamp}, from SmartOS ${result.upstreamStamp}) in ${result.outDir}:`);
    for (const o of result.outputs) println(ctx.stdout, `  ${o.name}  ${formatBytes(o.sizeBytes)}  sha256 ${o.sha256}`);
    println(ctx.stdout, `  SHA256SUMS, build-manifest.json`);
    return 0;
  },
};
