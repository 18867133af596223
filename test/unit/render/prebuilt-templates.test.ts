/**
 * The templates `npm run build` precompiles (scripts/build-templates.mjs) must be the ones ipvsc
 * uses, must render every golden case byte for byte as the templates compiled at run time do,
 * must keep strict and noEscape, and must be ignored once templates/ no longer matches them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { listCases, readFlags, readText } from '../../helpers/cases.js';
import { parseArgs } from '../../../src/cli/args.js';
import type { Io } from '../../../src/cli/context.js';
import { compileFromArgs, loadAssets } from '../../../src/cli/inputs.js';
import { readPrebuiltTemplates, readTemplates } from '../../../src/load/read-assets.js';
import { compileTemplates, renderArtifacts, templatesDigest } from '../../../src/render/render.js';
import type { Artifacts, Templates } from '../../../src/render/render.js';

const io: Io = { cwd: process.cwd(), env: {}, stdout: () => {}, stderr: () => {}, readStdin: () => Buffer.from(''), isTTY: false };
const CASES = join(import.meta.dirname, '..', '..', 'golden', 'cases');
const ARTIFACTS = ['ipvsadm.restore', 'ipset.restore', 'iptables.restore', 'ip6tables.restore'] as const;

const texts = readTemplates();
const prebuilt = readPrebuiltTemplates();
/** A new object each time: compileTemplates caches per Templates value. */
const withPrebuilt = (): Templates => ({ ...texts, prebuilt });
const textsOnly = (): Templates => ({ ...texts });

/** Modules of handlebars' parser/compiler (the full package), as opposed to its runtime. */
const compilerLoaded = (): string[] => Object.keys(createRequire(import.meta.url).cache)
  .filter((p) => /handlebars[\\/](lib[\\/]index\.js|dist[\\/]cjs[\\/](handlebars\.js|handlebars[\\/]compiler[\\/]))/.test(p));

/** The desired state of a golden case, compiled in-process as `ipvsc compile` does. */
function stateOf(dir: string) {
  const r = compileFromArgs(parseArgs(['compile', '-f', join(dir, 'input'), ...readFlags(dir)]), io);
  assert.ok(r.state, `${dir}: ${r.diags.map((d) => d.summary).join('; ')}`);
  return r.state;
}

// First: nothing in this process has compiled a template yet.
test('the build precompiled the shipped templates; rendering with them never loads the handlebars compiler', () => {
  assert.ok(prebuilt, 'dist/templates.generated.cjs is missing: run npm run build');
  assert.equal(compilerLoaded(), [], 'loaded before rendering');
  const t = loadAssets().templates;
  assert.is(compileTemplates(t).source, 'prebuilt', 'loadAssets() templates');
  const a = renderArtifacts(stateOf(join(CASES, 's00-reference-example-lb-source-ranges')), t);
  for (const name of ARTIFACTS) void a[name];
  assert.ok(a['iptables.restore'].includes('COMMIT'));
  assert.equal(compilerLoaded(), [], 'the prebuilt path loaded the compiler');
  // The check itself can fail: the fallback does load it.
  compileTemplates(textsOnly()).ipset({ sets: [] });
  assert.ok(compilerLoaded().length > 0, 'compiler modules not recognised');
});

test('prebuilt and run-time compiled templates render every golden case byte for byte alike', () => {
  const cases = listCases(CASES);
  assert.ok(cases.length >= 60, `only ${cases.length} cases`);
  let v6 = 0;
  for (const c of cases) {
    const state = stateOf(c.dir);
    const pre = withPrebuilt();
    assert.is(compileTemplates(pre).source, 'prebuilt', c.name);
    const a: Artifacts = renderArtifacts(state, pre);
    const b: Artifacts = renderArtifacts(state, textsOnly());
    for (const name of ARTIFACTS) {
      assert.is(a[name], b[name], `${c.name}/${name}`);
      // and both are the golden files (the CLI golden test checks the same through the CLI)
      assert.is(a[name], readText(join(c.dir, 'expected', name)), `${c.name}/${name} vs expected`);
    }
    if (a['ip6tables.restore'] !== undefined) v6++;
  }
  assert.ok(v6 >= 3, `only ${v6} cases render ip6tables.restore`);
});

