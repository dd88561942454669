/**
 * fifo_zlogin as FiFo builds, ships and installs it, and chunter's
 * dependency on it, from project-fifo/fifo-zlogin (tag 0.7.2) and
 * lbivens/chunter (the fork carrying chunter's release tags). Each fact
 * quotes the line it relies on, with its number. Used by zlogin.test.ts
 * (first boot does the same, checked on the stand-ins' calls),
 * zlogin-contract.test.ts and test/integration/payload-zlogin.test.ts
 * (the published artifact, the build's dependency check).
 *
 * Which fifo_zlogin goes with FiFo 0.8.1: 0.7.2 (tagged 2016-01-27) is the
 * newest fifo_zlogin release before chunter 0.8.1 (tagged 2016-04-27), and
 * its installer and manifests did not change until 2017.
 */
import type { Cited } from './fifo-contract.ts';

/** The fifo_zlogin release DogeOS pins for FiFo 0.8.1. */
export const ZLOGIN_RELEASE = '0.7.2';
export const ZLOGIN_FOR_FIFO = '0.8.1';

/** The services it defines, in the order its installer imports them, with the manifest each is in. */
export const ZLOGIN_SERVICES = [
  {
    manifest: 'epmd.xml',
    fmri: 'svc:/network/epmd:default',
    why: [
      { source: 'project-fifo/fifo-zlogin:share/epmd.xml@0.7.2', line: 7, quote: "<service name='network/epmd' type='service' version='0'>" },
      { source: 'project-fifo/fifo-zlogin:share/epmd.xml@0.7.2', line: 8, quote: "<create_default_instance enabled='true'/>" },
    ],
  },
  {
    manifest: 'fifo_zlogin.xml',
    fmri: 'svc:/fifo/zlogin:default',
    why: [
      { source: 'project-fifo/fifo-zlogin:share/fifo_zlogin.xml@0.7.2', line: 9, quote: "name='fifo/zlogin'" },
      { source: 'project-fifo/fifo-zlogin:share/fifo_zlogin.xml@0.7.2', line: 12, quote: "<create_default_instance enabled='true'/>" },
      // zlogin requires epmd: epmd comes first.
      { source: 'project-fifo/fifo-zlogin:share/fifo_zlogin.xml@0.7.2', line: 35, quote: "<service_fmri value='svc:/network/epmd:default'/>" },
    ],
  },
] as const satisfies readonly { manifest: string; fmri: string; why: readonly Cited[] }[];

/** What its installer does to the node, in this order. */
export const ZLOGIN_INSTALLER = {
  /** Unpacked into DST=/opt: the tree is /opt/fifo_zlogin. */
  unpack: [
    { source: 'project-fifo/fifo-zlogin:rel/pkg/install.sh@0.7.2', line: 7, quote: 'DST="/opt"' },
    { source: 'project-fifo/fifo-zlogin:rel/pkg/install.sh@0.7.2', line: 29, quote: '(cd "$DST"; uudecode -p "$DIR/$BASE"| tar xf -)' },
  ] satisfies Cited[],
  logDir: [{ source: 'project-fifo/fifo-zlogin:rel/pkg/install.sh@0.7.2', line: 30, quote: 'mkdir -p /var/log/fifo_zlogin' }] satisfies Cited[],
  /** The manifests copied where SmartOS imports them at boot, then imported, epmd first. */
  smf: [
    { source: 'project-fifo/fifo-zlogin:rel/pkg/install.sh@0.7.2', line: 70, quote: 'mkdir -p "$DST/custom/smf"' },
    { source: 'project-fifo/fifo-zlogin:rel/pkg/install.sh@0.7.2', line: 71, quote: 'cp "$DST/fifo_zlogin/share/epmd.xml" "$DST/custom/smf"' },
    { source: 'project-fifo/fifo-zlogin:rel/pkg/install.sh@0.7.2', line: 72, quote: 'cp "$DST/fifo_zlogin/share/fifo_zlogin.xml" "$DST/custom/smf"' },
    { source: 'project-fifo/fifo-zlogin:rel/pkg/install.sh@0.7.2', line: 74, quote: 'svccfg import "$DST/custom/smf/epmd.xml"' },
    { source: 'project-fifo/fifo-zlogin:rel/pkg/install.sh@0.7.2', line: 75, quote: 'svccfg import "$DST/custom/smf/fifo_zlogin.xml"' },
  ] satisfies Cited[],
} as const;

/** How FiFo builds the published artifact: chunter's recipe with COMPONENT=fifo_zlogin. */
export const ZLOGIN_ARTIFACT: readonly Cited[] = [
  { source: 'project-fifo/fifo-zlogin:rel/pkg/Makefile@0.7.2', line: 2, quote: 'COMPONENT=fifo_zlogin' },
  { source: 'project-fifo/fifo-zlogin:rel/pkg/Makefile@0.7.2', line: 4, quote: 'BASENAME:=$(COMPONENT)-$(VERSION)$(SUFFIX)' },
  { source: 'project-fifo/fifo-zlogin:rel/pkg/Makefile@0.7.2', line: 11, quote: 'cp install.sh $(BASENAME)' },
  { source: 'project-fifo/fifo-zlogin:rel/pkg/Makefile@0.7.2', line: 13, quote: 'tar -cf $(BASENAME).tar $(COMPONENT)' },
  { source: 'project-fifo/fifo-zlogin:rel/pkg/Makefile@0.7.2', line: 15, quote: 'uuencode $(BASENAME).tar $(BASENAME).tar >> $(BASENAME)' },
  { source: 'project-fifo/fifo-zlogin:rel/pkg/Makefile@0.7.2', line: 18, quote: 'gzip -9 $(BASENAME)' },
  // The release tree carries the repository's share/ (both manifests).
  { source: 'project-fifo/fifo-zlogin:rebar.config@0.7.2', line: 23, quote: '{copy, "share", "share"}' },
];

/** chunter 0.7.1 and later require fifo_zlogin's services and no longer ship epmd. */
export const CHUNTER_NEEDS_ZLOGIN = {
  requires: [
    { source: 'lbivens/chunter:share/chunter.xml@0.8.1', line: 41, quote: "<service_fmri value='svc:/fifo/zlogin:default'/>" },
    { source: 'lbivens/chunter:share/chunter.xml@0.8.1', line: 48, quote: "<service_fmri value='svc:/network/epmd:default'/>" },
    { source: 'lbivens/chunter:share/chunter.xml@0.7.1', line: 41, quote: "<service_fmri value='svc:/fifo/zlogin:default'/>" },
  ] satisfies Cited[],
  /** 0.8.1's installer imports chunter.xml only; 0.7.0's also its own epmd.xml. */
  noEpmd: [
    { source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1', line: 128, quote: 'cp "$DST/chunter/share/chunter.xml" "$DST/custom/smf"' },
    { source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1', line: 130, quote: 'svccfg import "$DST/custom/smf/chunter.xml"' },
    { source: 'lbivens/chunter:rel/pkg/install.sh@0.7.0', line: 123, quote: 'cp "$DST/chunter/share/epmd.xml" "$DST/custom/smf"' },
  ] satisfies Cited[],
  docs: [
    {
      source: 'https://docs.project-fifo.net/docs/fifo_zlogin',
      quote:
        'The fifo_zlogin service, is a new minimalistic service introduced with the 0.7.1 release. It is a service that compliments and enhances the Chunter service and is now a required dependency for running Chunter.',
    },
  ] satisfies Cited[],
} as const;
