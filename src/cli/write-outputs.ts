/**
 * Writes generated files safely: refuses a symlinked output directory, writes every file to a
 * temporary name first (O_EXCL, so a planted symlink is never followed) and renames them into
 * place only when all were written, so an error leaves the previous outputs untouched.
 */
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../diag/diagnostic.js';

export function ensureOutputDir(dir: string): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    return;
  }
  if (st.isSymbolicLink()) throw new UsageError(`refusing to write into ${dir}: it is a symbolic link`, 'give the real directory path');
  if (!st.isDirectory()) throw new UsageError(`${dir} exists and is not a directory`);
}

/** Atomically replaces `files` in `dir`; deletes `stale` names that are no longer produced. */
export function writeFilesAtomically(dir: string, files: Readonly<Record<string, string>>, stale: readonly string[] = [], mode = 0o644): void {
  ensureOutputDir(dir);
  const tmp: [string, string][] = [];
  try {
    for (const [name, text] of Object.entries(files)) {
      if (name.includes('/') || name.startsWith('.')) throw new UsageError(`invalid output name ${name}`);
      const t = join(dir, `.${name}.tmp-${process.pid}`);
      const fd = openSync(t, 'wx', mode);
      tmp.push([t, join(dir, name)]);
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
    }
  } catch (e) {
    for (const [t] of tmp) rmSync(t, { force: true });
    throw e;
  }
  for (const [t, final] of tmp) renameSync(t, final);
  for (const s of stale) if (!(s in files)) rmSync(join(dir, s), { force: true });
}

/** Current content of a file, or undefined when it does not exist. */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
