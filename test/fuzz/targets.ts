/**
 * Fuzz targets: a valid base input, the structure fields worth aiming at,
 * and a run that must end in success or a DogeError. Runs inside the fuzz
 * worker (worker.ts), one input at a time.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { lofiInfo, openLofi, packLofi, unpackLofi } from '../../build/codecs/lofi/index.ts';
import { checkUfs } from '../../build/codecs/ufs/check.ts';
import { cgtod } from '../../build/codecs/ufs/geometry.ts';
import { openUfs, type UfsImage } from '../../build/codecs/ufs/reader.ts';
import { writeUfs } from '../../build/codecs/ufs/writer.ts';
import { type BlockDevice, MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { isDogeError } from '../../build/core/errors.ts';
import { type DirNode, makeDevice, makeDir, makeFile, makeSpecial, makeSymlink, put, walk } from '../../build/core/tree.ts';
import { unpackPlatform } from '../../build/stages/acquire/unpack.ts';
import { encodeTar } from '../../tools/fixture/ustar.ts';
import { miniPlatformEntries } from '../bad-inputs/env.ts';
import { type Field, type Mutation, mutate, type Rng } from './mutate.ts';

export interface FuzzTarget {
  readonly name: string;
  /** Builds the base input; returns what later mutations start from. */
  init(scratchDir: string): Promise<void>;
  /** The unmutated input (must run 'ok'). */
  base(): Uint8Array;
  input(rng: Rng): Mutation;
  /** 'ok' or the DogeError code; anything else thrown is a crash. */
  run(bytes: Uint8Array): Promise<string>;
}

/** Any DogeError is an acceptable end; anything else propagates as a crash. */
function outcome(e: unknown): string {
  if (isDogeError(e)) return e.code;
  throw e;
}

/** Deterministic bytes (not ../helpers/ufs-trees.ts: it loads fast-check, a second of start-up per worker). */
function pattern(sizeBytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(sizeBytes);
  for (let i = 0; i < sizeBytes; i++) out[i] = (i * 31 + seed) & 255;
  return out;
}

function ufsTree(): DirNode {
  const root = makeDir();
  const hl = makeFile('hard link');
  put(root, 'etc/passwd', makeFile('root:x:0:0::/root:/bin/sh\n'));
  put(root, 'etc/big', makeFile(pattern(70000, 1))); // single indirect
  put(root, 'etc/hl1', hl);
  put(root, 'var/hl2', hl);
  put(root, 'var/empty', makeFile(''));
  put(root, 'bin', makeSymlink('./usr/bin'));
  put(root, 'usr/lib/long-link', makeSymlink(`/${'x'.repeat(120)}`)); // stored in a block
  put(root, 'dev/null', makeDevice('chardev', { major: 13, minor: 2 }));
  put(root, 'etc/initpipe', makeSpecial('fifo'));
  for (let i = 0; i < 40; i++) put(root, `usr/share/f${i}`, makeFile(pattern(100 + i * 97, i)));
  return root;
}

/** Reads everything a consumer would: the tree, every file's mapped extents in bounded chunks. */
function readAllOf(dev: BlockDevice): void {
  const tree = openUfs(dev).readTree();
  for (const e of walk(tree)) {
    if (e.node.type !== 'file') continue;
    const c = e.node.content;
    for (const x of c.extents?.() ?? [{ offsetBytes: 0, lengthBytes: c.sizeBytes }]) {
      for (let o = x.offsetBytes; o < x.offsetBytes + x.lengthBytes; o += 1 << 20) c.read(o, Math.min(1 << 20, x.offsetBytes + x.lengthBytes - o));
    }
  }
}

