/** Input forms of -f: stdin, kind: List, JSON, directories, mixed with files (issue #2). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../../helpers/run-cli.js';

const REPO = join(import.meta.dirname, '..', '..', '..');
const CASE = join(REPO, 'test', 'golden', 'cases', 's05-nodeport-ipv4-sctp-etp-local');
const FLAGS = readFileSync(join(CASE, 'input', 'flags'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-inputs-'));
const ARTIFACTS = ['ipvsadm.restore', 'ipset.restore', 'iptables.restore'];
let ran = 0;

/** All objects of the case's input files, as `kubectl get -o yaml|json` would print them. */
function objects(): unknown[] {
  const dir = join(CASE, 'input');
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as unknown));
}

async function compileTo(name: string, args: string[], stdin?: string): Promise<Record<string, string>> {
  const out = join(tmp, name);
  const r = await runCli(['compile', ...args, ...FLAGS, '-o', out], stdin !== undefined ? { stdin } : {});
  assert.is(r.code, 0, r.stderr);
  return Object.fromEntries(ARTIFACTS.map((a) => [a, readFileSync(join(out, a), 'utf8')]));
}

test('a kind: List on stdin (kubectl get -o yaml | ipvsc compile -f -) equals the files', async () => {
  ran++;
  const fromDir = await compileTo('dir', ['-f', join(CASE, 'input')]);
  const list = `apiVersion: v1\nkind: List\nitems:\n${objects().map((o) => `- ${JSON.stringify(o)}`).join('\n')}\n`;
  assert.equal(await compileTo('stdin-yaml', ['-f', '-'], list), fromDir);
  const json = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects() });
  assert.equal(await compileTo('stdin-json', ['-f', '-'], json), fromDir);
  for (const a of ARTIFACTS) assert.is(fromDir[a], readFileSync(join(CASE, 'expected', a), 'utf8'));
});

test('-f given twice (a file and stdin) reads both', async () => {
  ran++;
  const dir = join(CASE, 'input');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  const [first, ...rest] = files;
  const stdin = rest.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n---\n');
  const both = await compileTo('both', ['-f', join(dir, first!), '-f', '-'], stdin);
  assert.is(both['ipvsadm.restore'], readFileSync(join(CASE, 'expected', 'ipvsadm.restore'), 'utf8'));
});

test('ran every case', () => assert.is(ran, 2));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
