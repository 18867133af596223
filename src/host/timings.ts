/**
 * Opt-in timing log (IPVSC_TIMINGS=1): where a plan or an apply spends its time, one stderr line
 * per phase and per tool run: `[timing] +12.345s    1.234s  verify: read ipvs`. The first column
 * is the time since the process started (node start-up and module loading included). Never used
 * for a decision; off unless asked for.
 */
import { performance } from 'node:perf_hooks';

export interface Timings {
  readonly enabled: boolean;
  /** Times an async phase and logs its duration (also when it throws). */
  phase<T>(label: string, f: () => Promise<T>): Promise<T>;
  /** Times a synchronous phase. */
  phaseSync<T>(label: string, f: () => T): T;
  /** Logs a duration measured elsewhere (`ms`) or, without one, a point in time. */
  note(label: string, ms?: number): void;
}

export const NO_TIMINGS: Timings = {
  enabled: false,
  phase: (_label, f) => f(),
  phaseSync: (_label, f) => f(),
  note: () => undefined,
};

const secs = (ms: number): string => (ms / 1000).toFixed(3);

export function timingsFromEnv(env: Readonly<Record<string, string | undefined>>, write: (line: string) => void): Timings {
  const v = env['IPVSC_TIMINGS'];
  if (!v || v === '0') return NO_TIMINGS;
  const log = (label: string, ms?: number): void =>
    write(`[timing] +${secs(performance.now()).padStart(8)}s ${ms === undefined ? ''.padStart(9) : `${secs(ms).padStart(8)}s`}  ${label}\n`);
  return {
    enabled: true,
    async phase(label, f) {
      const t0 = performance.now();
      try {
        return await f();
      } finally {
        log(label, performance.now() - t0);
      }
    },
    phaseSync(label, f) {
      const t0 = performance.now();
      try {
        return f();
      } finally {
        log(label, performance.now() - t0);
      }
    },
    note: log,
  };
}

/** `ipvsadm -Sn` / `ipset restore -exist <stdin 1.2 MB>` → `… → 3.4 MB`, for the log. */
export function sizeText(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB` : `${bytes} B`;
}
