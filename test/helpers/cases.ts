/** Discovers golden case folders and reads their parts. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface GoldenCase {
  readonly name: string;
  readonly dir: string;
}

export function listCases(root: string): GoldenCase[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => statSync(join(root, n)).isDirectory())
    .sort()
    .map((name) => ({ name, dir: join(root, name) }));
}

/** `input/flags`: one argument per line; blank lines and # comments ignored. */
export function readFlags(dir: string): string[] {
  const p = join(dir, 'input', 'flags');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

export const readText = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);
