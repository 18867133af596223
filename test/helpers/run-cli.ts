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
  // As a process's stdin: read once, then at its end.
  let stdin: string | undefined = opts.stdin ?? '';
  const code = await main(argv, {
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? {},
    stdout: (s) => { stdout += s; },
    stderr: (s) => { stderr += s; },
    readStdin: () => {
      const s = stdin ?? '';
      stdin = undefined;
      return Buffer.from(s);
    },
    isTTY: false,
  });
  return { code, stdout, stderr };
}
