/**
 * Parses the probe kernel's serial report (format: tools/probe-kernel/
 * README.md). Pure; tolerant of noise around the PROBE lines (firmware and
 * boot loader output, terminal escapes), strict about the lines themselves:
 * a PROBE line it cannot read is listed in `malformed`.
 */

export type ProbeModuleType = 'rootfs' | 'hash' | 'file';
export type HashCheckStatus = 'ok' | 'mismatch' | 'badhex' | 'short' | 'unpaired';

export interface ProbeModule {
  readonly index: number;
  readonly sizeBytes: number;
  readonly sha1: string;
  /** As the module string says (before illumos's legacy fixup). */
  readonly type: ProbeModuleType;
  readonly name: string;
  readonly path: string;
  readonly string: string;
}

export interface ProbeHashCheck {
  readonly name: string;
  readonly status: HashCheckStatus;
  readonly expected?: string;
  readonly actual?: string;
  readonly module?: number;
  /** Index of the hash module, or 'inline' for a hash= option. */
  readonly hashModule?: number | 'inline';
}

export interface ProbeRootfs {
  readonly name: string;
  readonly module: number;
  readonly ufsMagicOk: boolean;
}

export interface ProbeReport {
  readonly begun: boolean;
  readonly ended: boolean;
  readonly protocol: 'multiboot1' | 'multiboot2' | 'unknown' | undefined;
  readonly loader: string | undefined;
  readonly cmdline: string | undefined;
  /** First word of the command line: what illumos takes as its own path. */
  readonly kernel: string | undefined;
  /** -B properties in order; a property without '=' has value ''. */
  readonly bootProps: ReadonlyArray<readonly [string, string]>;
  readonly options: readonly string[];
  readonly moduleCount: number | undefined;
  readonly modules: readonly ProbeModule[];
  readonly legacyFixup: boolean;
  readonly hashChecks: readonly ProbeHashCheck[];
  readonly rootfs: readonly ProbeRootfs[];
  /** True if there is at least one rootfs module and all have the UFS magic. */
  readonly rootfsMagicOk: boolean;
  readonly result: 'pass' | 'fail' | undefined;
  readonly reason: string | undefined;
  /** The code the probe says it wrote to isa-debug-exit. */
  readonly status: number | undefined;
  readonly malformed: readonly string[];
}

