/**
 * Hostile input that cannot be committed as files: huge files, empty inputs, alias bombs,
 * 10,000-level nesting, broken encodings, and strings crafted to inject lines into the artifacts.
 *
 * The rule under test: bad input gets exit 1 with a diagnostic (never a crash, exit 70, or a
 * hang), and nothing a user writes into a free-form field ever reaches an artifact.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runProcess } from '../../src/host/run-process.js';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../helpers/run-cli.js';
import type { CliResult } from '../helpers/run-cli.js';
import { DEFAULT_MAX_INPUT } from '../../src/cli/inputs.js';

const ROOT = mkdtempSync(join(tmpdir(), 'ipvsc-hostile-'));
let ran = 0;
let injectionCases = 0;
let acceptedInjections = 0;
let refusedInjections = 0;

interface JsonDiag { severity: string; code: string; summary: string }

const diagsOf = (r: CliResult): JsonDiag[] => {
  // --json prints one pretty-printed object; a successful compile adds a "wrote N files" line.
  if (!r.stderr.startsWith('{')) return [];
  const end = r.stderr.indexOf('\n}\n');
  return (JSON.parse(r.stderr.slice(0, end + 2)) as { diagnostics: JsonDiag[] }).diagnostics;
};
const codes = (r: CliResult, severity = 'error'): string[] => diagsOf(r).filter((d) => d.severity === severity).map((d) => d.code);

/** Sanity every run must pass: a decision (0 or 1), never a crash. */
function assertNoCrash(r: CliResult, what: string): void {
  assert.ok(r.code === 0 || r.code === 1, `${what}: exit ${r.code}\n${r.stderr}`);
  assert.not.match(r.stderr, /internal error|\n\s+at .*\(/, `${what}: stack trace\n${r.stderr}`);
}

let dirN = 0;
function caseDir(files: Record<string, string | Buffer>): string {
  const d = join(ROOT, `c${dirN++}`);
  mkdirSync(join(d, 'in'), { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(join(d, 'in', name), body);
  return d;
}

type Compiled = CliResult & { out: string; argv: string[]; cwd: string };

async function compile(dir: string, extra: readonly string[] = [], inputs?: readonly string[]): Promise<Compiled> {
  const out = join(dir, 'out');
  const ins = inputs ?? readdirSync(join(dir, 'in')).map((f) => join(dir, 'in', f));
  const argv = ['compile', ...ins.flatMap((f) => ['-f', f]), '--hostname-override=n1', '--node-ip=192.168.0.10', '--json', ...extra, '-o', out];
  const r = await runCli(argv, { cwd: dir });
  ran++;
  return { ...r, out, argv, cwd: dir };
}

// ---------------------------------------------------------------------------------------------
// Size

test('an input over --max-input-bytes is refused with INPUT_TOO_LARGE and nothing written', async () => {
  const d = caseDir({ 'big.yaml': '# padding\n'.repeat(200_000) }); // 2 MB
  const r = await compile(d, ['--max-input-bytes=1048576']);
  assertNoCrash(r, 'too large');
  assert.is(r.code, 1);
  assert.equal(codes(r), ['INPUT_TOO_LARGE']);
  assert.not.ok(existsSync(r.out));
});

test('a file over the default limit (sparse, > 256 MiB) is refused by its size, before reading', async () => {
  const d = caseDir({});
  const p = join(d, 'in', 'huge.yaml');
  const fd = openSync(p, 'w');
  ftruncateSync(fd, DEFAULT_MAX_INPUT + 1); // sparse: no disk, no time
  closeSync(fd);
  const r = await compile(d);
  assert.is(r.code, 1, r.stderr);
  assert.equal(codes(r), ['INPUT_TOO_LARGE']);
});

/**
 * Runs the CLI from source in a child process with a 512 MB heap (a blow-up crashes it: exit ≠ 1)
 * and SIGKILLs it after `ms` (a kill is a failure): bounded memory and time, not a timing assertion.
 */
async function runChild(args: readonly string[], ms: number): Promise<{ code: number | undefined; timedOut: boolean; stderr: string; elapsed: number }> {
  const mainUrl = pathToFileURL(join(import.meta.dirname, '../../src/main.ts')).href;
  const script = `import { main } from ${JSON.stringify(mainUrl)}; process.exitCode = await main(process.argv.slice(1));`;
  const t0 = Date.now();
  const r = await runProcess(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', '--input-type=module', '-e', script, ...args], { timeoutMs: ms });
  return { code: r.exitCode, timedOut: r.timedOut === true, stderr: r.stderr, elapsed: Date.now() - t0 };
}

test('a 100 MB file is refused quickly, in a child process with a 60 s hard kill', async () => {
  const d = caseDir({});
  const p = join(d, 'in', 'big.yaml');
  const fd = openSync(p, 'w');
  const chunk = Buffer.from(`apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n---\n`.repeat(10_000));
  let size = 0;
  while (size < 100 * 1024 * 1024 + 1) { writeSync(fd, chunk); size += chunk.length; }
  closeSync(fd);
  const r = await runChild(['compile', '-f', p, '--max-input-bytes', String(64 * 1024 * 1024), '--json', '-o', join(d, 'out')], 60_000);
  ran++;
  assert.not.ok(r.timedOut, `killed after ${r.elapsed} ms: the CLI hung on a 100 MB input`);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /"INPUT_TOO_LARGE"/);
  assert.not.ok(existsSync(join(d, 'out')));
});

// ---------------------------------------------------------------------------------------------
// Empty input: consistent everywhere. ipvsc compiles a node without Services (kube-proxy with
// no Services is a real state, and upstream scenarios compile it), exit 0, with one loud
// INPUT_NO_OBJECTS warning, whatever the shape of the emptiness.

const EMPTY_SHAPES: Record<string, Record<string, string>> = {
  'an empty file': { 'empty.yaml': '' },
  'a whitespace-only file': { 'blank.yaml': ' \n\n\t\n  \n' },
  'a comments-only file': { 'comments.yaml': '# nothing here\n---\n# nor here\n' },
  'a document separator only': { 'sep.yaml': '---\n...\n' },
  'an empty kind: List': { 'list.yaml': 'apiVersion: v1\nkind: List\nitems: []\n' },
  'an empty directory': {},
};

for (const [what, files] of Object.entries(EMPTY_SHAPES)) {
  test(`empty input (${what}) compiles a node without Services, with an INPUT_NO_OBJECTS warning`, async () => {
    const d = caseDir(files);
    const r = await compile(d, [], [join(d, 'in')]);
    assertNoCrash(r, what);
    assert.is(r.code, 0, r.stderr);
    const warns = codes(r, 'warning');
    assert.ok(warns.includes('INPUT_NO_OBJECTS'), `warnings: ${warns.join(', ')}`);
    assert.not.ok(warns.includes('INPUT_EMPTY'), 'one warning for the whole input, not one per file');
    assert.is(readFileSync(join(r.out, 'ipvsadm.restore'), 'utf8'), '', 'no virtual servers');
  });
}

test('an empty file next to real objects only gets the per-file INPUT_EMPTY warning', async () => {
  const d = caseDir({ 'empty.yaml': '', 'svc.json': JSON.stringify(baseService()) });
  const r = await compile(d);
  assert.is(r.code, 0, r.stderr);
  assert.ok(codes(r, 'warning').includes('INPUT_EMPTY'));
  assert.not.ok(codes(r, 'warning').includes('INPUT_NO_OBJECTS'));
});

// ---------------------------------------------------------------------------------------------
// Expansion and depth

test('a YAML alias bomb (10 levels x 10 aliases) is refused fast with INPUT_TOO_COMPLEX', async () => {
  const lines = ['  l0: &l0 [a, a, a, a, a, a, a, a, a, a]'];
  for (let i = 1; i < 10; i++) lines.push(`  l${i}: &l${i} [${Array.from({ length: 10 }, () => `*l${i - 1}`).join(', ')}]`);
  const text = `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\nbomb:\n${lines.join('\n')}\n`;
  const d = caseDir({ 'bomb.yaml': text });
  const r = await compile(d);
  assertNoCrash(r, 'alias bomb');
  assert.is(r.code, 1);
  assert.equal(codes(r), ['INPUT_TOO_COMPLEX']);
});

test('an alias bomb inside one annotation value is refused too', async () => {
  const lines = ['x0: &x0 "lol"'];
  for (let i = 1; i < 10; i++) lines.push(`x${i}: &x${i} [${Array.from({ length: 10 }, () => `*x${i - 1}`).join(', ')}]`);
  const text = `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n    a: {${lines.join(', ')}}\nspec:\n  ports: [{port: 80}]\n`;
  const r = await compile(caseDir({ 'bomb.yaml': text }));
  assert.is(r.code, 1, r.stderr);
  assert.equal(codes(r), ['INPUT_TOO_COMPLEX']);
});

for (const [what, make] of [
  ['JSON arrays', (n: number) => `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"x":${'['.repeat(n)}${']'.repeat(n)}}`],
  ['JSON objects', (n: number) => `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"x":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`],
  ['YAML flow lists', (n: number) => `apiVersion: v1\nkind: Service\nmetadata: {name: web}\nx: ${'['.repeat(n)}${']'.repeat(n)}\n`],
] as const) {
  test(`10,000 levels of nested ${what} are refused with INPUT_TOO_DEEP`, async () => {
    const ext = what.startsWith('JSON') ? 'json' : 'yaml';
    const r = await compile(caseDir({ [`deep.${ext}`]: make(10_000) }));
    assertNoCrash(r, what);
    assert.is(r.code, 1);
    assert.equal(codes(r), ['INPUT_TOO_DEEP']);
  });
}

test('10,000 levels of broken JSON nesting: a syntax error, found without recursion', async () => {
  const r = await compile(caseDir({ 'deep.json': `${'['.repeat(10_000)}1,` }));
  assertNoCrash(r, 'broken deep json');
  assert.is(r.code, 1);
  assert.equal(codes(r), ['JSON_SYNTAX']);
});

// ---------------------------------------------------------------------------------------------
// Encoding

/** bytes, expected code, offset of the bad byte within `bytes` */
const BAD_BYTES: Record<string, [Buffer, string, number]> = {
  'a lone 0xFF byte': [Buffer.from([0xff]), 'INPUT_ENCODING', 0],
  'an overlong encoding of "/"': [Buffer.from([0xc0, 0xaf]), 'INPUT_ENCODING', 0],
  'a UTF-16 surrogate encoded in UTF-8': [Buffer.from([0xed, 0xa0, 0x80]), 'INPUT_ENCODING', 0],
  'a sequence cut short by the closing quote': [Buffer.from([0xe2, 0x82]), 'INPUT_ENCODING', 0],
  'Latin-1 text': [Buffer.from('Jos\xe9', 'latin1'), 'INPUT_ENCODING', 3],
  'a NUL byte': [Buffer.from([0x00]), 'INPUT_BINARY', 0],
  'UTF-16LE with a BOM': [Buffer.from('\ufeffapiVersion: v1\n', 'utf16le'), 'INPUT_ENCODING', 0],
};

for (const [what, [bytes, code, badAt]] of Object.entries(BAD_BYTES)) {
  test(`${what} is refused with ${code}, positioned`, async () => {
    const head = Buffer.from('apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n    note: "');
    const body = code === 'INPUT_ENCODING' && what.startsWith('UTF-16') ? bytes : Buffer.concat([head, bytes, Buffer.from('"\nspec:\n  ports: [{port: 80}]\n')]);
    const r = await compile(caseDir({ 'bad.yaml': body }));
    assertNoCrash(r, what);
    assert.is(r.code, 1);
    assert.equal(codes(r), [code]);
    if (!what.startsWith('UTF-16')) {
      const d = (JSON.parse(r.stderr) as { diagnostics: { pos?: { line: number; col: number } }[] }).diagnostics[0]!;
      assert.equal(d.pos, { line: 6, col: 12 + badAt }, 'points at the first bad byte');
    }
  });
}

test('a UTF-8 BOM is accepted', async () => {
  const r = await compile(caseDir({ 'bom.json': `\ufeff${JSON.stringify(baseService())}` }));
  assert.is(r.code, 0, r.stderr);
});

// ---------------------------------------------------------------------------------------------
// Injection: crafted strings in every free-form field either get refused (exit 1) or never
// reach an artifact.

const PAYLOADS = [
  '"\n-A INPUT -j ACCEPT PWNED1\nCOMMIT\n',
  'x" -j ACCEPT # PWNED2',
  'add KUBE-CLUSTER-IP 1.2.3.4,tcp:1 PWNED3',
  '-A -t 6.6.6.6:1 -s rr PWNED4',
  'PWNED5 \'single\' "double" \\backslash\\ \\n $(id) `id`',
  'PWNED6\u2028-A INPUT -j ACCEPT\u2029COMMIT',
  'PWNED7\r\n*filter\r\n-A INPUT -j ACCEPT\r\nCOMMIT',
  'PWNED8\u0000\u001b[31m',
];
/** Text that must never appear in an artifact. */
const MARKERS = ['PWNED', '6.6.6.6', '1.2.3.4', '\u2028', '\u2029', '\u001b', '$(id)'];

type Obj = Record<string, unknown>;
function baseService(): Obj {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { namespace: 'shop', name: 'web', labels: { app: 'web' }, annotations: { note: 'x' } },
    spec: {
      type: 'LoadBalancer', clusterIP: '10.96.0.10', selector: { app: 'web' }, externalTrafficPolicy: 'Local', healthCheckNodePort: 30100,
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'web', nodePort: 30080, appProtocol: 'http' }],
      loadBalancerClass: 'example.com/lb',
    },
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.20', hostname: 'lb.example.com', ipMode: 'VIP' }] } },
  };
}
function baseSlice(): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { namespace: 'shop', name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' }, annotations: { note: 'x' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.0.5'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', zone: 'z1', hostname: 'web-0', targetRef: { kind: 'Pod', name: 'web-0', namespace: 'shop' }, hints: { forZones: [{ name: 'z1' }], forNodes: [{ name: 'n1' }] } },
      { addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'n2', zone: 'z2' },
    ],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: 'http' }],
  };
}
function baseNode(): Obj {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' }, annotations: { note: 'x' } },
    spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
    status: { addresses: [{ type: 'InternalIP', address: '192.168.0.10' }, { type: 'Hostname', address: 'n1' }] },
  };
}
function baseConfig(): Obj {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'ipvs',
    ipvs: { scheduler: 'rr' }, detectLocalMode: 'ClusterCIDR', clusterCIDR: '10.244.0.0/16',
    detectLocal: { bridgeInterface: 'cbr0', interfaceNamePrefix: 'veth' }, metricsBindAddress: '127.0.0.1:10249', featureGates: {},
  };
}

