/**
 * What Project FiFo's own sources say about the FiFo zone of release 0.8.1,
 * the release DogeOS pins (overlays/dogeos/README.md "FiFo releases").
 * Each fact names the file it comes from (`repo:path@tag`) and quotes the
 * line it relies on. project-fifo's snarl, sniffle, howl and chunter
 * repositories are not in the mirror here; they were read in the forks
 * that carry their release tags (maltejk/snarl, jptac/sniffle, jptac/howl,
 * lbivens/chunter, lbivens/cerberus), whose tagged files are FiFo's own.
 *
 * Used by fifo-contract.test.ts (the runtime's table says the same) and
 * head.test.ts (first boot enables and waits for exactly these).
 */

export interface Cited {
  readonly source: string;
  readonly quote: string;
  /** The quoted line's number in that file at that tag, where recorded. */
  readonly line?: number;
}

export interface ContractService {
  readonly name: string;
  readonly fmri: string;
  /** The ports first boot checks, with DogeOS's default port settings. */
  readonly ports: readonly string[];
  readonly why: readonly Cited[];
}

export const FIFO_RELEASE = '0.8.1';

/** The packages of the release (each Makefile's COMPONENT and VERSION). */
export const FIFO_PACKAGES: readonly { readonly base: string; readonly why: Cited }[] = [
  { base: 'fifo-snarl', why: { source: 'maltejk/snarl:rel/pkg/Makefile@0.8.1', quote: 'COMPONENT=fifo-snarl' } },
  { base: 'fifo-sniffle', why: { source: 'jptac/sniffle:rel/pkg/Makefile@0.8.1', quote: 'COMPONENT=fifo-sniffle' } },
  { base: 'fifo-howl', why: { source: 'jptac/howl:rel/pkg/Makefile@0.8.1', quote: 'COMPONENT=fifo-howl' } },
  { base: 'fifo-cerberus', why: { source: 'lbivens/cerberus:rel/pkg/Makefile@0.8.1', quote: 'COMPONENT=fifo-cerberus' } },
];

/** The zone's services in start order. */
export const FIFO_SERVICES: readonly ContractService[] = [
  {
    name: 'epmd',
    fmri: 'svc:/pkgsrc/epmd:default',
    ports: ['4369'],
    why: [
      // Every FiFo service requires pkgsrc's epmd (the erlang package's), not chunter's svc:/network/epmd.
      { source: 'maltejk/snarl:share/snarl.xml@0.8.1', quote: "<service_fmri value='svc:/pkgsrc/epmd:default'/>" },
      { source: 'jptac/sniffle:share/sniffle.xml@0.8.1', quote: "<service_fmri value='svc:/pkgsrc/epmd:default'/>" },
      { source: 'jptac/howl:share/howl.xml@0.8.1', quote: "<service_fmri value='svc:/pkgsrc/epmd:default'/>" },
    ],
  },
  {
    name: 'snarl',
    fmri: 'svc:/network/snarl:default',
    ports: ['4200'],
    why: [
      { source: 'maltejk/snarl:share/snarl.xml@0.8.1', quote: "name='network/snarl'" },
      { source: 'maltejk/snarl:rel/vars.config@0.8.1', quote: '{snarl_port,            4200}.' },
      { source: 'maltejk/snarl:rel/pkg/install.sh@0.8.1', quote: 'svccfg import /opt/local/fifo-snarl/share/snarl.xml' },
    ],
  },
  {
    name: 'sniffle',
    fmri: 'svc:/network/sniffle:default',
    ports: ['4210'],
    why: [
      { source: 'jptac/sniffle:share/sniffle.xml@0.8.1', quote: "name='network/sniffle'" },
      { source: 'jptac/sniffle:rel/vars.config@0.8.1', quote: '{sniffle_port,          4210}.' },
    ],
  },
  {
    name: 'howl',
    fmri: 'svc:/network/howl:default',
    // howl's TCP endpoint and its HTTPS port, where the API (wiggle, merged into howl) and the UI are served.
    ports: ['4240', '443'],
    why: [
      { source: 'jptac/howl:share/howl.xml@0.8.1', quote: "name='network/howl'" },
      { source: 'jptac/howl:rel/vars.config@0.8.1', quote: '{tcp_port,              "4240"}.' },
      { source: 'jptac/howl:rel/vars.config@0.8.1', quote: '{ssl_port,              "443"}.' },
      { source: 'jptac/howl:apps/howl/src/howl_app.erl@0.8.1', quote: 'wiggle_app:dispatches(),' },
      { source: 'jptac/howl:rebar.config@0.8.1', quote: '{wiggle, ".*", {git, "https://github.com/project-fifo/wiggle-app.git", {tag, "0.8.1"}}},' },
    ],
  },
];

