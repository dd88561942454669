/**
 * What chunter's own installer does on a node, and how FiFo builds and
 * publishes chunter, from project-fifo's chunter (read in the fork
 * lbivens/chunter, which carries its release tags) and project-fifo's docs.
 * Each fact quotes the line it relies on. Used by chunter-contract.test.ts
 * (first boot does the same, checked on the stand-ins' calls) and
 * test/integration/payload-chunter.test.ts (the published artifact).
 */
import type { Cited } from './fifo-contract.ts';

export const CHUNTER_INSTALLER = {
  /** The configuration: the example's ip line rewritten with the admin (or fifo0) address. */
  confRewrite: [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a quoted shell line, not a template
    { source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1', quote: 'sed "s/^ip = 127.0.0.1:4200/ip=$conf_admin_ip:4200/" ${CONFFILE}.example > ${CONFFILE}' },
    { source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1', quote: 'conf_fifo_nic=fifo0' },
    { source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1', quote: 'conf_admin_ip=$conf_fifo_ip' },
    {
      source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1',
      quote: 'conf_admin_nic=$(dladm show-phys -m -o LINK,ADDRESS | /usr/bin/egrep "$conf_admin_mac" | awk \'{print $1}\')',
    },
    {
      source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1',
      quote: "conf_admin_ip=$(ipadm show-addr -o ADDROBJ,ADDR  | grep \"^$conf_admin_nic\" | awk '{print $2}' | awk -F/ '{print $1}')",
    },
    // dladm prints MACs without leading zeros; the installer turns admin_nic into a pattern that allows both.
    { source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1', quote: 'conf_admin_mac=$(echo "$admin_nic" | sed \'s/0\\([0-9]\\)/0?\\1/g\')' },
    {
      source: 'project-fifo/docs:chunter/installation.rst@master',
      quote: "It will look for a ``fifo0`` vnic. If this doesn't exist it will take the IP of the ``admin`` nic.",
    },
    {
      source: 'project-fifo/docs:chunter/installation.rst@master',
      quote: 'If Chunter registered with a wrong IP the correct IP can be changed in the config file.',
    },
  ] satisfies Cited[],
  /** Its log directory. */
  logDir: [{ source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1', quote: 'mkdir -p /var/log/chunter' }] satisfies Cited[],
  /**
   * imgadm: initialised only when /var/imgadm is missing (0.6.1; from 0.7.0
   * on the installer runs `imgadm update` every time, which needs an image
   * source on the network: DogeOS keeps 0.6.1's condition, for offline media).
   */
  imgadm: [
    { source: 'lbivens/chunter:rel/pkg/install.sh@0.6.1', quote: '[ -d /var/imgadm ] || imgadm update' },
    { source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1', quote: '[ -d /var/imgadm/images ] || mkdir -p /var/imgadm/images' },
  ] satisfies Cited[],
} as const;

export const CHUNTER_ARTIFACT: readonly Cited[] = [
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a quoted shell line, not a template
  { source: 'project-fifo/docs:chunter/installation.rst@master', quote: 'curl -O http://release.project-fifo.net/chunter/${VERSION}/chunter-latest.gz' },
  { source: 'project-fifo/docs:chunter/installation.rst@master', quote: 'gunzip chunter-latest.gz' },
  { source: 'lbivens/chunter:rel/pkg/Makefile@0.8.1', quote: 'cp install.sh $(BASENAME)' },
  { source: 'lbivens/chunter:rel/pkg/Makefile@0.8.1', quote: 'tar -cf $(BASENAME).tar $(COMPONENT)' },
  { source: 'lbivens/chunter:rel/pkg/Makefile@0.8.1', quote: 'uuencode $(BASENAME).tar $(BASENAME).tar >> $(BASENAME)' },
  { source: 'lbivens/chunter:rel/pkg/Makefile@0.8.1', quote: 'gzip -9 $(BASENAME)' },
  { source: 'lbivens/chunter:rel/pkg/install.sh@0.8.1', quote: '(cd "$DST"; uudecode -p "$DIR/$BASE"| tar xf -)' },
  // 0.6.x carried a gzip'd tar.
  { source: 'lbivens/chunter:rel/pkg/install.sh@0.6.1', quote: '(cd "$DST"; uudecode -p "$DIR/$BASE"|tar xzf -)' },
];

/* chunter's dependency on fifo_zlogin (0.7.1 and later): zlogin-contract.ts. */
