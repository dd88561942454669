/**
 * `dogeos pxe serve [--port N] [--bind ADDR] [DIR]`: serves a PXE bundle
 * over HTTP (what iPXE and GRUB fetch from) until interrupted. Building the
 * bundle is part of `dogeos build`.
 */
import { resolve } from 'node:path';
import { usageError } from '../../core/errors.ts';
import { servePxeTree } from '../../media/pxe/server.ts';
import { type CommandContext, type CommandSpec, parseCommandArgs, println } from '../command.ts';

const HELP = `Usage: dogeos pxe serve [--port N] [--bind ADDR] [DIR]

Serve a PXE bundle (out/dogeos-<version>-pxe/) over HTTP until interrupted.
iPXE (BIOS) and GRUB (UEFI) fetch the kernel, boot archive and per-host
files from it. Range requests and HEAD are supported; nothing outside DIR
is served. For production, the bundle's conf/nginx-site.conf is the better
choice; this server is for labs, tests and quick installs.

Arguments:
  DIR             the bundle directory (default: the current directory)

Options:
  --port N        TCP port (default 8080; 0 picks a free port)
  --bind ADDR     address to listen on (default 127.0.0.1; use 0.0.0.0 to
                  serve the boot network)
  -h, --help      show this help

Every request is reported as an event (plain lines, or NDJSON with --json).
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
  summary: 'serve a PXE bundle over HTTP',
  help: HELP,
  async run(ctx: CommandContext): Promise<number> {
    const [sub, ...rest] = ctx.argv;
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      ctx.stdout.write(HELP);
      return 0;
    }
    if (sub === undefined) {
      throw usageError('USAGE', 'pxe: missing subcommand (serve)', { hint: "see 'dogeos pxe --help'" });
    }
    if (sub === 'serve') return serve(ctx, rest);
    throw usageError('USAGE', `pxe: unknown subcommand '${sub}'`, { hint: "see 'dogeos pxe --help'" });
  },
};
