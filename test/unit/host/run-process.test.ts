/**
 * host/run-process.ts, with real processes (node itself as the program): argv is never a shell
 * line, a large payload reaches stdin whole, exit codes, stderr, signals and a missing program.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../../src/host/run-process.js';

let ran = 0;
const node = process.execPath;

test('a 4 MB payload reaches stdin whole; stdout comes back as written', async () => {
  ran++;
  const payload = '-a -t 10.96.0.1:443 -r 10.244.1.1:6443 -m -w 1\n'.repeat(90_000);
  const r = await runProcess(node, ['-e', 'let n=0;process.stdin.on("data",(b)=>n+=b.length).on("end",()=>process.stdout.write(String(n)))'], { input: payload });
  assert.equal(r, { exitCode: 0, stdout: String(Buffer.byteLength(payload)), stderr: '' });
});

test('arguments are passed as they are: no shell expands them', async () => {
  ran++;
  const dir = mkdtempSync(join(tmpdir(), 'ipvsc-run-'));
  const word = `$(touch ${join(dir, 'x')}); echo "'; *`;
  const r = await runProcess(node, ['-e', 'process.stdout.write(process.argv[1])', word]);
  assert.is(r.stdout, word);
  assert.not.ok(existsSync(join(dir, 'x')));
});

test('exit code and stderr; no stdin without a payload; the environment given', async () => {
  ran++;
  const r = await runProcess(node, ['-e', 'process.stderr.write("ipvsc-test: " + process.env.LC_ALL + " " + require("fs").fstatSync(0).isFIFO()); process.exit(3)'], { env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(r, { exitCode: 3, stdout: '', stderr: 'ipvsc-test: C false' });
});

test('a program that is not there: exit 127 and why; one killed: 128 + the signal', async () => {
  ran++;
  const missing = await runProcess('/nonexistent/ipvsadm', ['-Ln']);
  assert.is(missing.exitCode, 127);
  assert.match(missing.stderr, /cannot run \/nonexistent\/ipvsadm: .*ENOENT/);
  const killed = await runProcess(node, ['-e', 'setTimeout(() => {}, 60000)'], { timeoutMs: 200 });
  assert.is(killed.exitCode, 137);
  assert.is(killed.timedOut, true);
  assert.match(killed.stderr, /killed after 0.2 s/);
});

test('a program that exits without reading its payload does not break the caller', async () => {
  ran++;
  const r = await runProcess(node, ['-e', 'process.exit(2)'], { input: 'x'.repeat(8 << 20) });
  assert.is(r.exitCode, 2);
});

test('ran every case', () => assert.ok(ran >= 5, `ran ${ran}`));
test.run();
