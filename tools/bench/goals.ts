/**
 * What `make bench` compares, and the goals it checks (the issue "make
 * bench: measure the whole build against reference tools and the I/O
 * floor"). Figure ids name a step and who ran it.
 */
import type { GoalDef, RatioDef } from './stats.ts';

export const GIB = 1024 ** 3;

export const RATIOS: readonly RatioDef[] = [
  {
    id: 'ufs-pack/makefs',
    label: 'UFS pack ÷ makefs -t ffs',
    numerator: 'ufs-pack.dogeos',
    denominator: 'ufs-pack.makefs',
    numeratorBasis: 'op',
    denominatorBasis: 'wall',
  },
  {
    id: 'ufs-pack/mke2fs',
    label: 'UFS pack ÷ mke2fs -d',
    numerator: 'ufs-pack.dogeos',
    denominator: 'ufs-pack.mke2fs',
    numeratorBasis: 'op',
    denominatorBasis: 'wall',
  },
  {
    id: 'ufs-read/host',
    label: 'UFS read ÷ host page cache read',
    numerator: 'ufs-read.dogeos',
    denominator: 'ufs-read.host',
    numeratorBasis: 'op',
    denominatorBasis: 'op',
  },
  {
    id: 'lofi-pack/pigz',
    label: 'lofi pack ÷ pigz -6',
    numerator: 'lofi-pack.dogeos',
    denominator: 'lofi-pack.pigz',
    numeratorBasis: 'op',
    denominatorBasis: 'wall',
  },
  {
    id: 'lofi-pack/gzip',
    label: 'lofi pack ÷ gzip -6',
    numerator: 'lofi-pack.dogeos',
    denominator: 'lofi-pack.gzip',
    numeratorBasis: 'op',
    denominatorBasis: 'wall',
  },
  {
    id: 'build-warm/floor',
    label: 'warm full build ÷ I/O floor',
    numerator: 'build.warm',
    denominator: 'io-floor',
    numeratorBasis: 'wall',
    denominatorBasis: 'wall-min',
  },
  {
    id: 'build-cold/floor',
    label: 'cold full build ÷ I/O floor',
    numerator: 'build.cold',
    denominator: 'io-floor',
    numeratorBasis: 'wall',
    denominatorBasis: 'wall-min',
  },
  {
    id: 'incremental/warm',
    label: 'incremental ÷ warm full build',
    numerator: 'build.incremental',
    denominator: 'build.warm',
    numeratorBasis: 'wall',
    denominatorBasis: 'wall',
  },
  {
    id: 'incremental-again/warm',
    label: 'third edit in a row ÷ warm full build',
    numerator: 'build.incremental-again',
    denominator: 'build.warm',
    numeratorBasis: 'wall',
    denominatorBasis: 'wall',
  },
  {
    id: 'noop/warm',
    label: 'no-op rebuild ÷ warm full build',
    numerator: 'build.noop',
    denominator: 'build.warm',
    numeratorBasis: 'wall',
    denominatorBasis: 'wall',
  },
  {
    id: 'matrix/serial',
    label: 'boot matrix in parallel ÷ serially',
    numerator: 'matrix.parallel',
    denominator: 'matrix.serial',
    numeratorBasis: 'wall',
    denominatorBasis: 'wall',
  },
];

export const BUILD_FIGURES = ['build.cold', 'build.warm', 'build.noop', 'build.incremental', 'build.incremental-again'] as const;

export const GOALS: readonly GoalDef[] = [
  { id: 'ufs-pack', label: 'UFS pack ≤ 1.0× makefs', kind: 'ratio', ratio: 'ufs-pack/makefs', max: 1.0 },
  { id: 'lofi-pack', label: 'lofi pack ≤ 1.0× pigz -6 (same threads)', kind: 'ratio', ratio: 'lofi-pack/pigz', max: 1.0 },
  { id: 'warm-build', label: 'warm full build ≤ 5× the stable I/O floor', kind: 'ratio', ratio: 'build-warm/floor', max: 5.0 },
  { id: 'incremental', label: 'edit one overlay file → all media ≤ 0.15× warm full build', kind: 'ratio', ratio: 'incremental/warm', max: 0.15 },
  { id: 'noop', label: 'no-op rebuild ≤ 0.05× warm full build', kind: 'ratio', ratio: 'noop/warm', max: 0.05 },
  { id: 'matrix', label: 'boot matrix in parallel ≤ 0.6× serially', kind: 'ratio', ratio: 'matrix/serial', max: 0.6 },
  { id: 'build-rss', label: 'peak RSS of the build ≤ 1.5 GiB', kind: 'peak-rss', figures: BUILD_FIGURES, maxBytes: 1.5 * GIB },
];
