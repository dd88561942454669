/** Public API of the illumos UFS codec (see README.md). */
export { type CheckUfsOptions, checkUfs, type UfsProblem } from './check.ts';
export { computeMkfsGeometry, type LofiGeometry, lofiGeometry, type MkfsOptions } from './geometry.ts';
export { type OpenUfsOptions, openUfs, type UfsDirEntry, UfsImage, type UfsInfo, type UfsStat } from './reader.ts';
export type { Superblock } from './superblock.ts';
export { type UfsWriteSummary, type WriteUfsOptions, writeUfs, writeUfsTo } from './writer.ts';
