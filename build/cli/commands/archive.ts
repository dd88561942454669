/**
 * `dogeos archive`: inspect, extract, pack and check illumos UFS images
 * (the SmartOS boot_archive and the inside of usr.lgz), without root.
 */
import { closeSync, existsSync, ftruncateSync, openSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { openLofi, parseAlgorithm } from '../../codecs/lofi/index.ts';
import { checkUfs } from '../../codecs/ufs/check.ts';
import { openUfs, type UfsImage } from '../../codecs/ufs/reader.ts';
import { writeUfsTo } from '../../codecs/ufs/writer.ts';
import { writeAtomically } from '../../core/atomic.ts';
import type { BlockDevice } from '../../core/blockdev.ts';
import { ExitStatus, usageError } from '../../core/errors.ts';
import { FileBlockDevice } from '../../core/filedev.ts';
import { readHostTree, writeHostTree } from '../../core/hosttree.ts';
import { escapeName, nameToBytes, unescapeName } from '../../core/names.ts';
import { type DirNode, walk } from '../../core/tree.ts';
import { findHoles } from '../../host/holes.ts';
import { entryJson, formatLong, listEntries, listTree } from '../archive-list.ts';
import { type CommandContext, type CommandSpec, parseCommandArgs, println } from '../command.ts';
import { formatBytes } from '../render.ts';

const HELP = `Usage: dogeos archive info|ls|cat|extract|pack|check ...

  dogeos archive info IMAGE [--json]
  dogeos archive ls IMAGE [PATH] [-l] [-R] [--json]
  dogeos archive cat IMAGE PATH
  dogeos archive extract IMAGE DIR
  dogeos archive pack DIR IMAGE --size SIZE [--inode-density BYTES] [--block-size 4096]
                                [--frag-size 1024] [--minfree PERCENT] [--time SECONDS]
  dogeos archive check IMAGE [--json]

Works on illumos (x86) UFS images such as the SmartOS boot_archive, as
newfs/mkfs would lay them out, without root, loop devices or mounts.

extract writes owners, exact modes, device nodes, FIFOs, sockets and holes
into DIR/.dogeos-meta.json (an unprivileged user cannot create them), and
pack reads that file back, so extract → pack loses nothing. Entries the
file does not describe are packed with their host mode and mtime, owned by
root (0:0).

pack: SIZE takes a mkfile-style suffix (b = 512, k, m, g), e.g. 350000k;
--inode-density is newfs -i (default 12248, the SmartOS root); the time
stamped into the superblock is --time, else SOURCE_DATE_EPOCH, else the
newest mtime in DIR.

Names are bytes: ls prints those that are not printable UTF-8 with octal
escapes as \`ls -b\` does (latin1_\\351), and ls and cat take a PATH written
that way; --json gives each entry's name (when it is UTF-8) and always
nameBase64, the same for path and target.

check exits 0 when the image is clean and 65 with the list of problems.`;

/** Opens an image for reading. The hook where a lofi-compressed .lgz will be decompressed transparently. */
/**
 * Opens an image for reading; a lofi-compressed one (usr.lgz) is read
 * through the lofi codec, segment by segment, so `archive ls usr.lgz` works.
 */
export function openImageDevice(path: string): BlockDevice & { close(): void } {
  let file: FileBlockDevice;
  try {
    file = FileBlockDevice.openRead(path);
  } catch (e) {
    throw usageError('IMAGE_NOT_FOUND', `cannot open ${path}: ${(e as Error).message}`);
  }
  const head = file.readAt(0, Math.min(48, file.sizeBytes));
  if (head.length < 48 || parseAlgorithm(head) === undefined) return file;
  try {
    const lofi = openLofi(file);
    return { sizeBytes: lofi.sizeBytes, readAt: (o, n) => lofi.readAt(o, n), writeAt: () => lofi.writeAt(), close: () => file.close() };
  } catch (e) {
    file.close();
    throw e;
  }
}

function withImage<T>(path: string, fn: (img: UfsImage, dev: BlockDevice) => T): T {
  const dev = openImageDevice(path);
  try {
    return fn(openUfs(dev), dev);
  } finally {
    dev.close();
  }
}

/**
 * A path argument as typed, or as `archive ls` printed it (ls -b escapes:
 * `latin1_\351`), since a name that is not UTF-8 cannot be typed as itself.
 */
function imagePathArg(img: UfsImage, path: string): string {
  if (!path.includes('\\') || img.lookup(path) !== undefined) return path;
  const unescaped = unescapeName(path);
  return img.lookup(unescaped) !== undefined ? unescaped : path;
}

function positionals(cmd: string, got: readonly string[], names: readonly string[], optional = 0): string[] {
  if (got.length < names.length - optional || got.length > names.length) {
    throw usageError('USAGE', `archive ${cmd}: expected ${names.join(' ')}`, { hint: "see 'dogeos archive --help'" });
  }
  return [...got];
}

function info(ctx: CommandContext, argv: readonly string[]): number {
  const { values, positionals: pos } = parseCommandArgs('archive info', argv, { json: { type: 'boolean' } });
  const [image] = positionals('info', pos, ['IMAGE']);
  const i = withImage(resolve(ctx.cwd, image!), (img) => img.info());
  if (values.json === true || ctx.globals.json) {
    println(ctx.stdout, JSON.stringify(i));
    return ExitStatus.ok;
  }
  const rows: [string, string][] = [
    ['file system', `illumos UFS (x86), ${formatBytes(i.fsSizeBytes)} (${i.totalFrags} × ${i.fragSizeBytes}-byte fragments)`],
    ['block / fragment', `${i.blockSizeBytes} / ${i.fragSizeBytes} bytes`],
    ['cylinder groups', `${i.cylinderGroups} × ${i.fragsPerGroup} fragments, ${i.inodesPerGroup} inodes each`],
    ['free space', `${formatBytes(i.freeBytes)} (${i.freeBlocks} blocks + ${i.freeFrags} fragments)`],
    ['inodes', `${i.totalInodes - i.freeInodes} used, ${i.freeInodes} free, ${i.directories} directories`],
    ['state', `${i.clean}${i.stateOk ? '' : ' (fs_state does not match fs_time: needs fsck)'}`],
    ['last written', new Date(i.timeSec * 1000).toISOString()],
    ['minfree / optimization', `${i.minfreePercent}% / ${i.optimization}`],
  ];
  for (const [k, v] of rows) println(ctx.stdout, `${k.padEnd(24)}${v}`);
  return ExitStatus.ok;
}

function ls(ctx: CommandContext, argv: readonly string[]): number {
  const { values, positionals: pos } = parseCommandArgs('archive ls', argv, {
    long: { type: 'boolean', short: 'l' },
    recursive: { type: 'boolean', short: 'R' },
    json: { type: 'boolean' },
  });
  const [image, arg = '/'] = positionals('ls', pos, ['IMAGE', 'PATH'], 1);
  withImage(resolve(ctx.cwd, image!), (img) => {
    const path = imagePathArg(img, arg);
    const st = img.stat(path);
    if (values.json === true || ctx.globals.json) {
      const name = path.split('/').filter(Boolean).pop() ?? '/';
      const out =
        st.type === 'dir'
          ? [...listEntries(img, path, values.recursive === true)].flatMap((d) => d.entries.map((e) => entryJson(img, e.st, e.name, e.path)))
          : [entryJson(img, st, name, path)];
      println(ctx.stdout, JSON.stringify(out));
      return;
    }
    if (st.type !== 'dir') {
      println(ctx.stdout, values.long === true ? formatLong(img, st, path) : escapeName(path));
      return;
    }
    for (const line of listTree(img, path, { long: values.long === true, recursive: values.recursive === true })) println(ctx.stdout, line);
  });
  return ExitStatus.ok;
}

function cat(ctx: CommandContext, argv: readonly string[]): number {
  const { positionals: pos } = parseCommandArgs('archive cat', argv, {});
  const [image, arg] = positionals('cat', pos, ['IMAGE', 'PATH']);
  withImage(resolve(ctx.cwd, image!), (img) => {
    const path = imagePathArg(img, arg!);
    const st = img.stat(path);
    if (st.type === 'symlink') {
      ctx.stdout.write(nameToBytes(img.readLink(st.ino)));
      return;
    }
    if (st.type !== 'file') throw usageError('NOT_A_FILE', `${path} is a ${st.type}, not a regular file`);
    const content = img.content(st.ino);
    for (let o = 0; o < content.sizeBytes; o += 1 << 20) ctx.stdout.write(content.read(o, Math.min(1 << 20, content.sizeBytes - o)));
  });
  return ExitStatus.ok;
}

async function extract(ctx: CommandContext, argv: readonly string[]): Promise<number> {
  const { positionals: pos } = parseCommandArgs('archive extract', argv, {});
  const [image, dir] = positionals('extract', pos, ['IMAGE', 'DIR']);
  const target = resolve(ctx.cwd, dir!);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw usageError('EXTRACT_NOT_EMPTY', `${target} exists and is not empty`, { hint: 'extract into a new or empty directory' });
  }
  const dev = openImageDevice(resolve(ctx.cwd, image!));
  try {
    const tree = openUfs(dev).readTree();
    const count = await writeAtomically(target, (tmp) => writeHostTree(tree, tmp));
    ctx.reporter.emit({ type: 'info', message: `extracted ${count} entries into ${target}`, data: { entries: count, dir: target } });
  } finally {
    dev.close();
  }
  return ExitStatus.ok;
}

