/**
 * Runs one program: argv array, never a shell; the payload on stdin (or stdin closed); stdout
 * and stderr captured as UTF-8; a time limit. node:child_process directly rather than execa:
 * importing execa 9 costs ~170-260 ms on the 2-core machine (~3.4 s under the VM's TCG), more
 * than a `--refresh=changed` apply of one endpoint spends in all its reads (issue #5), and ipvsc
 * needs none of what it adds over spawn.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface ProcessResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Killed because it ran past the time limit. */
  readonly timedOut?: boolean;
}

export interface RunOptions {
  /** Written to stdin, then stdin is closed; without it stdin is /dev/null. */
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; default 120 s. */
  readonly timeoutMs?: number;
}

/**
 * Never rejects: a program that cannot be started is exit 127 with the reason on stderr, one
 * killed by a signal is 128 + the signal's number (as a shell reports it).
 */
export function runProcess(file: string, args: readonly string[], opts: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProcessResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const child = spawn(file, [...args], { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, shell: false });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    // ENOENT, EACCES: no process ever ran (no 'close' with an exit code follows for sure).
    child.on('error', (e) => {
      if (child.pid === undefined) finish({ exitCode: 127, stdout: '', stderr: `cannot run ${file}: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8') + (timedOut ? `\n${file}: killed after ${(opts.timeoutMs ?? 120_000) / 1000} s\n` : '');
      finish({ exitCode: code ?? 128 + (signal ? constants.signals[signal] : 0), stdout: Buffer.concat(out).toString('utf8'), stderr, ...(timedOut ? { timedOut } : {}) });
    });
    if (opts.input !== undefined && child.stdin) {
      // A program that exits before reading all of its input closes the pipe: its exit code tells.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}
