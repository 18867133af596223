/**
 * Property tests of the compile pipeline over generated VALID clusters (test/helpers/arbitraries.ts):
 *   (a) compile never throws and reports no error;
 *   (b) determinism: same files twice, and the same documents shuffled / split over files in
 *       another order (YAML streams, JSON, kind: List), give byte-identical artifacts;
 *   (c) round trip: the artifacts parsed back with the state parsers give the model again;
 *   (d) bounded rules: iptables rules do not grow with Services, only with OUT-FILTER drops;
 *   (e) no user string (labels, annotations) reaches an artifact.
 * Fixed seed, so the normal test run is reproducible; each property counts its runs so that a
 * run of zero cases fails. Set PROPERTY_SEED / PROPERTY_RUNS to explore further by hand.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { compileInputs } from '../../src/pipeline/compile.js';
import type { CompileOptions, CompileResult } from '../../src/pipeline/compile.js';
import { loadAssets } from '../../src/cli/inputs.js';
import { buildManifest } from '../../src/cli/manifest.js';
import { desiredFromArtifacts } from '../../src/state/desired.js';
import { canonicalRule, splitRuleLine } from '../../src/state/parse-iptables.js';
import { vsKey } from '../../src/state/types.js';
import type { LiveVirtualServer } from '../../src/state/types.js';
import type { Artifacts } from '../../src/render/render.js';
import type { DesiredState } from '../../src/model/types.js';
import type { SourceFile } from '../../src/load/source.js';
import { cidrContains, parseCidr, parseIp } from '../../src/model/net.js';
import type { FlagValue } from '../../src/config/resolve-config.js';
import {
  NODE_A_V4, NODE_PORT_RANGE, asOneFile, clusterArb, decorate, decorationsArb, extraClusterIpServicesArb, layoutArb, layoutFiles, yamlDocs,
} from '../helpers/arbitraries.js';
import type { Cluster, Doc } from '../helpers/arbitraries.js';

const SEED = process.env['PROPERTY_SEED'] !== undefined ? Number(process.env['PROPERTY_SEED']) : 20261123;
const SCALE = process.env['PROPERTY_RUNS'] !== undefined ? Number(process.env['PROPERTY_RUNS']) / 100 : 1;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
/** Shrinking is bounded in time: a failure is still reported, with the smallest case found so far. */
const params = (numRuns: number): fc.Parameters<unknown> => ({
  seed: SEED, numRuns, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true,
  ...(process.env['PROPERTY_NO_SHRINK'] === '1' ? { endOnFailure: true } : {}),
});
/** fc.assert, but the failing assertion's message (uvu's) is shown with the counterexample. */
function check<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, numRuns: number): void {
  const d = fc.check(property, params(numRuns) as fc.Parameters<Ts>);
  if (!d.failed) return;
  const e = d.errorInstance as { message?: string; details?: string } | null;
  const cx = JSON.stringify(d.counterexample);
  if (process.env['PROPERTY_DUMP']) writeFileSync(process.env['PROPERTY_DUMP'], cx);
  throw new Error(
    `property failed after ${d.numRuns} runs (seed ${d.seed}, path ${d.counterexamplePath ?? '?'}, shrunk ${d.numShrinks}${d.interrupted ? ', interrupted' : ''}):\n` +
    `${e?.message ?? String(d.errorInstance)}\n${e?.details ?? ''}\ncounterexample: ${cx.length > 20000 ? cx.slice(0, 20000) + '…' : cx}`,
  );
}
const ONLY = process.env['PROPERTY_ONLY'];
const prop = (name: string, fn: () => void): void => {
  if (ONLY === undefined || name.startsWith(ONLY)) test(name, fn);
};

const assets = loadAssets();
const ARTIFACT_NAMES = ['ipvsadm.restore', 'ipset.restore', 'iptables.restore', 'ip6tables.restore'] as const;

const optsFor = (flags: readonly FlagValue[]): CompileOptions => ({ flags, nodeIPs: [], nodePortRange: NODE_PORT_RANGE });

/** Compiles and fails (with the diagnostics and the input) unless there are artifacts and no error. */
function compileOk(files: readonly SourceFile[], flags: readonly FlagValue[]): { state: DesiredState; artifacts: Artifacts; result: CompileResult } {
  const result = compileInputs(files, optsFor(flags), assets);
  const errors = result.diags.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !result.artifacts || !result.state) {
    const shown = errors.map((d) => `  ${d.code} ${d.object ?? ''} ${d.path ?? ''}: ${d.summary}`).join('\n');
    const input = files.map((f) => `# ${f.path}\n${f.text}`).join('\n').slice(0, 6000);
    throw new Error(`compile refused a valid cluster:\n${shown}\nflags: ${JSON.stringify(flags)}\n${input}`);
  }
  return { state: result.state, artifacts: result.artifacts, result };
}

function sameArtifacts(a: Artifacts, b: Artifacts, what: string): void {
  for (const n of ARTIFACT_NAMES) assert.is(b[n], a[n], `${what}: ${n} differs`);
}

