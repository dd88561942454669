/**
 * The small UFS image the corruption tests damage (test/codecs/ufs-corrupt,
 * the bad-input corpus): a 70000-byte file (single indirect block), a tiny
 * one, a nested directory, a hard link pair and a symlink, in an 8 MiB
 * image. One definition, so both suites patch the same structures.
 */
import { writeUfs } from '../../build/codecs/ufs/writer.ts';
import { type DirNode, makeDir, makeFile, makeSymlink, put } from '../../build/core/tree.ts';
import { noise } from './noise.ts';

export function baseUfsTree(): DirNode {
  const root = makeDir();
  const hl = makeFile('hard');
  put(root, 'd/f1', makeFile(noise(70000, 3)));
  put(root, 'd/small', makeFile('tiny'));
  put(root, 'd/sub/deeper', makeFile('x'));
  put(root, 'd/h2', hl);
  put(root, 'h1', hl);
  put(root, 'link', makeSymlink('d/f1'));
  return root;
}

export function baseUfsImage(): Uint8Array {
  return writeUfs(baseUfsTree(), { sizeBytes: 8 << 20, bytesPerInode: 8192, timeSec: 1700000000 });
}
