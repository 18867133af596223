/** Output safety and privilege checks of the CLI (issue #6, Security). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../helpers/run-cli.js';
import { runState } from '../../../src/cli/commands/state.js';
import { parseArgs } from '../../../src/cli/args.js';
import { RecordedHost } from '../../../src/host/recorded-host.js';

const REPO = join(import.meta.dirname, '..', '..', '..');
const CASE = join(REPO, 'test', 'golden', 'cases', 's15-loadbalancer', 'input');
const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-safety-'));
let ran = 0;

test('-o refuses a symbolic link to a directory elsewhere, and writes nothing there', async () => {
  ran++;
  const target = join(tmp, 'elsewhere');
  mkdirSync(target);
  symlinkSync(target, join(tmp, 'out-link'));
  const r = await runCli(['compile', '-f', CASE, '--hostname-override=test-node', '-o', join(tmp, 'out-link')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /symbolic link/);
  assert.equal(readdirSync(target), []);
});

test('a symlink planted at an output file name is replaced, not followed', async () => {
  ran++;
  const out = join(tmp, 'out');
  mkdirSync(out);
  const victim = join(tmp, 'victim.txt');
  writeFileSync(victim, 'keep me\n');
  symlinkSync(victim, join(out, 'ipset.restore'));
  const r = await runCli(['compile', '-f', CASE, '--hostname-override=test-node', '-o', out]);
  assert.is(r.code, 0, r.stderr);
  assert.is(readFileSync(victim, 'utf8'), 'keep me\n');
  assert.ok(readFileSync(join(out, 'ipset.restore'), 'utf8').startsWith('create KUBE-'));
});

test('an invalid input leaves the previous outputs untouched', async () => {
  ran++;
  const out = join(tmp, 'out2');
  assert.is((await runCli(['compile', '-f', CASE, '--hostname-override=test-node', '-o', out])).code, 0);
  const before = readFileSync(join(out, 'ipvsadm.restore'), 'utf8');
  const bad = join(tmp, 'bad.yaml');
  writeFileSync(bad, 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 70000}]}\n');
  const r = await runCli(['compile', '-f', bad, '-o', out]);
  assert.is(r.code, 1);
  assert.is(readFileSync(join(out, 'ipvsadm.restore'), 'utf8'), before);
});

test('saved plans are written with mode 0600', async () => {
  ran++;
  const state = join(tmp, 'empty-state');
  mkdirSync(state);
  const plan = join(tmp, 'plan.json');
  const r = await runCli(['plan', '-f', CASE, '--hostname-override=test-node', '--state', state, '-out', plan]);
  assert.is(r.code, 0, r.stderr);
  assert.is(statSync(plan).mode & 0o777, 0o600);
  assert.is(JSON.parse(readFileSync(plan, 'utf8')).kind, 'ipvsc-plan');
});

/** Runs `fn` as if not root: process.getuid is what hostFor and apply consult. */
async function asNonRoot<T>(fn: () => Promise<T>): Promise<T> {
  const real = process.getuid!;
  process.getuid = () => 1000;
  try {
    return await fn();
  } finally {
    process.getuid = real;
  }
}

test('plan against the live kernel refuses to run without root, with a message', async () => {
  ran++;
  const r = await asNonRoot(() => runCli(['plan', '-f', CASE, '--hostname-override=test-node']));
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /needs root/);
  assert.not.match(r.stderr, /\n\s+at /);
});

test('apply refuses to run without root, with a message, and changes nothing', async () => {
  ran++;
  const r = await asNonRoot(() => runCli(['apply', '-f', CASE, '--hostname-override=test-node', '--lock-file', join(tmp, 'lock')]));
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /needs root/);
  assert.not.ok(existsSync(join(tmp, 'lock')), 'lock released');
});

test('plan --from a compiled directory equals plan from the inputs', async () => {
  ran++;
  const out = join(tmp, 'from');
  const state = join(tmp, 'empty-state2');
  mkdirSync(state);
  assert.is((await runCli(['compile', '-f', CASE, '--hostname-override=test-node', '-o', out])).code, 0);
  const a = await runCli(['plan', '--from', out, '--state', state, '--json']);
  const b = await runCli(['plan', '-f', CASE, '--hostname-override=test-node', '--state', state, '--json']);
  assert.is(a.code, 0, a.stderr);
  const strip = (s: string) => (JSON.parse(s) as { changes: { origin?: string }[] }).changes.map((c) => ({ ...c, origin: undefined }));
  assert.equal(strip(a.stdout), strip(b.stdout));
});

test('state save writes the host\'s tool outputs as a state directory (0600)', async () => {
  ran++;
  const snap = { 'ipset.save': 'create KUBE-IPVS-IPS hash:ip family inet hashsize 1024 maxelem 65536\n', 'node.json': '{"name":"n1"}\n' };
  const dir = join(tmp, 'saved');
  const code = await runState(parseArgs(['state', 'save', dir]), { cwd: tmp, env: {}, stdout: () => undefined, stderr: () => undefined, readStdin: () => Buffer.from(''), isTTY: false }, new RecordedHost(snap));
  assert.is(code, 0);
  assert.is(readFileSync(join(dir, 'ipset.save'), 'utf8'), snap['ipset.save']);
  assert.is(statSync(join(dir, 'node.json')).mode & 0o777, 0o600);
  assert.not.ok(existsSync(join(dir, 'iptables.save')));
});

test('ran every case', () => assert.ok(ran >= 8, `ran ${ran}`));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