/**
 * Most set-driven rule lines a pass can have: the 12 rules of kube-proxy's ipsetWithIptablesChain
 * table plus 8 more keyed on non-empty sets (CLUSTER-IP masquerade; EXTERNAL-IP masquerade + 2
 * ACCEPTs; EXTERNAL-IP-LOCAL 2 ACCEPTs; the CLUSTER-IP and LOAD-BALANCER ACCEPTs of step 10).
 * The brief said 12 + 6 = 18; buildRules (and kube-proxy) can emit 20, seen with a dual-stack
 * NodePort SCTP Service with externalIPs, masquerade-all, etc. — not an ipvsc bug.
 */
const SET_DRIVEN_MAX = 12 + 8;

const ruleLines = (text: string | undefined): number => (text ?? '').split('\n').filter((l) => l.startsWith('-A ') || l.startsWith('-I ')).length;

// ---------------------------------------------------------------------------------- (a) + (c)

prop('(a) valid clusters compile without an error, and (c) the artifacts parse back to the model', () => {
  let count = 0;
  const numRuns = runs(120);
  check(fc.property(clusterArb(), (c: Cluster) => {
    count++;
    const { state, artifacts } = compileOk(asOneFile(c.docs), c.flags);
    const manifest = buildManifest(state, artifacts, '0.0.0-test', 'sha256:test');
    const parsed = desiredFromArtifacts(artifacts, manifest);
    const families = state.passes.map((p) => p.family);
    assert.equal(parsed.families, families);
    assert.is(artifacts['ip6tables.restore'] !== undefined, families.includes('IPv6'), 'ip6tables.restore iff the IPv6 pass runs');

    // IPVS: every virtual server exactly once, with its scheduler, flags, timeout and real servers.
    assert.is(parsed.ipvs.length, state.virtualServers.length, 'number of virtual servers');
    const byKey = new Map<string, LiveVirtualServer>();
    for (const v of parsed.ipvs) {
      const k = vsKey(v);
      assert.not.ok(byKey.has(k), `${k} parsed twice`);
      byKey.set(k, v);
    }
    for (const vs of state.virtualServers) {
      const k = vsKey({ protocol: vs.protocol, address: vs.address.text, port: vs.port });
      const live = byKey.get(k);
      assert.ok(live, `${k} missing from ipvsadm.restore`);
      assert.is(live.scheduler, vs.scheduler, `${k} scheduler`);
      assert.equal(live.flags, [...vs.flags].sort(), `${k} flags`);
      assert.is(live.timeout, vs.timeout, `${k} timeout`);
      for (const r of vs.realServers) assert.is(r.weight, 1, `${k} weight`);
      assert.equal(
        live.realServers.map((r) => ({ address: r.address, port: r.port, weight: r.weight, method: r.method })),
        vs.realServers.map((r) => ({ address: r.address.text, port: r.port, weight: 1, method: 'masq' })),
        `${k} real servers`,
      );
    }

    // ipsets: the same sets, in order, with the same entries in the same order.
    const sets = state.passes.flatMap((p) => p.sets);
    assert.equal(parsed.ipsets.map((s) => s.name), sets.map((s) => s.name), 'set names');
    sets.forEach((s, i) => {
      const p = parsed.ipsets[i]!;
      assert.equal(p.entries, [...s.entries], `${s.name} entries`);
      if (s.type !== 'bitmap:port') assert.is(p.family, s.family, `${s.name} family`);
    });

    // iptables: each chain holds exactly the model's rules for it, in order.
    for (const pass of state.passes) {
      const tables = parsed.iptables[pass.family];
      for (const table of ['nat', 'filter'] as const) {
        const want = new Map<string, string[]>();
        for (const line of pass[table]) {
          const r = splitRuleLine(line);
          assert.is(r.op, 'A', `model rule is an -A line: ${line}`);
          let l = want.get(r.chain);
          if (!l) want.set(r.chain, (l = []));
          l.push(canonicalRule(r.spec, pass.family));
        }
        const t = tables[table];
        assert.ok(t, `${pass.family} ${table} table missing`);
        for (const [chain, rules] of want) assert.equal(t.chains.get(chain)?.rules, rules, `${pass.family} ${table} ${chain}`);
        for (const [name, ch] of t.chains) if (!want.has(name)) assert.equal(ch.rules, [], `${pass.family} ${table} ${name}: rules the model does not have`);
      }
    }
    return true;
  }), numRuns);
  assert.is(count, numRuns, 'fast-check ran every case');
});

// ---------------------------------------------------------------------------------------- (b)

