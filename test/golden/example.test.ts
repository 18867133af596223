/** The committed outputs of the bundled example are what compile produces now (compile --check). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { runCli } from '../helpers/run-cli.js';

const REPO = join(import.meta.dirname, '..', '..');

test('examples/cluster-out is up to date for every node', async () => {
  const r = await runCli(['compile', '-f', 'examples/cluster', '--all-nodes', '-o', 'examples/cluster-out', '--check'], { cwd: REPO });
  assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.is((r.stderr.match(/is up to date/g) ?? []).length, 3, r.stderr);
});

test('--check exits 2 and prints a diff when a committed file differs', async () => {
  const r = await runCli(['compile', '-f', 'examples/cluster', '--hostname-override', 'node-a', '--ipvs-scheduler', 'wrr', '-o', 'examples/cluster-out/node-a', '--check'], { cwd: REPO });
  assert.is(r.code, 2);
  assert.match(r.stdout, /^--A -t 10\.96\.0\.1:443 -s rr$/m);
  assert.match(r.stdout, /^\+-A -t 10\.96\.0\.1:443 -s wrr$/m);
});

test.run();
