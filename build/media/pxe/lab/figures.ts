/** The lab's figures: rack wall time, bytes served, per-node boot time. */
import type { HttpRequest, TftpTransfer } from './logs.ts';
import type { NodeResult } from './nodes.ts';

export interface LabFigures {
  /** From the first node's start to the last node's end. */
  readonly wallMs: number;
  /** Body bytes nginx logged. */
  readonly httpBytes: number;
  /** Sizes of the files dnsmasq logged as sent over TFTP. */
  readonly tftpBytes: number;
  readonly bootMs: { readonly median: number; readonly max: number };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : Math.round(((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2);
}

export function labFigures(
  wallMs: number,
  results: readonly NodeResult[],
  logs: { readonly http: readonly HttpRequest[]; readonly tftp: readonly TftpTransfer[] },
): LabFigures {
  const times = results.map((r) => r.durationMs);
  return {
    wallMs,
    httpBytes: logs.http.reduce((s, q) => s + q.bytes, 0),
    tftpBytes: logs.tftp.reduce((s, t) => s + t.bytes, 0),
    bootMs: { median: median(times), max: times.length === 0 ? 0 : Math.max(...times) },
  };
}