test('templates edited after the build (digest mismatch) are compiled from their text', () => {
  const marker = '# edited after the build';
  const edited: Templates = { ...texts, 'iptables.restore.hbs': texts['iptables.restore.hbs'].replace('COMMIT', `${marker}\nCOMMIT`), prebuilt };
  assert.is.not(edited['iptables.restore.hbs'], texts['iptables.restore.hbs']);
  assert.is(compileTemplates(edited).source, 'compiled');
  const state = stateOf(join(CASES, 's00-reference-example-lb-source-ranges'));
  const out = renderArtifacts(state, edited)['iptables.restore'];
  assert.ok(out.includes(`${marker}\nCOMMIT\n*filter`), out);
  assert.is(out.replace(`${marker}\n`, ''), renderArtifacts(state, withPrebuilt())['iptables.restore']);
  // No build output, or a module missing a spec: compiled too.
  assert.is(compileTemplates(textsOnly()).source, 'compiled');
  assert.is(compileTemplates({ ...texts, prebuilt: { ...prebuilt, 'ipset.restore.hbs': undefined } }).source, 'compiled');
  // Stamped by another handlebars version (same texts): compiled. The build's own stamp is the
  // texts with the version of the runtime ipvsc loads.
  const runtimeVersion = (createRequire(import.meta.url)('handlebars/runtime') as { VERSION: string }).VERSION;
  assert.is(prebuilt!['__templatesDigest'], templatesDigest(texts, runtimeVersion));
  assert.is(compileTemplates({ ...texts, prebuilt: { ...prebuilt, __templatesDigest: templatesDigest(texts, '4.5.3') } }).source, 'compiled');
  // A spec built by another handlebars (its compiler revision differs from the runtime's): compiled.
  const spec = prebuilt!['ipset.restore.hbs'] as { compiler: unknown[] };
  const otherRevision: Templates = { ...texts, prebuilt: { ...prebuilt, 'ipset.restore.hbs': { ...spec, compiler: [Number(spec.compiler[0]) + 1, '>= 9.0.0'] } } };
  assert.is(compileTemplates(otherRevision).source, 'compiled');
});

for (const [label, make] of [['prebuilt', withPrebuilt], ['compiled', textsOnly]] as const) {
  test(`strict (${label}): a missing field throws instead of rendering nothing`, () => {
    const c = compileTemplates(make());
    assert.is(c.source, label);
    assert.is(c.ipset({ sets: [{ create: 'create S hash:ip', adds: ['add S 10.0.0.1'] }] }), 'create S hash:ip\nadd S 10.0.0.1\n');
    assert.throws(() => c.ipset({ sets: [{ adds: ['add S 10.0.0.1'] }] }), /"create" not defined/);
    assert.is(c.ipvsadm({ timeouts: { tcp: 900, tcpfin: 120, udp: 300 }, services: [] }), '--set 900 120 300\n');
    assert.throws(() => c.ipvsadm({ timeouts: { tcp: 900, tcpfin: 120 }, services: [] }), /"udp" not defined/);
  });

  test(`noEscape (${label}): " and & in iptables lines stay as they are`, () => {
    const c = compileTemplates(make());
    assert.is(c.source, label);
    const rule = '-A KUBE-SERVICES -m comment --comment "svc \\"a\\" & <b>" -j ACCEPT';
    const out = c.iptables({ nat: { chains: ['KUBE-"X"'], rules: [rule], jumps: [] }, filter: { chains: [], rules: [], jumps: [] } });
    assert.is(out, `*nat\n:KUBE-"X" - [0:0]\n${rule}\nCOMMIT\n*filter\nCOMMIT\n`);
    assert.not.ok(/&quot;|&amp;|&lt;/.test(out), out);
  });
}

test.run();
