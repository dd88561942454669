/**
 * Layering of build/ (STYLE.md "Layout", extended by issue 17), checked by
 * dependency-cruiser in `make lint`. Imports point down:
 *
 *   cli → pipeline → release → stages | pxe-lab → media | qemu | fetch → config → firstboot | codecs | host → core
 *
 * A module may import its own layer and any layer below; not a layer above,
 * not a sibling (media must not import qemu; codecs must not import host).
 * No cycles. Type-only imports count (tsPreCompilationDeps): a type is a
 * dependency too. test/unit/layering.test.ts shows each rule failing on a
 * planted import.
 *
 * Where the config and the two later rooms sit, and why:
 * - build/config/ (the schema, its loader, the problem formatter) takes the
 *   defaults the first-boot runtime owns from build/firstboot/keys.ts (each
 *   default stated once), so it sits above firstboot; everything that reads
 *   the config is above it.
 * - build/release/ (the build's records: SHA256SUMS, SBOM, provenance; and
 *   the release channel `dogeos publish` writes) reads what the stages made
 *   (PayloadResult, ComposeReport) and the release-server layout acquire
 *   reads (stages/acquire/layout.ts), so it sits above stages; the pipeline
 *   and the CLI call it.
 * - build/media/pxe/lab/ (the PXE lab: real dnsmasq/nginx in namespaces and
 *   QEMU nodes booting the PXE bundle) uses both the PXE target and QEMU, so
 *   it is its own layer above media and qemu, a sibling of stages (no stage
 *   runs the lab; only `dogeos pxe lab` and the bench do). Nothing in media
 *   may import it: the media layer's path leaves it out.
 */
const LAYERS = [
  ['core'],
  ['firstboot', 'codecs', 'host'],
  ['config'],
  ['media', 'qemu', 'fetch'],
  ['stages', 'pxe-lab'],
  ['release'],
  ['pipeline'],
  ['cli'],
];

/** Path patterns of the layers that are not simply build/<name>/. */
const PATHS = {
  pipeline: { path: '^build/pipeline(\\.ts$|/)' },
  'pxe-lab': { path: '^build/media/pxe/lab/' },
  media: { path: '^build/media/', pathNot: '^build/media/pxe/lab/' },
};

/**
 * Documented exceptions to stages-no-media-internals, each as narrow as it
 * can be: the module, what it may import, and what removes the exception.
 */
const MEDIA_INTERNAL_EXCEPTIONS = [
  {
    // The preflight checks the PXE hosts file before any work starts, with
    // the PXE target's hosts schema and host type. The schema stays with the
    // target: its checks use the target's network parser (pxe/net.ts) and the
    // unattended-answers rules (media/answers-rules.ts), which build/config/
    // may not import; it shares the config's problem formatter instead
    // (build/config/problems.ts).
    from: '^build/stages/preflight\\.ts$',
    to: ['^build/media/pxe/hosts\\.ts$', '^build/media/pxe/types\\.ts$'],
  },
];

/** Path pattern(s) of one layer's modules: { path, pathNot? }. */
function pathOf(name) {
  return PATHS[name] ?? { path: `^build/${name}/` };
}

function layerRules() {
  const rules = [];
  LAYERS.forEach((layer, rank) => {
    for (const name of layer) {
      const forbidden = [...layer.filter((n) => n !== name), ...LAYERS.slice(rank + 1).flat()];
      if (forbidden.length === 0) continue;
      const from = pathOf(name);
      rules.push({
        name: `layer-${name}`,
        comment: `${name} may import only ${[name, ...LAYERS.slice(0, rank).flat()].join(', ')}`,
        severity: 'error',
        from,
        to: { path: forbidden.map((n) => pathOf(n).path) },
      });
    }
  });
  return rules;
}

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'no import cycles, of any length',
      severity: 'error',
      from: { path: '^build/' },
      to: { circular: true },
    },
    {
      name: 'codecs-only-core',
      comment: 'codecs are pure format code: they import only core (and node:zlib), never node:fs or child_process',
      severity: 'error',
      from: { path: '^build/codecs/' },
      to: { pathNot: ['^build/codecs/', '^build/core/', '^zlib$', '^node:zlib$'] },
    },
    {
      name: 'stages-no-media-internals',
      comment: "stages may use media's shared modules (answers, usblayout, …), not a target's internals (media/pxe/, media/grub/)",
      severity: 'error',
      from: { path: '^build/stages/', pathNot: MEDIA_INTERNAL_EXCEPTIONS.map((e) => e.from) },
      to: { path: '^build/media/(pxe|grub)/' },
    },
    {
      name: 'stages-no-media-internals-exceptions',
      comment: 'the documented exceptions reach only the one module each is allowed',
      severity: 'error',
      from: { path: MEDIA_INTERNAL_EXCEPTIONS.map((e) => e.from) },
      to: { path: '^build/media/(pxe|grub)/', pathNot: MEDIA_INTERNAL_EXCEPTIONS.flatMap((e) => e.to) },
    },
    ...layerRules(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
