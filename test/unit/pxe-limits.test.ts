/**
 * The limits a PXE boot entry still meets now that GRUB loads every node
 * (build/media/pxe/limits.ts): GRUB 2.06's TFTP read request (514 bytes,
 * grub-core/net/tftp.c tftp_open) and illumos's MAX_BOOT_MODULES (99,
 * usr/src/uts/common/sys/bootinfo.h). A bundle cannot reach them through
 * pxeTarget (its paths are named by the 16-character DogeOS stamp), so the
 * check is exercised here on entries built the way the bundle builds them,
 * with a directory name no stamp has.
 */
import { describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { bootPropList } from '../../build/media/pxe/bootargs.ts';
import { checkEntryLimits, entryLimitProblems, GRUB_TFTP_RRQ_BYTES, grubTftpRequestBytes } from '../../build/media/pxe/limits.ts';
import { bootSpec, genericModules } from '../../build/media/pxe/scripts.ts';

const props = bootPropList({ console: 'ttyb', serialSpeed: 115200, bootProps: {} });

describe('PXE entry limits', () => {
  it("counts a TFTP read request as GRUB writes it: '/' path, NUL, octet blksize 1024 tsize 0", () => {
    // opcode excluded: the 514 bytes are the union after it.
    expect(grubTftpRequestBytes('/a')).toBe('/a'.length + 1 + 'octet\0blksize\x001024\0tsize\x000\0'.length);
  });

  it('passes the longest realistic entry, over TFTP, with its .hash companions', () => {
    const spec = bootSpec('20250724T001011Z', props, undefined, genericModules());
    expect(spec.modules.map((m) => m.args)).toContain('type=hash name=dogeos.conf');
    expect(entryLimitProblems(spec, 'boot/grub/grub.cfg-01-52-54-00-d0-00-01', true)).toEqual([]);
  });

  it('refuses an entry past the TFTP request with PXE_ENTRY_TOO_LONG naming the host and the byte count', () => {
    const dir = `2${'b'.repeat(460)}Z`;
    const spec = bootSpec(dir, props);
    const kernel = `/os/${dir}/platform/i86pc/kernel/amd64/unix`;
    let err: unknown;
    try {
      checkEntryLimits('hv-01.rack-a07.dc-west.example.com', spec, 'boot/grub/grub.cfg', true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DogeError);
    const e = err as DogeError;
    expect(e.code).toBe('PXE_ENTRY_TOO_LONG');
    expect(e.exitStatus).toBe(78);
    expect(e.message).toContain('hv-01.rack-a07.dc-west.example.com');
    expect(e.message).toContain(`${kernel.length + 1 + 27} bytes`);
    expect((e.details['problems'] as { limit: number }[])[0]?.limit).toBe(GRUB_TFTP_RRQ_BYTES);
    // Over HTTP (port 80) only the config goes over TFTP: the same entry fits.
    expect(entryLimitProblems(spec, 'boot/grub/grub.cfg', false)).toEqual([]);
  });
});
