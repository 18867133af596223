/** The order of apply's commands (apply/steps.ts), checked without a kernel. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { parseArgs } from '../../../src/cli/args.js';
import { computePlan } from '../../../src/cli/commands/plan.js';
import { IPVS_CHUNKS, IPVS_CHUNK_ENDS, IPVS_CHUNK_MIN_LINES, buildSteps } from '../../../src/apply/steps.js';
import type { Change, Plan } from '../../../src/plan/types.js';
import type { DesiredCanonical } from '../../../src/state/desired.js';
import type { LiveVirtualServer } from '../../../src/state/types.js';
import { readFlags } from '../../helpers/cases.js';
import { PLANS, SimHost } from '../../helpers/sim-host.js';

let ran = 0;
const io = { cwd: PLANS, env: {}, stdout: () => undefined, stderr: () => undefined, readStdin: () => Buffer.from(''), isTTY: false };

test('an empty node: one sysctl command, the link, sets, IPVS, iptables, and only then the addresses', async () => {
  const c = '01-empty-node';
  const p = await computePlan(parseArgs(['plan', '-f', join(PLANS, c, 'input'), ...readFlags(join(PLANS, c))]), io, new SimHost(() => ({})));
  if (!('plan' in p)) throw new Error('cannot plan');
  const steps = buildSteps(p.plan, p.desiredState);
  assert.equal(steps.map((s) => `${s.command.tool} ${s.command.args[0] ?? ''}`), [
    'sysctl -w', 'ip link', 'ipset restore', 'ipvsadm -R', 'iptables-restore -w', 'iptables-restore -w', 'ip -batch',
  ]);
  const sysctl = steps[0]!;
  assert.equal(sysctl.command.args, ['-w', 'net.ipv4.vs.conntrack=1', 'net.ipv4.vs.expire_nodest_conn=1', 'net.ipv4.vs.expire_quiescent_template=1', 'net.ipv4.ip_forward=1']);
  assert.is(sysctl.changes.length, 4);
  // Every change is carried out by exactly one step.
  assert.is(steps.reduce((n, s) => n + s.changes.length, 0), p.plan.changes.length);
  // What each waits for: IPVS runs alongside the sets and their rules; the addresses wait for both.
  assert.equal(steps.map((s) => s.after), [[], [0], [1], [1], [2], [4], [3, 5]]);
  ran++;
});

test(`${IPVS_CHUNK_MIN_LINES}+ IPVS lines load in ${IPVS_CHUNKS} chunks by address; each address right after its chunk`, () => {
  // A synthetic full apply: 1200 VIPs with 2 ports and 1 real server each (4800 IPVS lines).
  const changes: Change[] = [];
  const ipvs: LiveVirtualServer[] = [];
  const vip = (i: number): string => `10.96.${i >> 8}.${i & 255}`;
  for (let i = 0; i < 1200; i++) {
    for (const port of [80, 443]) {
      const key = `TCP/${vip(i)}:${port}`;
      ipvs.push({ protocol: 'TCP', address: vip(i), port, scheduler: 'rr', flags: [], timeout: 0, realServers: [{ address: '10.244.0.1', port: 8080, weight: 1, method: 'masq' }] });
      changes.push({ subsystem: 'ipvs', action: 'create', kind: 'virtual-server', key }, { subsystem: 'ipvs', action: 'create', kind: 'real-server', key: `${key} -> 10.244.0.1:8080` });
    }
  }
  // one IPv6 VIP in the middle (bracketed in IPVS keys, bare in address keys)
  ipvs.splice(1200, 0, { protocol: 'UDP', address: 'fd00::1', port: 53, scheduler: 'rr', flags: [], timeout: 0, realServers: [{ address: 'fd00::2', port: 53, weight: 1, method: 'masq' }] });
  changes.splice(2400, 0, { subsystem: 'ipvs', action: 'create', kind: 'virtual-server', key: 'UDP/[fd00::1]:53' }, { subsystem: 'ipvs', action: 'create', kind: 'real-server', key: 'UDP/[fd00::1]:53 -> [fd00::2]:53' });
  changes.push({ subsystem: 'kube-ipvs0', action: 'create', kind: 'address', key: 'fd00::1/128' });
  changes.push({ subsystem: 'ipset', action: 'create', kind: 'entry', key: 'KUBE-CLUSTER-IP 10.96.0.1,tcp:80' });
  changes.push({ subsystem: 'iptables', action: 'create', kind: 'jump', key: 'IPv4 nat PREROUTING', after: '-A PREROUTING -j KUBE-SERVICES' });
  // addresses in another order than the services, plus one with no service change
  for (let i = 1199; i >= 0; i--) changes.push({ subsystem: 'kube-ipvs0', action: 'create', kind: 'address', key: `${vip(i)}/32` });
  changes.push({ subsystem: 'kube-ipvs0', action: 'create', kind: 'address', key: '10.97.0.1/32' });
  const plan: Plan = { formatVersion: '1.0', node: 'n', stateDigest: '', changes, draining: [], summary: { add: changes.length, change: 0, destroy: 0 } };
  const desired = { ipvs, ipsets: [], iptables: { IPv4: {}, IPv6: {} }, timeouts: { tcp: 0, tcpfin: 0, udp: 0 } } as unknown as DesiredCanonical;
  const steps = buildSteps(plan, desired);
  const idx = (re: RegExp): number[] => steps.flatMap((s, i) => (re.test(s.name) ? [i] : []));
  const ipvsSteps = idx(/^ipvs: add/);
  const addrSteps = idx(/^kube-ipvs0: add/);
  const rules = idx(/^iptables/);
  assert.is(ipvsSteps.length, IPVS_CHUNKS);
  assert.is(addrSteps.length, IPVS_CHUNKS);
  assert.equal(steps[idx(/^ipset/)[0]!]!.after, []);
  assert.equal(steps[ipvsSteps[0]!]!.after, []);
  ipvsSteps.slice(1).forEach((s, k) => assert.equal(steps[s]!.after, [ipvsSteps[k]]));
  // Every address waits for the chunk holding all of its services, and for the rules.
  const chunkOf = new Map<string, number>();
  ipvsSteps.forEach((s, k) => steps[s]!.command.input!.split('\n').forEach((l) => { const m = / -t ([\d.]+):/.exec(l); if (m) chunkOf.set(m[1]!, Math.max(chunkOf.get(m[1]!) ?? 0, k)); }));
  assert.is(chunkOf.size, 1200);
  addrSteps.forEach((s, k) => {
    const deps = new Set(steps[s]!.after);
    assert.ok(deps.has(ipvsSteps[k]!) && deps.has(rules[0]!), `address chunk ${k} waits for ${[...deps].join(", ")}`);
    for (const l of steps[s]!.command.input!.trim().split('\n')) {
      const a = /addr add ([\d.:a-f]+)\//.exec(l)![1]!;
      if (a.includes(':')) continue; // the IPv6 VIP: checked below
      assert.ok((chunkOf.get(a) ?? IPVS_CHUNKS - 1) <= k, `${a} bound in chunk ${k}, its services load in ${chunkOf.get(a)}`);
    }
  });
  assert.match(steps[addrSteps[IPVS_CHUNKS - 1]!]!.command.input!, '10.97.0.1/32');
  const v6Chunk = ipvsSteps.findIndex((i) => steps[i]!.command.input!.includes('-A -u [fd00::1]:53'));
  assert.ok(v6Chunk > 0 && v6Chunk < IPVS_CHUNKS - 1, `IPv6 VIP in chunk ${v6Chunk}`);
  assert.match(steps[addrSteps[v6Chunk]!]!.command.input!, 'addr add fd00::1/128 dev kube-ipvs0');
  // Every change in exactly one step; the IPVS lines are the unchunked ones, in the same order per service.
  assert.is(steps.reduce((n, s) => n + s.changes.length, 0), changes.length);
  assert.is(ipvsSteps.reduce((n, s) => n + steps[s]!.command.input!.trim().split('\n').length, 0), 4802);
  // Chunk sizes follow IPVS_CHUNK_ENDS (30/30/30/10%, to a VIP's 4 lines): the last is the small one.
  const sizes = ipvsSteps.map((s) => steps[s]!.command.input!.trim().split('\n').length);
  const ends = sizes.map((_, k) => sizes.slice(0, k + 1).reduce((a, b) => a + b, 0) / 4802);
  ends.forEach((e, k) => assert.ok(Math.abs(e - IPVS_CHUNK_ENDS[k]!) < 0.01, `chunk ${k} ends at ${e.toFixed(3)} of the lines (sizes ${sizes.join(', ')})`));
  assert.ok(sizes[IPVS_CHUNKS - 1]! < Math.min(...sizes.slice(0, -1)) / 2, `sizes ${sizes.join(', ')}`);
  ran++;
});

test('chunks follow line counts: a node IP with thousands of NodePort lines fills chunks of its own, none empty', () => {
  const changes: Change[] = [];
  const ipvs: LiveVirtualServer[] = [];
  const addVs = (address: string, port: number): void => {
    const key = `TCP/${address}:${port}`;
    ipvs.push({ protocol: 'TCP', address, port, scheduler: 'rr', flags: [], timeout: 0, realServers: [{ address: '10.244.0.1', port: 8080, weight: 1, method: 'masq' }] });
    changes.push({ subsystem: 'ipvs', action: 'create', kind: 'virtual-server', key }, { subsystem: 'ipvs', action: 'create', kind: 'real-server', key: `${key} -> 10.244.0.1:8080` });
  };
  for (let p = 30000; p < 32500; p++) addVs('192.168.0.10', p);
  for (let i = 0; i < 100; i++) addVs(`10.96.1.${i}`, 80);
  const plan: Plan = { formatVersion: '1.0', node: 'n', stateDigest: '', changes, draining: [], summary: { add: changes.length, change: 0, destroy: 0 } };
  const desired = { ipvs, ipsets: [], iptables: { IPv4: {}, IPv6: {} }, timeouts: { tcp: 0, tcpfin: 0, udp: 0 } } as unknown as DesiredCanonical;
  const ipvsSteps = buildSteps(plan, desired).filter((st) => st.command.tool === 'ipvsadm');
  const sizes = ipvsSteps.map((st) => st.command.input!.trim().split('\n').length);
  assert.equal(sizes, [5000, 200]);
  assert.ok(ipvsSteps.every((st, k) => st.name.endsWith(`(part ${k + 1} of 2)`)), ipvsSteps.map((st) => st.name).join('; '));
  ran++;
});

test('IPVS lines: weights from the desired real servers, in any order; a real server no longer desired drains at 0', () => {
  const rs = (address: string, port: number, weight: number): LiveVirtualServer['realServers'][number] => ({ address, port, weight, method: 'masq' });
  const ipvs: LiveVirtualServer[] = [
    { protocol: 'TCP', address: '10.0.0.1', port: 80, scheduler: 'rr', flags: [], timeout: 0, realServers: [rs('10.1.0.1', 80, 1), rs('10.1.0.2', 80, 2), rs('10.1.0.3', 8080, 3)] },
    { protocol: 'UDP', address: 'fd00::1', port: 53, scheduler: 'rr', flags: [], timeout: 0, realServers: [rs('fd00::2', 53, 4), rs('fd00::3', 53, 5)] },
  ];
  const c = (action: Change['action'], kind: string, key: string): Change => ({ subsystem: 'ipvs', action, kind, key });
  const changes: Change[] = [
    c('create', 'virtual-server', 'TCP/10.0.0.1:80'),
    c('create', 'real-server', 'TCP/10.0.0.1:80 -> 10.1.0.1:80'),
    c('create', 'real-server', 'TCP/10.0.0.1:80 -> 10.1.0.3:8080'), // skips one
    c('create', 'real-server', 'TCP/10.0.0.1:80 -> 10.1.0.2:80'), // back
    c('create', 'virtual-server', 'UDP/[fd00::1]:53'),
    c('create', 'real-server', 'UDP/[fd00::1]:53 -> [fd00::3]:53'),
    c('update', 'real-server', 'TCP/10.0.0.1:80 -> 10.1.0.3:8080'), // another service's change in between
    c('update', 'real-server', 'UDP/[fd00::1]:53 -> [fd00::2]:53'),
    c('update', 'real-server', 'UDP/[fd00::1]:53 -> [fd00::9]:53'), // draining
    c('update', 'real-server', 'TCP/10.0.0.1:80 -> 10.1.0.2:080'), // not canonical: read as a number
  ];
  const plan: Plan = { formatVersion: '1.0', node: 'n', stateDigest: '', changes, draining: [], summary: { add: 6, change: 4, destroy: 0 } };
  const desired = { ipvs, ipsets: [], iptables: { IPv4: {}, IPv6: {} }, timeouts: { tcp: 0, tcpfin: 0, udp: 0 } } as unknown as DesiredCanonical;
  const [step] = buildSteps(plan, desired);
  assert.equal(step!.command.input!.trim().split('\n'), [
    '-A -t 10.0.0.1:80 -s rr',
    '-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w 1',
    '-a -t 10.0.0.1:80 -r 10.1.0.3:8080 -m -w 3',
    '-a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 2',
    '-A -u [fd00::1]:53 -s rr',
    '-a -u [fd00::1]:53 -r [fd00::3]:53 -m -w 5',
    '-e -t 10.0.0.1:80 -r 10.1.0.3:8080 -m -w 3',
    '-e -u [fd00::1]:53 -r [fd00::2]:53 -m -w 4',
    '-e -u [fd00::1]:53 -r [fd00::9]:53 -m -w 0',
    '-e -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 2',
  ]);
  ran++;
});

test('ran every case', () => assert.is(ran, 4));

test.run();
