/**
 * What every command needs from the outside world, gathered in one place: the working
 * directory, stdin, stdout/stderr, colour. Commands receive it, so
 * tests can run them in-process with captured output.
 */
import { readFileSync } from 'node:fs';
import { readPackageVersion } from '../load/read-assets.js';

export interface Io {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly readStdin: () => Buffer;
  readonly isTTY: boolean;
}

export const processIo = (): Io => ({
  cwd: process.cwd(),
  env: process.env,
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  readStdin: () => readFileSync(0),
  isTTY: Boolean(process.stdout.isTTY),
});

let version: string | undefined;
export const ipvscVersion = (): string => (version ??= readPackageVersion());

export const EXIT = { ok: 0, invalid: 1, changes: 2, applyFailed: 3, internal: 70 } as const;
