/** Public API of the illumos UFS codec (see README.md). */
// checker exported below once written
export { computeMkfsGeometry, lofiGeometry, type LofiGeometry, type MkfsOptions } from './geometry.ts';
export { openUfs, type OpenUfsOptions, UfsImage, type UfsDirEntry, type UfsInfo, type UfsStat } from './reader.ts';
export type { Superblock } from './superblock.ts';
export { type UfsWriteSummary, type WriteUfsOptions, writeUfs, writeUfsTo } from './writer.ts';
