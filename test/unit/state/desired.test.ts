/**
 * plan -f takes the desired IPVS services and ipsets from the compiled model (desiredFromModel);
 * --from DIR and saved plans parse them from the artifacts (desiredFromArtifacts). Both must be
 * the same desired state, and so give the same plan.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { listCases, readFlags } from '../../helpers/cases.js';
import { asOneFile, clusterArb, NODE_PORT_RANGE } from '../../helpers/arbitraries.js';
import { parseArgs } from '../../../src/cli/args.js';
import type { Io } from '../../../src/cli/context.js';
import { loadAssets } from '../../../src/cli/inputs.js';
import { buildManifest } from '../../../src/cli/manifest.js';
import { computePlan } from '../../../src/cli/commands/plan.js';
import { compileInputs } from '../../../src/pipeline/compile.js';
import { makePlan } from '../../../src/plan/make-plan.js';
import { desiredFromArtifacts, desiredFromModel } from '../../../src/state/desired.js';
import { servicesFromModel } from '../../../src/state/parse-ipvsadm.js';
import { setsFromModel } from '../../../src/state/parse-ipset.js';
import { parseIp } from '../../../src/model/net.js';
import type { VirtualServer } from '../../../src/model/types.js';

const io: Io = { cwd: process.cwd(), env: {}, stdout: () => {}, stderr: () => {}, readStdin: () => Buffer.from(''), isTTY: false };
const PLANS = join(import.meta.dirname, '..', '..', 'golden', 'plans');

test('golden plan cases: plan -f (model) = the same plan from the parsed artifacts', async () => {
  // --destroy plans want nothing from the inputs: there is no desired state to compare.
  const cases = listCases(PLANS).filter((c) => !readFlags(c.dir).includes('--destroy'));
  assert.ok(cases.length >= 14);
  for (const c of cases) {
    const live = join(c.dir, 'live');
    if (!existsSync(live)) mkdirSync(live, { recursive: true });
    const r = await computePlan(parseArgs(['plan', '-f', join(c.dir, 'input'), '--state', live, ...readFlags(c.dir)]), io);
    assert.ok('plan' in r, c.name);
    if (!('plan' in r)) continue;
    assert.ok(r.desired.model, `${c.name}: -f plans from the model`);
    const parsed = desiredFromArtifacts(r.desired.artifacts, r.desired.manifest);
    assert.equal(r.desiredState, parsed, `${c.name}: desired state`);
    assert.equal(r.plan, makePlan(parsed, r.live, { origins: r.desired.origins }), `${c.name}: plan`);
  }
});

test('generated clusters: desiredFromModel = desiredFromArtifacts', () => {
  const assets = loadAssets();
  let runs = 0;
  fc.assert(fc.property(clusterArb(), (c) => {
    const res = compileInputs(asOneFile(c.docs), { flags: c.flags, nodeIPs: [], nodePortRange: NODE_PORT_RANGE }, assets);
    if (!res.state || !res.artifacts) return;
    runs++;
    const manifest = buildManifest(res.state, res.artifacts, '0.0.0-test', 'sha256:test');
    assert.equal(desiredFromModel(res.state, res.artifacts, manifest), desiredFromArtifacts(res.artifacts, manifest));
  }), { seed: 20261123, numRuns: 60 });
  assert.ok(runs > 30, `only ${runs} clusters compiled`);
});

test('a model value that would not read back as itself leaves it to the parser', () => {
  const vs = (over: Partial<VirtualServer>): VirtualServer => ({
    protocol: 'TCP', address: parseIp('10.0.0.1')!, port: 80, scheduler: 'rr', flags: [], timeout: 0, realServers: [], origin: { object: 'Service a/b' }, ...over,
  });
  assert.ok(servicesFromModel([vs({})]));
  assert.is(servicesFromModel([vs({ scheduler: 'r r' })]), null);
  assert.is(servicesFromModel([vs({ flags: [''] })]), null);
  assert.is(servicesFromModel([vs({ timeout: 1.5 })]), null);
  assert.is(servicesFromModel([vs({ port: 70000 })]), null);
  assert.is(servicesFromModel([vs({}), vs({ scheduler: 'wrr' })]), null); // duplicate service
  // out of order (services, real servers): sorted as the parser sorts them
  const rs = (ip: string, port: number): VirtualServer['realServers'][number] => ({ address: parseIp(ip)!, port, weight: 1 });
  const sorted = servicesFromModel([
    vs({ address: parseIp('10.0.0.2')!, realServers: [rs('10.1.0.2', 80), rs('10.1.0.1', 81), rs('10.1.0.1', 80)] }),
    vs({ address: parseIp('10.0.0.1')!, port: 81 }), vs({ address: parseIp('10.0.0.1')!, protocol: 'UDP' }), vs({ address: parseIp('10.0.0.1')! }),
  ])!;
  assert.equal(sorted.map((v) => `${v.protocol}/${v.address}:${v.port}`), ['TCP/10.0.0.1:80', 'UDP/10.0.0.1:80', 'TCP/10.0.0.1:81', 'TCP/10.0.0.2:80']);
  assert.equal(sorted[3]!.realServers.map((r) => `${r.address}:${r.port}`), ['10.1.0.1:80', '10.1.0.1:81', '10.1.0.2:80']);
  assert.ok(setsFromModel([{ name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', family: 'IPv4', entries: ['10.0.0.1,tcp:80'] }]));
  assert.is(setsFromModel([{ name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', family: 'IPv4', entries: ['10.0.0.1'] }]), null);
  assert.is(setsFromModel([{ name: 'KUBE-CLUSTER-IP', type: 'hash:ip', family: 'IPv4', entries: ['10.0.0.1 nomatch'] }]), null);
  assert.is(setsFromModel([{ name: 'A', type: 'hash:ip', family: 'IPv4', entries: [] }, { name: 'A', type: 'hash:ip', family: 'IPv4', entries: [] }]), null);
});

test.run();
