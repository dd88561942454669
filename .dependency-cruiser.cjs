/**
 * Layering of build/ (STYLE.md "Layout", extended by issue 17), checked by
 * dependency-cruiser in `make lint`. Imports point down:
 *
 *   cli → pipeline → stages → media | qemu | fetch → firstboot | codecs | host | config → core
 *
 * A module may import its own layer and any layer below; not a layer above,
 * not a sibling (media must not import qemu; codecs must not import host).
 * No cycles. Type-only imports count (tsPreCompilationDeps): a type is a
 * dependency too. test/unit/layering.test.ts shows each rule failing on a
 * planted import.
 */
const LAYERS = [
  ['core'],
  ['firstboot', 'codecs', 'host', 'config'],
  ['media', 'qemu', 'fetch'],
  ['stages'],
  ['pipeline'],
  ['cli'],
];

/** Path pattern of one layer's modules. */
function pathOf(name) {
  return name === 'pipeline' ? '^build/pipeline\\.ts$' : `^build/${name}/`;
}

/** Exceptions, each narrow and documented: from → to, why, and what removes it. */
const EXCEPTIONS = [];

function layerRules() {
  const rules = [];
  LAYERS.forEach((layer, rank) => {
    for (const name of layer) {
      const forbidden = [
        ...layer.filter((n) => n !== name),
        ...LAYERS.slice(rank + 1).flat(),
      ];
      if (forbidden.length === 0) continue;
      rules.push({
        name: `layer-${name}`,
        comment: `${name} may import only ${[name, ...LAYERS.slice(0, rank).flat()].join(', ')}`,
        severity: 'error',
        from: { path: pathOf(name), pathNot: EXCEPTIONS.filter((e) => e.layer === name).map((e) => e.from) },
        to: { path: forbidden.map(pathOf), pathNot: EXCEPTIONS.filter((e) => e.layer === name).map((e) => e.to) },
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
    ...layerRules(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
