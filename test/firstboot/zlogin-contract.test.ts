/**
 * fifo_zlogin's contract (zlogin-contract.ts quotes project-fifo's lines):
 * the build (build/stages/payload/zlogin.ts) and the runtime
 * (overlays/dogeos/dogeos/lib/zlogin.sh, read under bash and ksh93) know
 * the same manifests, in the installer's order, and the same SMF names; and
 * the build's dependency check reads chunter 0.8.1's quoted dependencies as
 * fifo_zlogin's two services: missing without fifo.zlogin, met with it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestFacts, unmetDependencies } from '../../build/stages/payload/fifo-artifact.ts';
import { ZLOGIN_SERVICES as BUILD_SERVICES, ZLOGIN_MANIFESTS } from '../../build/stages/payload/zlogin.ts';
import { OVERLAY, SHELLS } from './harness.ts';
import { CHUNTER_NEEDS_ZLOGIN, ZLOGIN_INSTALLER, ZLOGIN_SERVICES } from './zlogin-contract.ts';

/** `cp "$DST/fifo_zlogin/share/epmd.xml" "$DST/custom/smf"` → `epmd.xml`, in the installer's order. */
const copied = ZLOGIN_INSTALLER.smf.flatMap((c) => /^cp "\$DST\/fifo_zlogin\/share\/([a-z_]+\.xml)"/.exec(c.quote)?.[1] ?? []);
/** The service each contract manifest defines, from its quoted `name='…'` line. */
const quotedName = (s: (typeof ZLOGIN_SERVICES)[number]) => /name='([^']+)'/.exec(s.why[0].quote)?.[1];

const work = mkdtempSync(path.join(tmpdir(), 'dogeos-zlogin-contract-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('fifo_zlogin as its installer installs it', () => {
  it(`copies and imports epmd.xml, then fifo_zlogin.xml (${ZLOGIN_INSTALLER.smf[1]?.source} lines ${ZLOGIN_INSTALLER.smf.map((c) => c.line).join(', ')})`, () => {
    expect(copied).toEqual(['epmd.xml', 'fifo_zlogin.xml']);
    expect(ZLOGIN_SERVICES.map((s) => s.manifest)).toEqual(copied);
    // Each manifest's quoted service name is the FMRI first boot waits for.
    expect(ZLOGIN_SERVICES.map((s) => `svc:/${quotedName(s)}:default`)).toEqual(ZLOGIN_SERVICES.map((s) => s.fmri));
  });

  it('the build checks for the same manifests, in that order, and the same services', () => {
    expect(ZLOGIN_MANIFESTS).toEqual(copied.map((m) => `fifo_zlogin/share/${m}`));
    expect(BUILD_SERVICES.map((s) => `${s}:default`)).toEqual(ZLOGIN_SERVICES.map((s) => s.fmri));
  });

  it.each(SHELLS)('the runtime under %s imports the same manifests for the same FMRIs', (shell) => {
    const driver = `. "${OVERLAY}/dogeos/lib/common.sh"; . "${OVERLAY}/dogeos/lib/zlogin.sh"
for s in $DG_ZLOGIN_SMF; do printf '%s.xml %s\\n' "$s" "$(dg_zlogin_fmri "$s")"; done
printf 'dir %s\\nlog %s\\n' "$DG_ZLOGIN_DIR" "$DG_ZLOGIN_LOG_DIR"`;
    const out = execFileSync(shell, ['-c', driver], { env: { PATH: process.env['PATH'] ?? '', DOGEOS_ROOT: '' }, encoding: 'utf8' });
    // DST=/opt and the log directory of the installer's quoted lines.
    const log = /mkdir -p (\S+)/.exec(ZLOGIN_INSTALLER.logDir[0]?.quote ?? '')?.[1];
    expect(out).toBe(`${ZLOGIN_SERVICES.map((s) => `${s.manifest} ${s.fmri}`).join('\n')}\ndir /opt/fifo_zlogin\nlog ${log}\n`);
  });
});

describe(`chunter 0.8.1 requires fifo_zlogin (${CHUNTER_NEEDS_ZLOGIN.requires[0]?.source} lines 41, 48)`, () => {
  // The quoted dependency lines of chunter.xml@0.8.1, in a manifest of their own.
  const xml = `<service_bundle><service name='network/chunter' type='service' version='0.3.0'>\n${CHUNTER_NEEDS_ZLOGIN.requires
    .filter((c) => c.source.endsWith('@0.8.1'))
    .map((c) => `<dependency type='service'>${c.quote}</dependency>`)
    .join('\n')}\n</service></service_bundle>\n`;
  writeFileSync(path.join(work, 'chunter.xml'), xml);
  const deps = manifestFacts(xml).deps;

  it("reads as exactly fifo_zlogin's services, which nothing but fifo_zlogin provides", () => {
    expect([...deps].sort()).toEqual(ZLOGIN_SERVICES.map((s) => s.fmri).sort());
    expect(unmetDependencies(deps, ['svc:/network/chunter'])).toEqual(deps);
  });

  it("is met by the services fifo_zlogin's manifests define", () => {
    expect(unmetDependencies(deps, ['svc:/network/chunter', ...ZLOGIN_SERVICES.map((s) => `svc:/${quotedName(s)}`)])).toEqual([]);
  });
});