type Objects = { svc: Obj; slice: Obj; node: Obj; config: Obj };
type Setter = (o: Objects, p: string) => void;
const get = (o: Obj, path: string): Obj => path.split('.').reduce((acc: Obj, k) => acc[k] as Obj, o);
const set = (o: Obj, path: string, v: unknown): void => {
  const keys = path.split('.');
  const last = keys.pop()!;
  (keys.length ? get(o, keys.join('.')) : o)[last] = v;
};
const at0 = (o: Obj, path: string): Obj => (get(o, path) as unknown as Obj[])[0]!;

/** Every free-form string field a user controls, in each object kind ipvsc reads. */
const FIELDS: Record<string, Setter> = {
  'Service metadata.name (+ slice label)': (o, p) => { set(o.svc, 'metadata.name', p); (get(o.slice, 'metadata.labels'))['kubernetes.io/service-name'] = p; },
  'Service metadata.namespace (+ slice)': (o, p) => { set(o.svc, 'metadata.namespace', p); set(o.slice, 'metadata.namespace', p); },
  'Service label value': (o, p) => { get(o.svc, 'metadata.labels')['app'] = p; },
  'Service label key': (o, p) => { get(o.svc, 'metadata.labels')[p] = 'v'; },
  'Service annotation value': (o, p) => { get(o.svc, 'metadata.annotations')['note'] = p; },
  'Service annotation key': (o, p) => { get(o.svc, 'metadata.annotations')[p] = p; },
  'Service selector value': (o, p) => { get(o.svc, 'spec.selector')['app'] = p; },
  'Service port name (+ slice port name)': (o, p) => { at0(o.svc, 'spec.ports')['name'] = p; at0(o.slice, 'ports')['name'] = p; },
  'Service targetPort name': (o, p) => { at0(o.svc, 'spec.ports')['targetPort'] = p; },
  'Service appProtocol': (o, p) => { at0(o.svc, 'spec.ports')['appProtocol'] = p; },
  'Service externalName (type ExternalName)': (o, p) => { set(o.svc, 'spec', { type: 'ExternalName', externalName: p }); },
  'Service loadBalancerClass': (o, p) => { set(o.svc, 'spec.loadBalancerClass', p); },
  'Service loadBalancerIP': (o, p) => { set(o.svc, 'spec.loadBalancerIP', p); },
  'Service trafficDistribution': (o, p) => { set(o.svc, 'spec.trafficDistribution', p); },
  'Service ingress hostname': (o, p) => { at0(o.svc, 'status.loadBalancer.ingress')['hostname'] = p; },
  'Service ingress hostname without ip': (o, p) => { set(o.svc, 'status.loadBalancer.ingress', [{ hostname: p }]); },
  'Service clusterIP': (o, p) => { set(o.svc, 'spec.clusterIP', p); },
  'Service externalIPs entry': (o, p) => { set(o.svc, 'spec.externalIPs', [p]); },
  'Service loadBalancerSourceRanges entry': (o, p) => { set(o.svc, 'spec.loadBalancerSourceRanges', [p]); },
  'Service ingress ip': (o, p) => { at0(o.svc, 'status.loadBalancer.ingress')['ip'] = p; },
  'EndpointSlice metadata.name': (o, p) => { set(o.slice, 'metadata.name', p); },
  'EndpointSlice annotation': (o, p) => { get(o.slice, 'metadata.annotations')['note'] = p; },
  'EndpointSlice service-name label only': (o, p) => { get(o.slice, 'metadata.labels')['kubernetes.io/service-name'] = p; },
  'EndpointSlice port name only': (o, p) => { at0(o.slice, 'ports')['name'] = p; },
  'EndpointSlice appProtocol': (o, p) => { at0(o.slice, 'ports')['appProtocol'] = p; },
  'endpoint nodeName': (o, p) => { at0(o.slice, 'endpoints')['nodeName'] = p; },
  'endpoint zone': (o, p) => { at0(o.slice, 'endpoints')['zone'] = p; },
  'endpoint hostname': (o, p) => { at0(o.slice, 'endpoints')['hostname'] = p; },
  'endpoint targetRef name': (o, p) => { at0(o.slice, 'endpoints')['targetRef'] = { kind: 'Pod', name: p }; },
  'endpoint hints.forZones name': (o, p) => { at0(o.slice, 'endpoints')['hints'] = { forZones: [{ name: p }] }; },
  'endpoint hints.forNodes name': (o, p) => { at0(o.slice, 'endpoints')['hints'] = { forNodes: [{ name: p }] }; },
  'endpoint deprecatedTopology key': (o, p) => { at0(o.slice, 'endpoints')['deprecatedTopology'] = { [p]: p }; },
  'endpoint address': (o, p) => { at0(o.slice, 'endpoints')['addresses'] = [p]; },
  'Node metadata.name': (o, p) => { set(o.node, 'metadata.name', p); },
  'Node zone label': (o, p) => { get(o.node, 'metadata.labels')['topology.kubernetes.io/zone'] = p; },
  'Node annotation': (o, p) => { get(o.node, 'metadata.annotations')['note'] = p; },
  'Node Hostname address': (o, p) => { (get(o.node, 'status.addresses') as unknown as Obj[])[1]!['address'] = p; },
  'Node InternalIP address': (o, p) => { (get(o.node, 'status.addresses') as unknown as Obj[])[0]!['address'] = p; },
  'Node podCIDR': (o, p) => { set(o.node, 'spec', { podCIDR: p }); },
  'config ipvs.scheduler': (o, p) => { set(o.config, 'ipvs.scheduler', p); },
  'config clusterCIDR': (o, p) => { set(o.config, 'clusterCIDR', p); },
  'config bridgeInterface (BridgeInterface mode)': (o, p) => { set(o.config, 'detectLocalMode', 'BridgeInterface'); set(o.config, 'detectLocal.bridgeInterface', p); },
  'config interfaceNamePrefix (InterfaceNamePrefix mode)': (o, p) => { set(o.config, 'detectLocalMode', 'InterfaceNamePrefix'); set(o.config, 'detectLocal.interfaceNamePrefix', p); },
  'config metricsBindAddress': (o, p) => { set(o.config, 'metricsBindAddress', p); },
  'config featureGates key': (o, p) => { get(o.config, 'featureGates')[p] = true; },
  'config ipvs.excludeCIDRs entry': (o, p) => { set(o.config, 'ipvs.excludeCIDRs', [p]); },
  'config nodePortAddresses entry': (o, p) => { set(o.config, 'nodePortAddresses', [p]); },
};

