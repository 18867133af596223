/** The committed outputs of the bundled example are what compile produces now (compile --check). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

test('--check compares manifest.json: a change only it carries (exclude CIDRs) is found', async () => {
  // --ipvs-exclude-cidrs changes what apply leaves alone, and no restore file: only the manifest.
  const r = await runCli(['compile', '-f', 'examples/cluster', '--hostname-override', 'node-a', '--ipvs-exclude-cidrs', '10.0.0.0/8', '-o', 'examples/cluster-out/node-a', '--check'], { cwd: REPO });
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stdout, /^--- manifest\.json \(committed\)/m);
  assert.match(r.stdout, /^- {4}"192\.168\.100\.0\/24"$/m);
  assert.match(r.stdout, /^\+ {4}"10\.0\.0\.0\/8"$/m);
  assert.match(r.stderr, /1 file\(s\) in .* differ/);
});

test('manifest.json does not depend on -o, the working directory or how inputs and flags are spelled', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-manifest-'));
  try {
    // From examples/ with relative paths, the node named by flag rather than by --all-nodes.
    const r = await runCli(['compile', '-f', './cluster/', '--hostname-override=node-a', '-o', tmp], { cwd: join(REPO, 'examples') });
    assert.is(r.code, 0, r.stderr);
    assert.is(readFileSync(join(tmp, 'manifest.json'), 'utf8'), readFileSync(join(REPO, 'examples/cluster-out/node-a/manifest.json'), 'utf8'));
    // The same compile with one more flag that changes the configuration: another digest.
    const other = join(tmp, 'other');
    assert.is((await runCli(['compile', '-f', './cluster/', '--hostname-override=node-a', '--ipvs-strict-arp=false', '-o', other], { cwd: join(REPO, 'examples') })).code, 0);
    const digest = (f: string): string => (JSON.parse(readFileSync(f, 'utf8')) as { inputsDigest: string }).inputsDigest;
    assert.is.not(digest(join(other, 'manifest.json')), digest(join(tmp, 'manifest.json')));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('--all-nodes from stdin compiles every node from the one read (stdin cannot be read twice)', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-stdin-'));
  try {
    const dir = join(REPO, 'examples/cluster');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
    assert.ok(files.length >= 5, files.join(' '));
    const stdin = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n---\n');
    const r = await runCli(['compile', '-f', '-', '--all-nodes', '-o', tmp], { cwd: REPO, stdin });
    assert.is(r.code, 0, r.stderr);
    for (const node of ['node-a', 'node-b', 'node-c']) {
      for (const f of ['ipvsadm.restore', 'ipset.restore', 'iptables.restore']) {
        const want = readFileSync(join(REPO, 'examples/cluster-out', node, f), 'utf8');
        assert.ok(want.length > 1000, `${node}/${f} is not a real output`);
        assert.is(readFileSync(join(tmp, node, f), 'utf8'), want, `${node}/${f}`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('--all-nodes names the folder of a node gone from the inputs: out of date for --check, a warning otherwise, never deleted', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-stale-'));
  try {
    cpSync(join(REPO, 'examples/cluster-out'), tmp, { recursive: true });
    cpSync(join(tmp, 'node-a'), join(tmp, 'node-z'), { recursive: true });
    const check = await runCli(['compile', '-f', 'examples/cluster', '--all-nodes', '-o', tmp, '--check'], { cwd: REPO });
    assert.is(check.code, 2, check.stderr);
    assert.match(check.stderr, /node-z holds the outputs of node node-z, which is not among the inputs' Node objects; remove the folder\n/);
    assert.is((check.stderr.match(/is up to date/g) ?? []).length, 3, check.stderr);
    const write = await runCli(['compile', '-f', 'examples/cluster', '--all-nodes', '-o', tmp], { cwd: REPO });
    assert.is(write.code, 0, write.stderr);
    assert.match(write.stderr, /warning: .*node-z holds the outputs of node node-z/);
    assert.ok(readdirSync(join(tmp, 'node-z')).includes('manifest.json'), 'left in place');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
