// test/vm/vm.mjs — run a shell script inside the IPVS-capable QEMU VM (see README.md).
//
//   import { runInVm, vmAvailable } from './test/vm/vm.mjs';
//   const { code, stdout, resultsDir } = await runInVm('test/vm/smoke.sh', { args: ['x'], env: { FOO: '1' } });
//
// The script runs as root under bash with cwd = repo root; $VM_RESULTS inside is `resultsDir` here.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const runSh = join(here, 'run.sh');
const setupSh = join(here, 'setup.sh');

/**
 * True when the VM can be used here: qemu installed and the kernel cache prepared (or preparable:
 * pass { prepare: true } to run setup.sh, which needs root for missing packages + network once).
 * @param {{prepare?: boolean}} [opts]
 */
export function vmAvailable({ prepare = false } = {}) {
  if (prepare) {
    const r = spawnSync('bash', [setupSh], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) return false;
  }
  const q = spawnSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
  return q.status === 0;
}

/**
 * Boot the VM, run `scriptPath` inside, resolve when the VM is gone.
 * @param {string} scriptPath  host path of a bash script (anywhere; /tmp paths are copied in)
 * @param {{args?: string[], timeoutMs?: number, env?: Record<string,string>, resultsDir?: string,
 *          loadModules?: boolean, onOutput?: (chunk: string) => void}} [opts]
 * @returns {Promise<{code: number, stdout: string, resultsDir: string, log: string}>}
 *   code: the script's exit code (124 = VM timeout, 125 = VM failed before/while running it);
 *   stdout: the script's combined stdout+stderr; log: run.sh's own stderr (timings, errors).
 */
export function runInVm(scriptPath, opts = {}) {
  const { args = [], timeoutMs = 300_000, env = {}, loadModules = true, onOutput } = opts;
  const resultsDir = opts.resultsDir ?? mkdtempSync(join(tmpdir(), 'ipvsc-vm-'));
  const argv = [runSh];
  for (const [k, v] of Object.entries(env)) argv.push('-e', `${k}=${v}`);
  argv.push('--', resolve(scriptPath), ...args);
  const childEnv = {
    ...process.env,
    VM_TIMEOUT: String(Math.max(1, Math.ceil(timeoutMs / 1000))),
    VM_RESULTS_DIR: resultsDir,
  };
  if (!loadModules) childEnv.VM_NO_MODULES = '1';
  else delete childEnv.VM_NO_MODULES;
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let log = '';
    child.stdout.setEncoding('utf8').on('data', (c) => { stdout += c; onOutput?.(c); });
    child.stderr.setEncoding('utf8').on('data', (c) => { log += c; });
    // run.sh enforces VM_TIMEOUT itself; this is only a backstop if run.sh hangs.
    const backstop = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 30_000);
    child.on('error', (e) => { clearTimeout(backstop); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(backstop);
      resolvePromise({ code: code ?? (signal ? 124 : 125), stdout, resultsDir, log });
    });
  });
}
