/**
 * Loads a CommonJS-capable package on first use instead of at start-up. ipvsc starts a fresh
 * process for every command, and some packages are needed only on rare paths: `yaml` only to
 * place diagnostics, `diff` only for --check and changed chains. Importing them eagerly cost
 * ~90 ms of every run (issue #5).
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(id) as T);
}