prop('(b) determinism: twice, and shuffled / split across files, gives byte-identical artifacts', () => {
  let count = 0;
  const numRuns = runs(60);
  const arb = clusterArb().chain((c) => fc.tuple(fc.constant(c), layoutArb(c.docs.length)));
  check(fc.property(arb, ([c, layout]) => {
    count++;
    const a = compileOk(asOneFile(c.docs), c.flags).artifacts;
    const again = compileOk(asOneFile(c.docs), c.flags).artifacts;
    sameArtifacts(a, again, 'second compile');
    const files = layoutFiles(c.docs, layout);
    const b = compileOk(files, c.flags).artifacts;
    sameArtifacts(a, b, `layout ${JSON.stringify(layout)}`);
    return true;
  }), numRuns);
  assert.is(count, numRuns, 'fast-check ran every case');
});

// ---------------------------------------------------------------------------------------- (d)

/** OUT-FILTER drops the model must make for IPv4: LB VIP:port/proto with v4 source ranges none of which holds the node IP. */
function expectedOutFilterV4(docs: readonly Doc[]): number {
  const nodeIP = parseIp(NODE_A_V4)!;
  const keys = new Set<string>();
  for (const d of docs) {
    if (d['kind'] !== 'Service') continue;
    const spec = d['spec'] as { type?: string; clusterIP?: string; ipFamilies?: string[]; loadBalancerSourceRanges?: string[]; ports: { port: number; protocol: string }[] };
    const hasV4 = spec.ipFamilies ? spec.ipFamilies.includes('IPv4') : parseIp(spec.clusterIP ?? '')?.family === 'IPv4';
    if (!hasV4) continue;
    const ranges = (spec.loadBalancerSourceRanges ?? []).map((r) => parseCidr(r)!).filter((r) => r.family === 'IPv4');
    if (ranges.length === 0 || ranges.some((r) => cidrContains(r, nodeIP))) continue;
    const ingress = ((d['status'] as { loadBalancer?: { ingress?: { ip: string; ipMode?: string }[] } } | undefined)?.loadBalancer?.ingress ?? [])
      .filter((i) => (i.ipMode ?? 'VIP') === 'VIP' && parseIp(i.ip)?.family === 'IPv4');
    for (const i of ingress) for (const p of spec.ports) keys.add(`${i.ip}|${p.port}|${p.protocol}`);
  }
  return keys.size;
}

prop('(d) iptables rules are bounded: C0 + OUT-FILTER drops + set-driven (20), and do not grow with ClusterIP Services', () => {
  let count = 0;
  const numRuns = runs(50);
  const arb = fc.tuple(clusterArb(), extraClusterIpServicesArb());
  check(fc.property(arb, ([c, extras]) => {
    count++;
    const nodes = c.docs.filter((d) => d['kind'] === 'Node');
    const c0 = ruleLines(compileOk(asOneFile(nodes), c.flags).artifacts['iptables.restore']);
    const { artifacts } = compileOk(asOneFile(c.docs), c.flags);
    const text = artifacts['iptables.restore'];
    const outFilter = expectedOutFilterV4(c.docs);
    const drops = text.split('\n').filter((l) => l.startsWith('-A KUBE-IPVS-OUT-FILTER ')).length;
    assert.is(drops, outFilter, 'KUBE-IPVS-OUT-FILTER drops');
    const rules = ruleLines(text);
    assert.ok(rules <= c0 + outFilter + SET_DRIVEN_MAX, `${rules} rules > C0 ${c0} + ${outFilter} + ${SET_DRIVEN_MAX}`);

    // Adding plain ClusterIP Services changes sets and virtual servers, never the rules.
    const one = compileOk(asOneFile([...c.docs, ...extras[0]!]), c.flags).artifacts;
    const all = compileOk(asOneFile([...c.docs, ...extras.flat()]), c.flags).artifacts;
    assert.is(all['iptables.restore'], one['iptables.restore'], `iptables.restore with 1 vs ${extras.length} extra ClusterIP Services`);
    assert.is(all['ip6tables.restore'], one['ip6tables.restore'], 'ip6tables.restore with 1 vs many extra ClusterIP Services');
    assert.ok(ruleLines(all['iptables.restore']) <= c0 + outFilter + SET_DRIVEN_MAX);
    return true;
  }), numRuns);
  assert.is(count, numRuns, 'fast-check ran every case');
});

// ---------------------------------------------------------------------------------------- (e)

prop('(e) labels and annotations never reach an artifact', () => {
  let count = 0;
  const numRuns = runs(60);
  check(fc.property(clusterArb(12), decorationsArb, (c, decos) => {
    count++;
    const plain = compileOk(asOneFile(c.docs), c.flags).artifacts;
    const decorated = decorate(c.docs, decos);
    // YAML and JSON both: the YAML quoting of odd strings is part of what is under test.
    const viaYaml = compileOk([{ path: 'cluster.yaml', text: yamlDocs(decorated) }], c.flags).artifacts;
    sameArtifacts(plain, viaYaml, 'decorated (YAML)');
    const viaJson = compileOk([{ path: 'cluster.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: decorated }) }], c.flags).artifacts;
    sameArtifacts(plain, viaJson, 'decorated (JSON)');
    return true;
  }), numRuns);
  assert.is(count, numRuns, 'fast-check ran every case');
});

test.run();