/** Superblock, every cylinder-group header, the used inodes, directory entries, the first indirect block. */
function ufsFields(img: Uint8Array, ref: UfsImage): Field[] {
  const sb = ref.superblock;
  const out: Field[] = [];
  for (let o = 0; o < 1380; o += 4) out.push({ offset: 8192 + o, width: 4, what: `superblock+${o}` });
  for (let c = 0; c < sb.ncg; c++) {
    const base = cgtod(sb, c) * sb.fsize;
    for (let o = 0; o < 172; o += 4) out.push({ offset: base + o, width: 4, what: `cg${c}+${o}` });
  }
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  for (let ino = 2; ino < 60; ino++) {
    const off = ref.inodeOffset(ino);
    if (dv.getUint16(off, true) === 0) continue;
    out.push({ offset: off, width: 2, what: `inode ${ino} mode` }, { offset: off + 2, width: 2, what: `inode ${ino} nlink` });
    out.push({ offset: off + 8, width: 8, what: `inode ${ino} size` }, { offset: off + 104, width: 4, what: `inode ${ino} blocks` });
    for (let p = 0; p < 15; p++) out.push({ offset: off + 40 + p * 4, width: 4, what: `inode ${ino} ${p < 12 ? `db[${p}]` : `ib[${p - 12}]`}` });
    const mode = dv.getUint16(off, true);
    if ((mode & 0o170000) === 0o040000) {
      // Directory entries of the first block: ino, reclen, namlen.
      const data = dv.getInt32(off + 40, true) * sb.fsize;
      for (let pos = data, n = 0; pos < data + 512 && n < 40; n++) {
        const reclen = dv.getUint16(pos + 4, true);
        out.push(
          { offset: pos, width: 4, what: `dirent@${pos} ino` },
          { offset: pos + 4, width: 2, what: `dirent@${pos} reclen` },
          { offset: pos + 6, width: 2, what: `dirent@${pos} namlen` },
        );
        if (reclen === 0) break;
        pos += reclen;
      }
    }
  }
  const big = ref.inodeOffset(ref.lookup('/etc/big')!);
  const ind = dv.getInt32(big + 88, true) * sb.fsize;
  for (let i = 0; i < 8; i++) out.push({ offset: ind + i * 4, width: 4, what: `indirect[${i}]` });
  return out;
}

export function ufsTarget(): FuzzTarget {
  let base: Uint8Array = new Uint8Array(0);
  let fields: Field[] = [];
  return {
    name: 'ufs',
    async init() {
      // Two cylinder groups, 320 inodes: small enough for thousands of runs.
      base = writeUfs(ufsTree(), { sizeBytes: 6 << 20, bytesPerInode: 32768, timeSec: 1700000000 });
      fields = ufsFields(base, openUfs(new MemoryBlockDevice(base)));
    },
    base: () => base,
    input: (rng) => mutate(base, rng, fields, { minLength: 8192 }),
    async run(bytes) {
      let result = 'ok';
      try {
        readAllOf(new MemoryBlockDevice(bytes));
      } catch (e) {
        result = outcome(e);
      }
      // The checker never throws: it lists problems.
      const problems = checkUfs(new MemoryBlockDevice(bytes));
      if (!Array.isArray(problems)) throw new Error('checkUfs did not return a list');
      return result;
    },
  };
}

/** lofi header and index fields (big-endian), and each segment's type byte. */
function lofiFields(img: Uint8Array): Field[] {
  const out: Field[] = [
    { offset: 36, width: 4, what: 'segment size', bigEndian: true },
    { offset: 40, width: 4, what: 'index count', bigEndian: true },
    { offset: 44, width: 4, what: 'last segment size', bigEndian: true },
  ];
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const count = dv.getUint32(40);
  const data = 48 + count * 8;
  for (let i = 0; i < count; i++) {
    out.push({ offset: 48 + i * 8, width: 8, what: `index[${i}]`, bigEndian: true });
    if (i < count - 1) out.push({ offset: data + Number(dv.getBigUint64(48 + i * 8)), width: 1, what: `segment ${i} type` });
  }
  return out;
}

export function lofiTarget(): FuzzTarget {
  let base: Uint8Array = new Uint8Array(0);
  let fields: Field[] = [];
  return {
    name: 'lofi',
    async init() {
      // A lofi image holding a UFS, like /usr.lgz: the reader stack is lofi → UFS.
      const ufs = writeUfs(ufsTree(), { sizeBytes: 2 << 20, bytesPerInode: 8192, timeSec: 1700000000 });
      base = await packLofi(ufs, { segmentSizeBytes: 16384 });
      fields = lofiFields(base);
    },
    base: () => base,
    input: (rng) => mutate(base, rng, fields),
    async run(bytes) {
      try {
        lofiInfo(bytes);
        unpackLofi(bytes);
        readAllOf(openLofi(bytes));
        return 'ok';
      } catch (e) {
        return outcome(e);
      }
    },
  };
}