function objects(): Objects {
  return { svc: baseService(), slice: baseSlice(), node: baseNode(), config: baseConfig() };
}

async function compileObjects(o: Objects, yamlComment?: string): Promise<Compiled> {
  const files: Record<string, string> = {
    'service.json': JSON.stringify(o.svc),
    'slice.json': JSON.stringify(o.slice),
    'node.json': JSON.stringify(o.node),
    'kube-proxy.json': JSON.stringify(o.config),
  };
  if (yamlComment !== undefined) {
    // A comment cannot hold control characters or line breaks: they would end it.
    const c = [...yamlComment].map((ch) => (ch.charCodeAt(0) < 0x20 || '\u0085\u2028\u2029'.includes(ch) ? ' ' : ch)).join('');
    files['commented.yaml'] = `# ${c}\napiVersion: v1\nkind: Endpoints\nmetadata: {name: other, namespace: shop} # ${c}\n`;
  }
  return compile(caseDir(files));
}

const ARTIFACTS = ['ipvsadm.restore', 'ipset.restore', 'iptables.restore', 'ip6tables.restore', 'manifest.json'];
const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;
let baseline: Record<string, string> = {};

test('injection baseline: the untouched objects compile', async () => {
  const r = await compileObjects(objects());
  assert.is(r.code, 0, r.stderr);
  baseline = Object.fromEntries(ARTIFACTS.filter((a) => existsSync(join(r.out, a))).map((a) => [a, readFileSync(join(r.out, a), 'utf8')]));
  assert.match(baseline['ipvsadm.restore']!, /-A -t 10\.96\.0\.10:80/);
  for (const m of MARKERS) for (const [name, text] of Object.entries(baseline)) assert.not.ok(text.includes(m), `baseline ${name} contains ${JSON.stringify(m)}`);
});

