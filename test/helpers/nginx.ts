/**
 * Real nginx on loopback for tests: one process, no privilege drop, its
 * prefix (logs, temp paths, pid) in a directory the test owns, the site
 * under test included from the http {} block.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A port nothing listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface RunningNginx {
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** `nginx -t`, then nginx in the foreground; resolves once `probeUrl` answers. */
export async function startNginx(prefix: string, siteConf: string, probeUrl: string): Promise<RunningNginx> {
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${prefix}/${t};`).join('\n');
  writeFileSync(
    conf,
    `daemon off;\nmaster_process off;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;\n` +
      `events { worker_connections 64; }\n` +
      `http {\naccess_log off;\n${temps}\ninclude ${siteConf};\n}\n`,
  );
  const t = spawnSync('nginx', ['-t', '-p', prefix, '-c', conf], { encoding: 'utf8' });
  if (t.status !== 0) throw new Error(`nginx -t failed:\n${t.stderr}`);
  const child = spawn('nginx', ['-p', prefix, '-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(probeUrl).then(
      (r) => r.status < 500,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`nginx exited: ${readFileSync(join(prefix, 'error.log'), 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