/** The admin command: snarl-admin in the release's bin/, `init` with five arguments, a plain password. */
export const FIFO_ADMIN = {
  command: '/opt/local/fifo-snarl/bin/snarl-admin',
  form: 'init5',
  why: [
    { source: 'maltejk/snarl:rebar.config@0.8.1', quote: '{template, "rel/files/snarl-admin", "bin/snarl-admin"},' },
    { source: 'maltejk/snarl:rel/files/snarl-admin@0.8.1', quote: '$NODETOOL rpc snarl_console init_user $@' },
    { source: 'maltejk/snarl:apps/snarl/src/snarl_console.erl@0.8.1', quote: 'init_user([RealmS, OrgS, RoleS, UserS, PassS]) ->' },
    // The password is set as given: no hash is accepted, so none can be shipped instead (issue 15).
    { source: 'maltejk/snarl:apps/snarl/src/snarl_console.erl@0.8.1', quote: 'ok = snarl_user:passwd(Realm, UserUUID, Pass),' },
  ],
} as const;

/** The settings DogeOS writes into each service's cuttlefish file (keys the schemas define). */
export const FIFO_SETTINGS: readonly { readonly service: string; readonly key: string; readonly value: string; readonly why: Cited }[] = [
  {
    service: 'snarl',
    key: 'ip',
    value: '{IP}:{SNARL_PORT}',
    why: { source: 'maltejk/snarl:schema/snarl.schema@0.8.1', quote: '{mapping, "ip", "mdns_server_lib.listener",' },
  },
  {
    service: 'snarl',
    key: 'nodename',
    value: 'snarl@{IP}',
    why: { source: 'maltejk/snarl:schema/erlang_vm.schema@0.8.1', quote: '{mapping, "nodename", "vm_args.-name", [' },
  },
  {
    service: 'sniffle',
    key: 'ip',
    value: '{IP}:{SNIFFLE_PORT}',
    why: { source: 'jptac/sniffle:rel/pkg/install.sh@0.8.1', quote: 'CONFFILE=/data/sniffle/etc/sniffle.conf' },
  },
  {
    service: 'sniffle',
    key: 'nodename',
    value: 'sniffle@{IP}',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a quoted shell line, not a template
    why: { source: 'jptac/sniffle:rel/pkg/install.sh@0.8.1', quote: '/usr/bin/sed -i bak -e "s/127.0.0.1/${IP}/g" ${CONFFILE}' },
  },
  {
    service: 'howl',
    key: 'ip',
    value: '{IP}:{HOWL_PORT}',
    why: { source: 'jptac/howl:apps/howl/priv/howl.schema@0.8.1', quote: '{mapping, "ip", "mdns_server_lib.listener",' },
  },
  {
    service: 'howl',
    key: 'nodename',
    value: 'howl@{IP}',
    why: { source: 'jptac/howl:rel/vars.config@0.8.1', quote: '{node,                  "howl@127.0.0.1"}.' },
  },
  {
    service: 'howl',
    key: 'http_port',
    value: '{HTTP_PORT}',
    why: { source: 'jptac/howl:apps/howl/priv/howl.schema@0.8.1', quote: '{mapping, "http_port", "howl.http_port",' },
  },
  {
    service: 'howl',
    key: 'ssl.port',
    value: '{HTTPS_PORT}',
    why: { source: 'jptac/howl:apps/howl/priv/howl.schema@0.8.1', quote: '{mapping, "ssl.port", "howl.ssl_port",' },
  },
];

/** Things 0.8.1 does not have, which DogeOS used to install or wait for. */
export const NOT_IN_RELEASE: readonly Cited[] = [
  // No separate wiggle service: howl serves wiggle's dispatch rules (above); no nginx: howl listens on 80/443 itself.
  { source: 'jptac/howl:rel/vars.config@0.8.1', quote: '{http_port,             "80"}.' },
  // howl's installer makes the TLS certificate itself.
  { source: 'jptac/howl:rel/pkg/install.sh@0.8.1', quote: 'CERTDIR="/data/fifo"' },
];