async function assertClean(r: Compiled, what: string): Promise<void> {
  assertNoCrash(r, what);
  if (r.code === 1) refusedInjections++;
  else acceptedInjections++;
  if (process.env['HOSTILE_VERBOSE']) console.log(r.code, what.replace(/[^\x20-\x7e]/g, '?'));
  if (r.code === 1) {
    assert.not.ok(existsSync(r.out), `${what}: refused but wrote output`);
    // Echoed values are JSON-quoted: no raw line break from the payload in the diagnostics.
    for (const d of diagsOf(r)) {
      assert.not.match(d.summary, /[\n\r\u2028\u2029]/, `${what}: raw line break in a summary`);
      assert.not.match((d as { object?: string }).object ?? '', /[\n\r\u2028\u2029]/, `${what}: raw line break in an object label`);
    }
    // The human-readable form, too: every line is ours (file:line:col: / "  at" / "  hint:" / the count).
    const human = await runCli(r.argv.filter((a) => a !== '--json'), { cwd: r.cwd });
    for (const line of human.stderr.split(/\r?\n|\r|\u2028|\u2029/)) {
      assert.ok(line === '' || /^(\S+: )?(error|warning)\[[A-Z_0-9]+\] /.test(line) || /^ {2}(at|hint:) /.test(line) || /^\d+ error\(s\), \d+ warning\(s\)$/.test(line), `${what}: forged diagnostic line ${JSON.stringify(line)}`);
    }
    return;
  }
  for (const a of ARTIFACTS) {
    const p = join(r.out, a);
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8');
    for (const m of MARKERS) assert.not.ok(text.includes(m), `${what}: ${a} contains ${JSON.stringify(m)}`);
    // Structure: the payloads carry COMMIT/ACCEPT/-A lines; none may add one.
    if (a.endsWith('tables.restore') && baseline[a] !== undefined) {
      assert.is(count(text, /^COMMIT$/gm), count(baseline[a], /^COMMIT$/gm), `${what}: ${a} COMMIT count`);
      assert.is(count(text, /^\*/gm), count(baseline[a], /^\*/gm), `${what}: ${a} table count`);
      assert.ok(count(text, /-j ACCEPT/g) <= count(baseline[a], /-j ACCEPT/g), `${what}: ${a} gained an ACCEPT rule`);
    }
    if (a === 'manifest.json') JSON.parse(text);
    else assert.not.match(text, /[^\x20-\x7e\n]/, `${what}: ${a} holds a non-printable or non-ASCII character`);
  }
}

