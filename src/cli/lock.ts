/**
 * Serialises concurrent applies on a node: an exclusive lock file (O_EXCL) holding the owner's
 * pid under /run. A lock whose pid is gone (a killed apply) is stale and taken over. A second
 * apply waits up to --lock-timeout, then gives up with a clear message.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { UsageError } from '../diag/diagnostic.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export async function acquireLock(path: string, timeoutMs: number, onWait: (holder: string) => void): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`cannot create the lock file ${path}: ${(e as Error).message}`, 'apply needs root; or choose another --lock-file');
    }
    let holder: string;
    try {
      holder = readFileSync(path, 'utf8').trim();
    } catch {
      continue; // released between our open and read
    }
    const pid = Number(holder);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) {
      rmSync(path, { force: true }); // the holder died (SIGKILL): the lock is stale
      continue;
    }
    if (Date.now() >= deadline) throw new UsageError(`another ipvsc apply (pid ${holder}) holds ${path}; gave up after ${Math.round(timeoutMs / 1000)}s`, 'wait for it to finish, or raise --lock-timeout');
    if (!told) { onWait(holder); told = true; }
    await new Promise((r) => setTimeout(r, 200));
  }
}
