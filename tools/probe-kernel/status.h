/*
 * Outcome codes the probe writes to QEMU's isa-debug-exit port (0xf4).
 * QEMU then exits with status (code << 1) | 1, so every outcome has its own
 * odd exit status and "QEMU stopped" (0, or a signal) is never mistaken for
 * a pass. build/qemu/probe-status.ts mirrors this table; a test compares
 * the two, so edit both together.
 */
#ifndef PROBE_STATUS_H
#define PROBE_STATUS_H

#define PROBE_PASS                 0x10 /* qemu exit 33 */
#define PROBE_FAIL_LOADER          0x11 /* qemu exit 35: not entered by multiboot1/2 */
#define PROBE_FAIL_NO_MODULES      0x12 /* qemu exit 37 */
#define PROBE_FAIL_NO_ROOTFS       0x13 /* qemu exit 39 */
#define PROBE_FAIL_ROOTFS_UNHASHED 0x14 /* qemu exit 41 */
#define PROBE_FAIL_HASH_SHORT      0x15 /* qemu exit 43 */
#define PROBE_FAIL_HASH_BADHEX     0x16 /* qemu exit 45 */
#define PROBE_FAIL_HASH_MISMATCH   0x17 /* qemu exit 47 */
#define PROBE_FAIL_ROOTFS_MAGIC    0x18 /* qemu exit 49 */
#define PROBE_FAIL_HASH_UNPAIRED   0x19 /* qemu exit 51 */
#define PROBE_FAIL_TOO_MANY_MODULES 0x1a /* qemu exit 53 */
#define PROBE_FAIL_BAD_MODULE      0x1b /* qemu exit 55 */

#endif