/** Undoes the probe's escaping: `\\` and `\xHH`. */
export function unescapeProbeText(text: string): string {
  return text.replace(/\\(\\|x([0-9a-fA-F]{2}))/g, (_all, what: string, hex: string | undefined) =>
    hex === undefined ? what : String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

const LINE_RE = /PROBE ([A-Z]+)(?: (.*))?$/;

/** Splits `k=v k=v …` into a map; with `restKey`, that key takes the rest of the line. */
function fields(text: string, restKey?: string): Map<string, string> {
  const out = new Map<string, string>();
  let rest = text;
  while (rest.length > 0) {
    rest = rest.replace(/^ +/, '');
    const eq = rest.indexOf('=');
    const sp = rest.indexOf(' ');
    if (eq < 0 || (sp >= 0 && sp < eq)) {
      // a bare word (e.g. a status): key with empty value
      const word = sp < 0 ? rest : rest.slice(0, sp);
      if (word !== '') out.set(word, '');
      rest = sp < 0 ? '' : rest.slice(sp + 1);
      continue;
    }
    const key = rest.slice(0, eq);
    if (key === restKey) {
      out.set(key, unescapeProbeText(rest.slice(eq + 1)));
      break;
    }
    const end = sp < 0 ? rest.length : sp;
    out.set(key, unescapeProbeText(rest.slice(eq + 1, end)));
    rest = rest.slice(end);
  }
  return out;
}

function int(v: string | undefined): number | undefined {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

const HASH_STATUSES: readonly HashCheckStatus[] = ['ok', 'mismatch', 'badhex', 'short', 'unpaired'];

type Builder = {
  -readonly [K in keyof ProbeReport]: ProbeReport[K] extends ReadonlyArray<infer E> ? E[] : ProbeReport[K];
};

function emptyReport(): Builder {
  return {
    begun: false,
    ended: false,
    protocol: undefined,
    loader: undefined,
    cmdline: undefined,
    kernel: undefined,
    bootProps: [],
    options: [],
    moduleCount: undefined,
    modules: [],
    legacyFixup: false,
    hashChecks: [],
    rootfs: [],
    rootfsMagicOk: false,
    result: undefined,
    reason: undefined,
    status: undefined,
    malformed: [],
  };
}

function parseModule(arg: string): ProbeModule | undefined {
  const m = /^(\d+) (.*)$/.exec(arg);
  if (m === null) return undefined;
  const f = fields(m[2]!, 'string');
  const type = f.get('type');
  const sizeBytes = int(f.get('size'));
  const sha1 = f.get('sha1');
  if (sizeBytes === undefined || sha1 === undefined || !/^[0-9a-f]{40}$/.test(sha1)) return undefined;
  if (type !== 'rootfs' && type !== 'hash' && type !== 'file') return undefined;
  return {
    index: Number(m[1]),
    sizeBytes,
    sha1,
    type,
    name: f.get('name') ?? '',
    path: f.get('path') ?? '',
    string: f.get('string') ?? '',
  };
}

function parseHashCheck(arg: string): ProbeHashCheck | undefined {
  const f = fields(arg);
  const name = f.get('name');
  const status = HASH_STATUSES.find((s) => f.has(s) && f.get(s) === '');
  if (name === undefined || status === undefined) return undefined;
  const hm = f.get('hash-module');
  const module = int(f.get('module'));
  const hashModule = hm === 'inline' ? 'inline' : int(hm);
  const expected = f.get('expected');
  const actual = f.get('actual');
  return {
    name,
    status,
    ...(expected === undefined ? {} : { expected }),
    ...(actual === undefined ? {} : { actual }),
    ...(module === undefined ? {} : { module }),
    ...(hashModule === undefined ? {} : { hashModule }),
  };
}

/** Applies one PROBE line; returns false if it could not be read. */
function applyLine(r: Builder, kind: string, arg: string): boolean {
  switch (kind) {
    case 'BEGIN':
      r.begun = true;
      return true;
    case 'END':
      r.ended = true;
      return true;
    case 'PROTOCOL': {
      const p = arg.split(' ')[0];
      if (p !== 'multiboot1' && p !== 'multiboot2' && p !== 'unknown') return false;
      r.protocol = p;
      return true;
    }
    case 'LOADER':
      r.loader = unescapeProbeText(arg);
      return true;
    case 'CMDLINE':
      r.cmdline = unescapeProbeText(arg);
      return true;
    case 'KERNEL':
      r.kernel = unescapeProbeText(arg);
      return true;
    case 'PROP': {
      const eq = arg.indexOf('=');
      r.bootProps.push(eq < 0 ? [unescapeProbeText(arg), ''] : [unescapeProbeText(arg.slice(0, eq)), unescapeProbeText(arg.slice(eq + 1))]);
      return true;
    }
    case 'OPTION':
      r.options.push(unescapeProbeText(arg));
      return true;
    case 'MODULES': {
      const n = int(fields(arg).get('count'));
      if (n === undefined) return false;
      r.moduleCount = n;
      return true;
    }
    case 'MODULE': {
      const m = parseModule(arg);
      if (m === undefined) return false;
      r.modules.push(m);
      return true;
    }
    case 'FIXUP':
      r.legacyFixup = true;
      return true;
    case 'HASHCHECK': {
      const h = parseHashCheck(arg);
      if (h === undefined) return false;
      r.hashChecks.push(h);
      return true;
    }
    case 'ROOTFS': {
      const f = fields(arg);
      const module = int(f.get('module'));
      const magic = f.get('ufs-magic');
      if (module === undefined || (magic !== 'ok' && magic !== 'bad')) return false;
      r.rootfs.push({ name: f.get('name') ?? '', module, ufsMagicOk: magic === 'ok' });
      return true;
    }
    case 'RESULT': {
      const f = fields(arg);
      const result = f.has('pass') ? 'pass' : f.has('fail') ? 'fail' : undefined;
      const status = int(f.get('status'));
      if (result === undefined || status === undefined) return false;
      r.result = result;
      r.reason = f.get('reason');
      r.status = status;
      return true;
    }
    default:
      return false;
  }
}

/**
 * Reads the last probe run in a serial log (from the last `PROBE BEGIN`;
 * earlier runs, e.g. before a reset, are ignored).
 */
export function parseProbeReport(serialText: string): ProbeReport {
  const lines = serialText.split('\n').map((l) => l.replace(/\r+$/, ''));
  let start = 0;
  lines.forEach((l, i) => {
    if (/PROBE BEGIN$/.test(l)) start = i;
  });
  const r = emptyReport();
  for (const line of lines.slice(start)) {
    const m = LINE_RE.exec(line);
    if (m === null) continue;
    if (!applyLine(r, m[1]!, m[2] ?? '')) r.malformed.push(line);
  }
  r.rootfsMagicOk = r.rootfs.length > 0 && r.rootfs.every((x) => x.ufsMagicOk);
  return r;
}

/** The -B properties as a record (a later duplicate wins, as in illumos). */
export function bootPropsRecord(report: ProbeReport): Record<string, string> {
  return Object.fromEntries(report.bootProps);
}
