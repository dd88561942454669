/**
 * The FiFo zone's base image: an IMGAPI manifest (JSON: `uuid`, `files[0]`
 * with `sha1`, `size`, `compression`) and the image file, installed on the
 * node with `imgadm install -m <manifest> -f <file>`. imgadm checks the
 * file's size and SHA-1 against the manifest, so we check them here first:
 * a mismatch is a build error, not a failed first boot.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { type CodeWithStatus, dataError } from '../../core/errors.ts';

/** Image file extension per IMGAPI `files[0].compression`. */
const EXTENSIONS: Readonly<Record<string, string>> = { gzip: '.zfs.gz', bzip2: '.zfs.bz2', xz: '.zfs.xz', none: '.zfs' };
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ImageInfo {
  readonly uuid: string;
  readonly name: string | undefined;
  readonly version: string | undefined;
  /** `images/<uuid>.imgmanifest` */
  readonly manifestFile: string;
  /** `images/<uuid>.zfs.gz` (extension per the manifest's compression) */
  readonly imageFile: string;
}

function manifestError(file: string, code: CodeWithStatus<'dataErr'>, why: string): Error {
  return dataError(code, `${file}: ${why}`, {
    hint: 'fifo.baseImage.manifest must be the IMGAPI manifest of fifo.baseImage (as `imgadm get` or IMGAPI serve it)',
    details: { file },
  });
}

async function sha1Of(path: string): Promise<string> {
  const h = createHash('sha1');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

/** Parses the manifest and checks the image file against it. */
export async function inspectImage(a: { manifestPath: string; manifestName: string; imagePath: string; imageName: string }): Promise<ImageInfo> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(a.manifestPath, 'utf8'));
  } catch (e) {
    throw manifestError(a.manifestName, 'IMAGE_MANIFEST_INVALID', `is not JSON (${(e as Error).message})`);
  }
  const m = doc as { uuid?: unknown; name?: unknown; version?: unknown; files?: unknown };
  if (typeof m !== 'object' || m === null || typeof m.uuid !== 'string' || !UUID_RE.test(m.uuid)) {
    throw manifestError(a.manifestName, 'IMAGE_MANIFEST_INVALID', 'has no lowercase "uuid"');
  }
  const f = (Array.isArray(m.files) ? m.files[0] : undefined) as { sha1?: unknown; size?: unknown; compression?: unknown } | undefined;
  const ext = typeof f?.compression === 'string' ? EXTENSIONS[f.compression] : undefined;
  if (f === undefined || ext === undefined || typeof f.sha1 !== 'string' || typeof f.size !== 'number') {
    throw manifestError(a.manifestName, 'IMAGE_MANIFEST_INVALID', `files[0] must give compression (${Object.keys(EXTENSIONS).join(', ')}), sha1 and size`);
  }
  const sizeBytes = (await stat(a.imagePath)).size;
  if (f.size !== sizeBytes) {
    throw manifestError(a.manifestName, 'IMAGE_MANIFEST_MISMATCH', `files[0].size is ${f.size}, but ${a.imageName} has ${sizeBytes} bytes`);
  }
  const actual = await sha1Of(a.imagePath);
  if (actual !== f.sha1.toLowerCase()) {
    throw manifestError(a.manifestName, 'IMAGE_MANIFEST_MISMATCH', `files[0].sha1 is ${f.sha1}, but ${a.imageName} has SHA-1 ${actual}`);
  }
  return {
    uuid: m.uuid,
    name: typeof m.name === 'string' ? m.name : undefined,
    version: typeof m.version === 'string' ? m.version : undefined,
    manifestFile: `images/${m.uuid}.imgmanifest`,
    imageFile: `images/${m.uuid}${ext}`,
  };
}
