/**
 * `dogeos pxe serve [--port N] [--bind ADDR] [DIR]`: serves a PXE bundle
 * over HTTP (what iPXE and GRUB fetch from) until interrupted. Building the
 * bundle is part of `dogeos build`.
 */
import { resolve } from 'node:path';
import { usageError } from '../../core/errors.ts';
import { servePxeTree } from '../../media/pxe/server.ts';
import { type CommandContext, type CommandSpec, parseCommandArgs, println } from '../command.ts';
import { lab } from './pxe-lab.ts';

const HELP = `Usage: dogeos pxe serve [--port N] [--bind ADDR] [DIR]
       dogeos pxe lab [--nodes N] [--firmware bios,uefi] [--dhcp full|proxy]
                      [--http-port N] [--unknown N] [--work-dir DIR]

serve: serve a PXE bundle (out/dogeos-<version>-pxe/) over HTTP until
interrupted. iPXE and GRUB fetch the kernel, boot archive and per-host files
from it. Range requests and HEAD are supported; nothing outside DIR is
served. It is for quick labs and tests: in production, serve the bundle
with nginx and the bundle's conf/nginx-site.conf.

  DIR             the bundle directory (default: the current directory)
  --port N        TCP port (default 8080; 0 picks a free port)
  --bind ADDR     address to listen on (default 127.0.0.1; use 0.0.0.0 to
                  serve the boot network)

Every request is reported as an event (plain lines, or NDJSON with --json).

lab (root only): a rack in a box. Builds a PXE bundle for N nodes (probe
kernel, realistic names and lengths), makes network namespaces with a
bridge and one tap per node, starts real dnsmasq with the bundle's
dnsmasq-full.conf (or dnsmasq-proxy.conf next to a second dnsmasq playing
the site's DHCP server) and real nginx with its nginx-site.conf, boots all
nodes at once in QEMU (BIOS: e1000 iPXE ROM; UEFI: OVMF) and checks that
each got its own per-MAC files. Nothing leaves the namespaces; all of it
is removed afterwards, also on failure and on SIGINT. Exit 0 when every
node passed, 1 when one did not; the summary (--json: one JSON object)
gives the wall time, bytes served and boot times.

  --nodes N       how many machines (default 8)
  --firmware LIST bios, uefi or both, assigned in turn (default bios,uefi)
  --dhcp MODE     full (dnsmasq hands out addresses) or proxy (default full)
  --http-port N   nginx's port (default 80; GRUB reads over TFTP otherwise)
  --unknown N     how many nodes (the last) have no per-host entry (default 0)
  --work-dir DIR  keep the bundle, configs and logs here (default: a
                  temporary directory, removed after a passing run)

  -h, --help      show this help
`;

function parsePort(text: string | undefined): number {
  if (text === undefined) return 8080;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw usageError('USAGE', `pxe serve: --port '${text}' is not a TCP port number`, { hint: "see 'dogeos pxe --help'" });
  }
  return port;
}

async function serve(ctx: CommandContext, argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('pxe serve', argv, {
    port: { type: 'string' },
    bind: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    ctx.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 1) {
    throw usageError('USAGE', 'pxe serve: give at most one directory', { hint: "see 'dogeos pxe --help'" });
  }
  const root = resolve(ctx.cwd, positionals[0] ?? '.');
  const server = await servePxeTree({
    root,
    port: parsePort(values.port),
    host: values.bind ?? '127.0.0.1',
    reporter: ctx.reporter,
  });
  println(ctx.stdout, `Serving ${root} at ${server.url}/ (boot script: ${server.url}/boot.ipxe); interrupt to stop`);
  await new Promise<void>((done) => {
    if (ctx.signal.aborted) done();
    else ctx.signal.addEventListener('abort', () => done(), { once: true });
  });
  await server.close();
  return 0;
}

export const command: CommandSpec = {
  name: 'pxe',
  summary: 'serve a PXE bundle over HTTP; boot a rack of QEMU nodes through real dnsmasq and nginx',
  help: HELP,
  async run(ctx: CommandContext): Promise<number> {
    const [sub, ...rest] = ctx.argv;
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      ctx.stdout.write(HELP);
      return 0;
    }
    if (sub === undefined) {
      throw usageError('USAGE', 'pxe: missing subcommand (serve, lab)', { hint: "see 'dogeos pxe --help'" });
    }
    if (sub === 'serve') return serve(ctx, rest);
    if (sub === 'lab') return lab(ctx, rest, HELP);
    throw usageError('USAGE', `pxe: unknown subcommand '${sub}'`, { hint: "see 'dogeos pxe --help'" });
  },
};
