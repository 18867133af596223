/** Runs the ipvsc CLI in-process with captured output (no child process: fast and debuggable). */
import { main } from '../../src/main.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(argv: readonly string[], opts: { cwd?: string; stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? {},
    stdout: (s) => { stdout += s; },
    stderr: (s) => { stderr += s; },
    readStdin: () => Buffer.from(opts.stdin ?? ''),
    isTTY: false,
  });
  return { code, stdout, stderr };
}
