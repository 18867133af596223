/**
 * `--refresh=changed` (plan/changed-keys.ts): the keys whose artifact lines differ between the
 * last applied artifacts and the desired ones, and the artifacts cut down to those keys.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { changedKeys, changedLines, cutToTouched, vsKeyOfLine } from '../../../src/plan/changed-keys.js';
import type { ArtifactSet } from '../../../src/plan/changed-keys.js';
import type { Touched } from '../../../src/plan/scope.js';

let ran = 0;

const IPVS = `-A -t 10.96.0.10:53 -s rr
-a -t 10.96.0.10:53 -r 10.244.1.4:53 -m -w 1
-a -t 10.96.0.10:53 -r 10.244.2.5:53 -m -w 1
-A -u [fd00::10]:53 -s rr
-a -u [fd00::10]:53 -r [fd00:244::4]:53 -m -w 1
-A -t 10.96.0.20:80 -s rr
-a -t 10.96.0.20:80 -r 10.244.1.9:8080 -m -w 1
`;
const SETS = `create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536
add KUBE-LOOP-BACK 10.244.1.4,tcp:53,10.244.1.4
create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-CLUSTER-IP 10.96.0.10,tcp:53
add KUBE-CLUSTER-IP 10.96.0.20,tcp:80
`;
const V4 = `*nat
:KUBE-SERVICES - [0:0]
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
COMMIT
*filter
:KUBE-FORWARD - [0:0]
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
COMMIT
`;
const MANIFEST = {
  node: { name: 'node-a', ips: ['192.168.0.10'] },
  families: ['IPv4', 'IPv6'],
  kubeIpvs0: ['10.96.0.10/32', '10.96.0.20/32', 'fd00::10/128'],
  sysctls: [{ name: 'net/ipv4/vs/conntrack', value: '1' }],
  ipvsTimeouts: { tcp: 0, tcpfin: 0, udp: 0 },
  excludeCIDRs: [],
};
const base: ArtifactSet = { artifacts: { 'ipvsadm.restore': IPVS, 'ipset.restore': SETS, 'iptables.restore': V4, 'ip6tables.restore': '' }, manifest: MANIFEST };
const edit = (f: (a: Record<string, string>) => void, m: Partial<ArtifactSet['manifest']> = {}): ArtifactSet => {
  const artifacts = { ...base.artifacts } as Record<string, string>;
  f(artifacts);
  return { artifacts: artifacts as unknown as ArtifactSet['artifacts'], manifest: { ...MANIFEST, ...m } };
};
function touched(next: ArtifactSet): Touched {
  const r = changedKeys(base, next);
  if (!('touched' in r)) throw new Error(r.fullRefreshBecause);
  return r.touched;
}
interface Summary { ipvs: string[]; ipsets: string[]; entries: [string, string[]][]; addresses: string[]; tables: string[]; timeouts: boolean }
const summary = (t: Touched): Summary => ({
  ipvs: [...t.ipvs.keys()].sort(),
  ipsets: [...t.ipsets].sort(),
  entries: [...t.entries].map(([k, v]) => [k, [...v].sort()]),
  addresses: [...t.addresses].sort(),
  tables: [...t.tables].sort(),
  timeouts: t.timeouts,
});

test('vsKeyOfLine: the virtual service a line names', () => {
  ran++;
  assert.is(vsKeyOfLine('-A -t 10.96.0.10:53 -s rr'), 'TCP/10.96.0.10:53');
  assert.is(vsKeyOfLine('-a -u [fd00::10]:53 -r [fd00:244::4]:53 -m -w 1'), 'UDP/[fd00::10]:53');
  assert.is(vsKeyOfLine('-A --sctp-service 10.96.0.9:9 -s rr'), 'SCTP/10.96.0.9:9');
  assert.is(vsKeyOfLine('--set 900 120 300'), null);
  assert.is(vsKeyOfLine('-A -f 7 -s rr'), null);
  assert.is(vsKeyOfLine('-D -t 10.96.0.10:53'), undefined);
});

test('no change: nothing touched but the sysctls (one read checks them all)', () => {
  ran++;
  assert.equal(summary(touched(base)), { ipvs: [], ipsets: [], entries: [], addresses: [], tables: [], timeouts: false });
  assert.equal([...touched(base).sysctls], ['net/ipv4/vs/conntrack']);
});

test('one endpoint replaced: its virtual service and its set entry, nothing else', () => {
  ran++;
  const next = edit((a) => {
    a['ipvsadm.restore'] = a['ipvsadm.restore']!.replace('10.244.1.4:53', '10.244.1.7:53');
    a['ipset.restore'] = a['ipset.restore']!.replace('10.244.1.4,tcp:53,10.244.1.4', '10.244.1.7,tcp:53,10.244.1.7');
  });
  assert.equal(summary(touched(next)), {
    ipvs: ['TCP/10.96.0.10:53'],
    ipsets: ['KUBE-LOOP-BACK'],
    entries: [['KUBE-LOOP-BACK', ['10.244.1.4,tcp:53,10.244.1.4', '10.244.1.7,tcp:53,10.244.1.7']]],
    addresses: [],
    tables: [],
    timeouts: false,
  });
});

test('a Service removed: its services, entries and addresses (the deletions are planned from the node)', () => {
  ran++;
  const next = edit((a) => {
    a['ipvsadm.restore'] = a['ipvsadm.restore']!.split('\n').filter((l) => !l.includes('10.96.0.20:80')).join('\n');
    a['ipset.restore'] = a['ipset.restore']!.replace('add KUBE-CLUSTER-IP 10.96.0.20,tcp:80\n', '');
  }, { kubeIpvs0: ['10.96.0.10/32', 'fd00::10/128'] });
  assert.equal(summary(touched(next)), {
    ipvs: ['TCP/10.96.0.20:80'],
    ipsets: ['KUBE-CLUSTER-IP'],
    entries: [['KUBE-CLUSTER-IP', ['10.96.0.20,tcp:80']]],
    addresses: ['10.96.0.20/32'],
    tables: [],
    timeouts: false,
  });
});

test('a set whose create line changed is touched whole; a changed table is touched whole; timeouts', () => {
  ran++;
  const next = edit((a) => {
    a['ipset.restore'] = a['ipset.restore']!.replace('create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024', 'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 2048').replace('add KUBE-CLUSTER-IP 10.96.0.20,tcp:80', 'add KUBE-CLUSTER-IP 10.96.0.21,tcp:80');
    a['iptables.restore'] = a['iptables.restore']!.replace('INVALID -j DROP', 'INVALID -j DROP\n-A KUBE-FORWARD -j ACCEPT');
  }, { ipvsTimeouts: { tcp: 900, tcpfin: 0, udp: 0 } });
  const t = touched(next);
  assert.equal(summary(t), { ipvs: [], ipsets: ['KUBE-CLUSTER-IP'], entries: [], addresses: [], tables: ['IPv4 filter'], timeouts: true });
});

test('a new ip6tables table and the order of rules within a table count', () => {
  ran++;
  const swapped = edit((a) => {
    a['iptables.restore'] = V4.replace('*filter\n:KUBE-FORWARD - [0:0]\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP', '*filter\n:KUBE-FORWARD - [0:0]\n-A KUBE-FORWARD -j ACCEPT\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');
    a['ip6tables.restore'] = '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n';
  });
  assert.equal(summary(touched(swapped)).tables, ['IPv4 filter', 'IPv6 nat']);
});

test('changedLines: every line that is in one text and not in the other, and only lines near an edit', () => {
  ran++;
  // ipvsc renders in one order, so a reordering never happens; if it did, the lines that moved
  // would count as changed (more keys read, the same plan).
  const arb = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), { maxLength: 200 });
  fc.assert(fc.property(arb, arb, (xs, ys) => {
    const a = xs.map((x, i) => `${x}${i % 7}`).join('\n') + '\n';
    const b = ys.map((y, i) => `${y}${i % 5}`).join('\n') + '\n';
    const got = new Set(changedLines(a, b));
    const sa = new Set(a.split('\n'));
    const sb = new Set(b.split('\n'));
    for (const l of sa) if (l && !sb.has(l)) assert.ok(got.has(l), l);
    for (const l of sb) if (l && !sa.has(l)) assert.ok(got.has(l), l);
    assert.equal(changedLines(a, a), []);
  }), { seed: 42, numRuns: 300 });
  // One line replaced in 20k: that line pair alone.
  const big = Array.from({ length: 20_000 }, (_, i) => `add KUBE-LOOP-BACK 10.244.${i >> 8}.${i & 255},tcp:80,x`);
  const edited = [...big];
  edited[12_345] = 'add KUBE-LOOP-BACK 10.244.255.2,tcp:80,x';
  assert.equal(changedLines(big.join('\n') + '\n', edited.join('\n') + '\n'), [big[12_345], edited[12_345]]);
});

test('ownership moved (node, families, excluded CIDRs) or a line ipvsc never writes: a full refresh', () => {
  ran++;
  const why = (next: ArtifactSet): string => {
    const r = changedKeys(base, next);
    return 'fullRefreshBecause' in r ? r.fullRefreshBecause : 'touched';
  };
  assert.match(why(edit(() => undefined, { node: { name: 'node-b', ips: [] } })), /node "node-a".*"node-b"/);
  assert.match(why(edit(() => undefined, { families: ['IPv4'] })), /address families changed \(IPv4\+IPv6 → IPv4\)/);
  assert.match(why(edit(() => undefined, { excludeCIDRs: ['10.0.0.0/8'] })), /--ipvs-exclude-cidrs changed/);
  assert.match(why(edit((a) => void (a['ipvsadm.restore'] += '-E -t 10.96.0.10:53 -s wrr\n'))), /ipvsadm.restore line ipvsc does not write: -E -t/);
  assert.match(why(edit((a) => void (a['ipset.restore'] += 'flush KUBE-CLUSTER-IP\n'))), /ipset.restore line ipvsc does not write: flush/);
});

test('cutToTouched keeps only the touched keys\' lines and addresses', () => {
  ran++;
  const next = edit((a) => {
    a['ipvsadm.restore'] = a['ipvsadm.restore']!.replace('10.244.1.4:53', '10.244.1.7:53');
    a['ipset.restore'] = a['ipset.restore']!.replace('10.244.1.4,tcp:53,10.244.1.4', '10.244.1.7,tcp:53,10.244.1.7');
  }, { kubeIpvs0: ['10.96.0.10/32', 'fd00::10/128'] });
  const cut = cutToTouched(next, touched(next));
  assert.is(cut.artifacts['ipvsadm.restore'], '-A -t 10.96.0.10:53 -s rr\n-a -t 10.96.0.10:53 -r 10.244.1.7:53 -m -w 1\n-a -t 10.96.0.10:53 -r 10.244.2.5:53 -m -w 1\n');
  assert.is(cut.artifacts['ipset.restore'], 'create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536\nadd KUBE-LOOP-BACK 10.244.1.7,tcp:53,10.244.1.7\n');
  assert.equal(cut.manifest.kubeIpvs0, []); // 10.96.0.20/32 went away: touched, and not desired
  assert.is(cut.artifacts['iptables.restore'], ''); // no table touched: none parsed
  const ruled = edit((a) => void (a['iptables.restore'] = V4.replace('INVALID -j DROP', 'INVALID -j DROP\n-A KUBE-FORWARD -j ACCEPT')));
  assert.is(cutToTouched(ruled, touched(ruled)).artifacts['iptables.restore'], '*filter\n:KUBE-FORWARD - [0:0]\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n-A KUBE-FORWARD -j ACCEPT\nCOMMIT\n');
});

test('ran every case', () => assert.ok(ran >= 9, `ran ${ran}`));
test.run();
