/**
 * One stage per medium (ISO, USB, PXE), each cached on the sealed platform,
 * the payload, the answers, the loader and its own settings. The table maps
 * the build context onto each target's input; the recipe only names formats.
 */
import { join } from 'node:path';
import type { BuildConfig } from '../config/schema.ts';
import { hashBytes } from '../core/hash.ts';
import { isoTarget } from '../media/iso.ts';
import { slash24Of } from '../media/pxe/services.ts';
import { pxeTarget } from '../media/pxe/target.ts';
import type { Incremental, MediaInput } from '../media/target.ts';
import { usbTarget } from '../media/usb.ts';
import type { SpareResult, StageOutcome } from '../stages/cache.ts';
import { digestDir } from '../stages/digest-tree.ts';
import type { PayloadResult } from '../stages/payload.ts';
import { type SealedOutcome, sealedPlatform } from './compose-seal.ts';
import type { BuildContext, Stage } from './context.ts';
import { type ProducedFile, producedFile } from './produced.ts';

export type MediaFormat = BuildConfig['media']['formats'][number];

/** What the media stages take from the stages before them. */
export interface MediaUpstream {
  readonly sealed: StageOutcome<SealedOutcome>;
  readonly payload: StageOutcome<PayloadResult>;
  /** /private/answers.json (USB, ISO), when the config asks for it. */
  readonly answersJson: Uint8Array | undefined;
}

function bootOf(config: BuildConfig) {
  return { console: config.console.device, serialSpeed: config.console.serialSpeed, bootProps: config.boot.properties, timeoutSec: config.boot.timeoutSec };
}

function dirs(up: MediaUpstream) {
  const sealed = sealedPlatform(up.sealed);
  return { sealed, platformDir: sealed.dir, payloadDir: join(up.payload.dir, up.payload.result.payloadDir) };
}

/** ISO and USB take one MediaInput; PXE its hosts and server besides. */
function buildMedium(format: MediaFormat, ctx: BuildContext, up: MediaUpstream, dir: string, previousDir: string | undefined, spare: SpareResult | undefined) {
  // Stage directories record what the next build may reuse (media/target.ts MediaInput.incremental).
  const toolMemoDir = join(ctx.config.workDir, 'derived', 'tools');
  const incremental: Incremental = {
    toolMemoDir,
    builderCode: ctx.code,
    ...(previousDir === undefined ? {} : { previousDir }),
    ...(spare === undefined ? {} : { spare }),
  };
  const { config, reporter, signal } = ctx;
  const boot = bootOf(config);
  const { sealed, platformDir, payloadDir } = dirs(up);
  if (format === 'pxe') {
    const pxe = config.media.pxe;
    return pxeTarget.build(
      {
        platformDir,
        sealed,
        payloadDir,
        version: ctx.version,
        stamp: ctx.stamp,
        sourceDateEpoch: ctx.timeSec,
        console: boot.console,
        serialSpeed: boot.serialSpeed,
        bootProps: boot.bootProps,
        hosts: ctx.hosts,
        server: { ip: pxe.serverIp, subnet: slash24Of(pxe.serverIp), httpPort: pxe.httpPort },
        ...(pxe.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: pxe.maxPayloadBytes }),
        incremental,
        // The pipeline records files only (pipeline/produced.ts): the tree's digest would be thrown away.
        treeDigest: false,
        reporter,
        signal,
      },
      dir,
    );
  }
  const input: MediaInput = {
    platformDir,
    sealed,
    payloadDir,
    version: ctx.version,
    stamp: ctx.stamp,
    ...(ctx.acquired.loaderDir === undefined ? {} : { loaderDir: ctx.acquired.loaderDir }),
    sourceDateEpoch: ctx.timeSec,
    boot,
    ...(up.answersJson === undefined ? {} : { answersJson: up.answersJson }),
    usb: config.media.usb,
    incremental,
    reporter,
    signal,
  };
  return (format === 'iso' ? isoTarget : usbTarget).build(input, dir);
}

/** The stage that writes one medium. */
export function mediaStage(format: MediaFormat, up: MediaUpstream): Stage<ProducedFile[]> {
  return {
    name: `media-${format}`,
    key(ctx) {
      const { config } = ctx;
      return {
        sealed: up.sealed.digest,
        payload: up.payload.digest,
        answers: up.answersJson === undefined ? null : hashBytes('sha256', up.answersJson),
        loader: ctx.acquired.loaderDir === undefined ? null : digestDir(ctx.acquired.loaderDir),
        boot: bootOf(config),
        usb: format === 'usb' ? config.media.usb : null,
        pxe: format === 'pxe' ? { hosts: ctx.hosts, p: config.media.pxe } : null,
        version: ctx.version,
        timeSec: ctx.timeSec,
        code: ctx.code,
      };
    },
    async run(ctx, dir, previous, spare) {
      const artifacts = await buildMedium(format, ctx, up, dir, previous?.dir, spare);
      return artifacts.map((a) => producedFile(a.path, a.sha256));
    },
  };
}