const TAR_STRINGS: Record<string, readonly string[]> = {
  name: [
    '../../evil',
    '/etc/evil',
    'platform-20250724T001011Z/../x',
    'platform-20250724T001011Z/i86pc/../../x',
    '',
    'platform-20250724T001011Z/i86pc/amd64/boot_archive',
  ],
  size: ['77777777777', '00000000000', '1', '-1', '\0', '7777777777777777'],
  typeflag: ['0', '1', '2', '3', '4', '5', '6', '7', 'L', 'K', 'x', 'g', 'S', 'V', '\0'],
  linkname: ['..', '/etc/passwd', '../../../etc/shadow', 'platform-20250724T001011Z/root.password', 'i86pc'],
  mode: ['7777777', '0000000', '4755'],
};
const TAR_FIELD_AT: Record<string, [number, number]> = { name: [0, 100], mode: [100, 8], size: [124, 12], typeflag: [156, 1], linkname: [157, 100] };

function fixChecksum(tar: Uint8Array, header: number): void {
  tar.fill(0x20, header + 148, header + 156);
  let sum = 0;
  for (let i = header; i < header + 512; i++) sum += tar[i]!;
  tar.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), header + 148);
}

/** Header offsets of a tar made by encodeTar. */
function headerOffsets(tar: Uint8Array): number[] {
  const out: number[] = [];
  for (let off = 0; off + 512 <= tar.length; ) {
    if (tar[off] === 0) break;
    out.push(off);
    const size = Number.parseInt(new TextDecoder().decode(tar.subarray(off + 124, off + 135)), 8) || 0;
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

export function tarTarget(): FuzzTarget {
  let tar: Uint8Array = new Uint8Array(0);
  let headers: number[] = [];
  let scratch = '';
  let n = 0;
  return {
    name: 'tar',
    async init(scratchDir) {
      tar = encodeTar(miniPlatformEntries());
      headers = headerOffsets(tar);
      scratch = scratchDir;
    },
    base: () => gzipSync(tar),
    input(rng) {
      // Mostly structural changes to the tar (checksum fixed so they reach the extractor), sometimes raw gzip damage.
      if (rng.chance(0.15)) {
        const m = mutate(gzipSync(tar), rng, []);
        return { bytes: m.bytes, steps: ['gzip bytes:', ...m.steps] };
      }
      const t = tar.slice();
      const steps: string[] = [];
      for (let i = 0, k = 1 + rng.below(3); i < k; i++) {
        const h = rng.pick(headers);
        const field = rng.pick(Object.keys(TAR_FIELD_AT));
        const [at, len] = TAR_FIELD_AT[field]!;
        const value = rng.pick(TAR_STRINGS[field]!);
        t.fill(0, h + at, h + at + len);
        t.set(new TextEncoder().encode(value).subarray(0, len), h + at);
        steps.push(`header@${h} ${field} = ${JSON.stringify(value)}`);
        if (rng.chance(0.85)) fixChecksum(t, h);
      }
      const m = rng.chance(0.3) ? mutate(t, rng, []) : { bytes: t, steps: [] };
      return { bytes: gzipSync(m.bytes), steps: [...steps, ...m.steps] };
    },
    async run(bytes) {
      const root = join(scratch, `in${n++}`);
      mkdirSync(root);
      try {
        const tgz = join(root, 'platform-release-20250724-20250724T001011Z.tgz');
        writeFileSync(tgz, bytes);
        let result = 'ok';
        try {
          await unpackPlatform({ artifactPath: tgz, kind: 'tarball', workDir: join(root, 'work'), expectedStamp: '20250724T001011Z' });
        } catch (e) {
          result = outcome(e);
        }
        // Nothing lands outside the work directory, and a failed unpack leaves nothing behind in it.
        const top = readdirSync(root).sort();
        if (top.join() !== ['platform-release-20250724-20250724T001011Z.tgz', 'work'].join())
          throw new Error(`unpack wrote outside its directory: ${top.join(', ')}`);
        const work = readdirSync(join(root, 'work'));
        if (work.join() !== (result === 'ok' ? 'platform' : '')) throw new Error(`left in the work directory after '${result}': ${work.join(', ')}`);
        return result;
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

export const TARGETS: Record<string, () => FuzzTarget> = { ufs: ufsTarget, lofi: lofiTarget, tar: tarTarget };