/** mkfile-style sizes: plain bytes, or b (512), k, m, g (binary). */
export function parseSize(text: string): number {
  const m = /^(\d+)([bkmg]?)$/i.exec(text.trim());
  if (m === null) throw usageError('BAD_SIZE', `size '${text}' is not a number with an optional b/k/m/g suffix`);
  const mult = { '': 1, b: 512, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

function intOption(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw usageError('USAGE', `--${name} must be an integer, not '${v}'`);
  return Number(v);
}

function newestMtime(tree: DirNode): number {
  let t = 0;
  for (const e of walk(tree)) t = Math.max(t, e.node.mtime.sec);
  return t;
}

async function pack(ctx: CommandContext, argv: readonly string[]): Promise<number> {
  const { values, positionals: pos } = parseCommandArgs('archive pack', argv, {
    size: { type: 'string' },
    'inode-density': { type: 'string' },
    'block-size': { type: 'string' },
    'frag-size': { type: 'string' },
    minfree: { type: 'string' },
    time: { type: 'string' },
  });
  const [dir, image] = positionals('pack', pos, ['DIR', 'IMAGE']);
  if (values.size === undefined) throw usageError('USAGE', 'archive pack: --size is required (e.g. --size 350000k)');
  const sizeBytes = parseSize(values.size);
  const tree = readHostTree(resolve(ctx.cwd, dir!), { findHoles });
  const sde = ctx.env['SOURCE_DATE_EPOCH'];
  const timeSec = intOption('time', values.time ?? sde, newestMtime(tree));
  const target = resolve(ctx.cwd, image!);
  const summary = await writeAtomically(target, (tmp) => {
    const fd = openSync(tmp, 'w');
    ftruncateSync(fd, sizeBytes); // sparse and zero, like mkfile -n
    closeSync(fd);
    const dev = FileBlockDevice.openWrite(tmp);
    try {
      return writeUfsTo(dev, tree, {
        sizeBytes,
        bytesPerInode: intOption('inode-density', values['inode-density'], 12248),
        blockSizeBytes: intOption('block-size', values['block-size'], 4096),
        fragSizeBytes: intOption('frag-size', values['frag-size'], 1024),
        minfreePercent: intOption('minfree', values.minfree, 0),
        optimization: 'space',
        timeSec,
        reporter: ctx.reporter,
      });
    } finally {
      dev.close();
    }
  });
  const sb = summary.superblock;
  ctx.reporter.emit({
    type: 'info',
    message: `packed ${summary.inodesUsed} inodes into ${target}; ${formatBytes((sb.cstotal.nbfree * sb.frag + sb.cstotal.nffree) * sb.fsize)} free`,
    data: { image: target, inodes: summary.inodesUsed, freeBlocks: sb.cstotal.nbfree, freeFrags: sb.cstotal.nffree },
  });
  return ExitStatus.ok;
}

function check(ctx: CommandContext, argv: readonly string[]): number {
  const { values, positionals: pos } = parseCommandArgs('archive check', argv, { json: { type: 'boolean' } });
  const [image] = positionals('check', pos, ['IMAGE']);
  const dev = openImageDevice(resolve(ctx.cwd, image!));
  let problems: ReturnType<typeof checkUfs>;
  try {
    problems = checkUfs(dev);
  } finally {
    dev.close();
  }
  if (values.json === true || ctx.globals.json) println(ctx.stdout, JSON.stringify({ clean: problems.length === 0, problems }));
  else if (problems.length === 0) println(ctx.stdout, `${image}: clean`);
  else for (const p of problems) println(ctx.stdout, `${p.code} ${p.structure}@${p.offsetBytes}: ${p.message}`);
  return problems.length === 0 ? ExitStatus.ok : ExitStatus.dataErr;
}

export const command: CommandSpec = {
  name: 'archive',
  summary: 'inspect, extract, pack and check illumos UFS boot archives',
  help: HELP,
  async run(ctx) {
    const [sub, ...rest] = ctx.argv;
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      println(ctx.stdout, HELP);
      return sub === undefined ? ExitStatus.usage : ExitStatus.ok;
    }
    switch (sub) {
      case 'info':
        return info(ctx, rest);
      case 'ls':
        return ls(ctx, rest);
      case 'cat':
        return cat(ctx, rest);
      case 'extract':
        return extract(ctx, rest);
      case 'pack':
        return pack(ctx, rest);
      case 'check':
        return check(ctx, rest);
      default:
        throw usageError('USAGE', `archive: unknown subcommand '${sub}'`, { hint: "see 'dogeos archive --help'" });
    }
  },
};
