/**
 * Real traffic through what ipvsc apply programmed: boots the Debian kernel under qemu (test/vm/) and runs
 * traffic-scenarios.sh there; each `ok`/`not ok` line it prints is one test here.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
// @ts-expect-error plain ESM helper without types
import { runInVm as runInVmUntyped } from '../vm/vm.mjs';

const runInVm = runInVmUntyped as (script: string, opts: object) => Promise<unknown>;

interface VmRun { code: number; stdout: string; log: string }

const run = (await runInVm('test/vm-tests/traffic-scenarios.sh', { timeoutMs: 1_500_000, loadModules: true, env: { VM_TIMEOUT: '1400' } })) as VmRun;
const lines = run.stdout.split('\n');
const results = lines.filter((l) => /^(not )?ok \d+ - /.test(l));

test('the VM ran the traffic scenarios', () => {
  assert.ok(results.length >= 12, `expected at least 12 scenario results, got ${results.length}\n${run.stdout.slice(-3000)}\n${run.log.slice(-2000)}`);
});

for (const r of results) {
  const name = r.replace(/^(not )?ok \d+ - /, '');
  test(name, () => {
    if (r.startsWith('not ok')) {
      const i = lines.indexOf(r);
      const after = lines.slice(i + 1);
      const end = after.findIndex((x) => !x.startsWith("#"));
      const detail = (end < 0 ? after : after.slice(0, end)).join("\n");
      assert.unreachable(`${name}\n${detail}`);
    }
  });
}

test.run();
