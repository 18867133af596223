/**
 * Runs a scenario script inside the IPVS VM (test/vm/) and turns each `ok N - name` /
 * `not ok N - name` line it prints into a uvu test; `#` lines after a failure are its detail.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
// @ts-expect-error plain ESM helper without types
import { runInVm as runInVmUntyped } from '../vm/vm.mjs';

interface VmRun { code: number; stdout: string; log: string }
const runInVm = runInVmUntyped as (script: string, opts: object) => Promise<VmRun>;

export async function runTapInVm(script: string, opts: { minResults: number; timeoutSeconds: number }): Promise<void> {
  const run = await runInVm(script, { timeoutMs: (opts.timeoutSeconds + 100) * 1000, loadModules: true, env: { VM_TIMEOUT: String(opts.timeoutSeconds) } });
  const lines = run.stdout.split('\n');
  const results = lines.filter((l) => /^(not )?ok \d+ - /.test(l));
  test(`the VM ran ${script}`, () => {
    assert.ok(results.length >= opts.minResults, `expected at least ${opts.minResults} results, got ${results.length}\n${run.stdout.slice(-3000)}\n${run.log.slice(-2000)}`);
  });
  for (const r of results) {
    const name = r.replace(/^(not )?ok \d+ - /, '');
    test(name, () => {
      if (!r.startsWith('not ok')) return;
      const after = lines.slice(lines.indexOf(r) + 1);
      const end = after.findIndex((x) => !x.startsWith('#'));
      assert.unreachable(`${name}\n${(end < 0 ? after : after.slice(0, end)).join('\n')}`);
    });
  }
  test.run();
}