for (const [field, setField] of Object.entries(FIELDS)) {
  test(`injection through ${field}: refused, or absent from every artifact`, async () => {
    for (const p of PAYLOADS) {
      const o = objects();
      setField(o, p);
      const r = await compileObjects(o);
      await assertClean(r, `${field} = ${JSON.stringify(p)}`);
      injectionCases++;
    }
  });
}

test('injection through YAML comments: comments never reach an artifact', async () => {
  for (const p of PAYLOADS) {
    const r = await compileObjects(objects(), p);
    assert.is(r.code, 0, r.stderr);
    await assertClean(r, `comment ${JSON.stringify(p)}`);
    injectionCases++;
  }
});

test('valid Kubernetes values (annotations, labels) holding payloads compile unchanged', async () => {
  // Annotations may hold anything; the artifacts must be exactly the baseline's.
  for (const p of PAYLOADS) {
    const o = objects();
    get(o.svc, 'metadata.annotations')['note'] = p;
    get(o.slice, 'metadata.annotations')['note'] = p;
    get(o.node, 'metadata.annotations')['note'] = p;
    const r = await compileObjects(o);
    assert.is(r.code, 0, r.stderr);
    for (const a of ARTIFACTS.filter((x) => x !== 'manifest.json')) {
      if (baseline[a] === undefined) continue;
      assert.is(readFileSync(join(r.out, a), 'utf8'), baseline[a], `${a} changed by an annotation`);
    }
    injectionCases++;
  }
});

test('ran every case', () => {
  assert.ok(injectionCases >= Object.keys(FIELDS).length * PAYLOADS.length, `ran ${injectionCases} injection cases`);
  assert.ok(ran >= 20 + injectionCases, `ran ${ran} compiles`);
  // The property means something only if many crafted inputs are accepted and compiled.
  assert.ok(acceptedInjections >= 100, `only ${acceptedInjections} crafted inputs compiled`);
  assert.ok(refusedInjections >= 50, `only ${refusedInjections} crafted inputs refused`);
});

test('cleanup', () => {
  rmSync(ROOT, { recursive: true, force: true });
});

test.run();
