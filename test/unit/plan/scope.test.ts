/**
 * A plan's scope (plan/scope.ts), for apply's read-back and --refresh=changed: the query names
 * only what a plan touched, and the check compares only the touched keys, so drift elsewhere
 * neither fails an apply nor is read.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { parseArgs } from '../../../src/cli/args.js';
import { computePlan } from '../../../src/cli/commands/plan.js';
import type { Planned } from '../../../src/cli/commands/plan.js';
import { MAX_SERVICES_READ_ONE_BY_ONE, readBackQuery, restrictDesired, restrictReadBack, touchedBy } from '../../../src/plan/scope.js';
import { makePlan } from '../../../src/plan/make-plan.js';
import { planToJson } from '../../../src/plan/format.js';
import type { Change } from '../../../src/plan/types.js';
import type { StateSnapshot } from '../../../src/state/snapshot.js';
import type { DesiredCanonical } from '../../../src/state/desired.js';
import type { LiveVirtualServer } from '../../../src/state/types.js';
import { readFlags } from '../../helpers/cases.js';
import { PLANS, SimHost, liveOf } from '../../helpers/sim-host.js';

let ran = 0;
const io = { cwd: PLANS, env: {}, stdout: () => undefined, stderr: () => undefined, readStdin: () => Buffer.from(''), isTTY: false };
async function planOf(c: string, live: StateSnapshot): Promise<Planned> {
  const p = await computePlan(parseArgs(['plan', '-f', join(PLANS, c, 'input'), ...readFlags(join(PLANS, c))]), io, new SimHost(() => live));
  if (!('plan' in p)) throw new Error(`cannot plan ${c}`);
  return p;
}
const rs = (key: string): Change => ({ subsystem: 'ipvs', action: 'update', kind: 'real-server', key, before: 'weight 0', after: 'weight 1' });

test('an empty node: every subsystem is read back; sets and tables whole, the two services one by one', async () => {
  ran++;
  const p = await planOf('01-empty-node', {});
  const t = touchedBy(p.plan.changes);
  assert.is(t.link, true);
  assert.is(t.ipsets.size, 17);
  assert.equal(readBackQuery(t), {
    files: ['sysctl.txt', 'kube-ipvs0.addr', 'ipset.save', 'ipvsadm.list', 'iptables.save'],
    ipvsServices: [{ protocol: 'UDP', address: '10.96.0.10', port: 53 }, { protocol: 'TCP', address: '10.96.0.20', port: 80 }],
    tables: ['filter', 'nat'],
  });
  // After the steps, the 17 sets they created are proved by their entry counts, not saved whole.
  const after = readBackQuery(t, p.desiredState, { afterSteps: true });
  assert.equal(after.ipsets, []);
  assert.equal(after.ipsetsFilled?.map((x) => x.set), [...t.ipsets].sort());
  const clusterIp = p.desiredState.ipsets.find((x) => x.name === 'KUBE-CLUSTER-IP')!;
  assert.ok(clusterIp.entries.length > 0);
  assert.equal(after.ipsetsFilled?.find((x) => x.set === 'KUBE-CLUSTER-IP')?.entries, clusterIp.entries);
});

test(`more than ${MAX_SERVICES_READ_ONE_BY_ONE} services: one dump of the IPVS table instead`, () => {
  ran++;
  const changes = Array.from({ length: MAX_SERVICES_READ_ONE_BY_ONE + 1 }, (_, i) => rs(`TCP/10.96.0.${i}:80 -> 10.244.0.1:80`));
  assert.equal(readBackQuery(touchedBy([...changes, rs('UDP/[fd00::1]:53 -> [fd00::2]:53')])), { files: ['ipvsadm.list'] });
  assert.equal(readBackQuery(touchedBy([rs('UDP/[fd00::1]:53 -> [fd00::2]:53')])), { files: ['ipvsadm.list'], ipvsServices: [{ protocol: 'UDP', address: 'fd00::1', port: 53 }] });
});

test('a whole-table read-back goes through /proc/net/ip_vs unless a touched desired service has scheduler flags', () => {
  ran++;
  const changes = Array.from({ length: MAX_SERVICES_READ_ONE_BY_ONE + 1 }, (_, i) => rs(`TCP/10.96.0.${i}:80 -> 10.244.0.1:80`));
  const vs = (i: number, flags: string[]): LiveVirtualServer => ({ protocol: 'TCP', address: `10.96.0.${i}`, port: 80, scheduler: flags.length ? 'mh' : 'rr', flags, timeout: 0, realServers: [] });
  // readBackQuery reads only the desired services
  const desired = (flags: string[], at: number): DesiredCanonical => ({ ipvs: [vs(at, flags)] }) as unknown as DesiredCanonical;
  assert.equal(readBackQuery(touchedBy(changes), desired([], 3)), { files: ['ipvsadm.list'], ipvsFromProc: true });
  assert.equal(readBackQuery(touchedBy(changes), desired(['mh-port'], 3)), { files: ['ipvsadm.list'] });
  // flags on a service the apply did not touch do not matter
  assert.equal(readBackQuery(touchedBy(changes), desired(['mh-port'], 99)), { files: ['ipvsadm.list'], ipvsFromProc: true });
});

test('only the touched keys are compared: drift elsewhere passes, a touched key that differs fails', async () => {
  ran++;
  const live = liveOf('02-no-changes');
  const p = await planOf('02-no-changes', live);
  const touched = touchedBy([rs('TCP/10.96.0.20:80 -> 10.244.1.5:8080')]);
  const check = (snap: StateSnapshot): readonly Change[] => makePlan(restrictDesired(p.desiredState, touched), restrictReadBack(snap, touched, p.desiredState, p.live.node)).changes;
  // Drift outside the touched keys: another service's real server, a set entry, a chain.
  const drift: StateSnapshot = {
    ...live,
    'ipvsadm.save': live['ipvsadm.save']!.replace('-r 10.244.1.7:53 -m -w 1', '-r 10.244.1.7:53 -m -w 5'),
    'ipset.save': live['ipset.save']! + 'add KUBE-CLUSTER-IP 10.99.99.99,tcp:99\n',
    'iptables.save': live['iptables.save']!.replace(/^COMMIT$/m, '-A KUBE-SERVICES -j RETURN\nCOMMIT'),
  };
  assert.equal(check(drift), []);
  // The touched service differs (its other real server too: the whole service is compared).
  const bad = { ...live, 'ipvsadm.save': live['ipvsadm.save']!.replace('-r 10.244.2.6:8080 -m -w 1', '-r 10.244.2.6:8080 -m -w 3') };
  assert.equal(check(bad).map((c) => `${c.action} ${c.key}`), ['update TCP/10.96.0.20:80 -> 10.244.2.6:8080']);
  // The touched service is gone.
  const gone = { ...live, 'ipvsadm.save': '-A -u 10.96.0.10:53 -s rr\n' };
  assert.equal(check(gone).map((c) => `${c.action} ${c.kind} ${c.key}`)[0], 'create virtual-server TCP/10.96.0.20:80');
});

test('kube-ipvs0: an absent read-back file means the link is gone', async () => {
  ran++;
  const live = liveOf('02-no-changes');
  const p = await planOf('02-no-changes', live);
  const touched = touchedBy([{ subsystem: 'kube-ipvs0', action: 'create', kind: 'link', key: 'kube-ipvs0' }]);
  const check = (snap: StateSnapshot): string[] => makePlan(restrictDesired(p.desiredState, touched), restrictReadBack(snap, touched, p.desiredState, p.live.node)).changes.map((c) => `${c.action} ${c.kind}`);
  assert.equal(check({ 'kube-ipvs0.addr': '' }), []);
  assert.equal(check({}), ['create link']);
});

test('set entries and kube-ipvs0 addresses are touched one by one; a set created or deleted is touched whole', () => {
  ran++;
  const t = touchedBy([
    { subsystem: 'ipset', action: 'create', kind: 'entry', key: 'KUBE-LOOP-BACK 10.244.1.5,tcp:53,10.244.1.5' },
    { subsystem: 'ipset', action: 'delete', kind: 'entry', key: 'KUBE-CLUSTER-IP 10.96.0.9,tcp:80' },
    { subsystem: 'ipset', action: 'create', kind: 'set', key: 'KUBE-NODE-PORT-TCP' },
    { subsystem: 'ipset', action: 'create', kind: 'entry', key: 'KUBE-NODE-PORT-TCP 30080' },
    { subsystem: 'kube-ipvs0', action: 'delete', kind: 'address', key: '10.96.0.9/32' },
  ]);
  assert.equal([...t.ipsets].sort(), ['KUBE-CLUSTER-IP', 'KUBE-LOOP-BACK', 'KUBE-NODE-PORT-TCP']);
  assert.equal([...t.entries.keys()].sort(), ['KUBE-CLUSTER-IP', 'KUBE-LOOP-BACK']);
  assert.equal(t.addresses, new Set(['10.96.0.9/32']));
  const set = (name: string, type: string): { name: string; type: string } => ({ name, type });
  const desired = { ipvs: [], ipsets: [set('KUBE-LOOP-BACK', 'hash:ip,port,ip'), set('KUBE-CLUSTER-IP', 'hash:ip,port'), set('KUBE-NODE-PORT-TCP', 'bitmap:port')] } as unknown as DesiredCanonical;
  assert.equal(readBackQuery(t, desired), {
    files: ['kube-ipvs0.addr', 'ipset.save'],
    addresses: ['10.96.0.9/32'],
    ipsets: ['KUBE-NODE-PORT-TCP'],
    ipsetEntries: [{ set: 'KUBE-CLUSTER-IP', entries: ['10.96.0.9,tcp:80'] }, { set: 'KUBE-LOOP-BACK', entries: ['10.244.1.5,tcp:53,10.244.1.5'] }],
  });
  // After the steps: the created set is proved by its count; a set touched in some entries is
  // still tested entry by entry (its other entries were never added), a deleted one read whole.
  const withEntries = { ipvs: [], ipsets: [...desired.ipsets.map((x) => ({ ...x, entries: x.name === 'KUBE-NODE-PORT-TCP' ? ['30080'] : [] }))] } as unknown as DesiredCanonical;
  const gone = touchedBy([{ subsystem: 'ipset', action: 'delete', kind: 'set', key: 'KUBE-GONE' }, { subsystem: 'ipset', action: 'create', kind: 'set', key: 'KUBE-NODE-PORT-TCP' }, { subsystem: 'ipset', action: 'create', kind: 'entry', key: 'KUBE-LOOP-BACK 10.244.1.5,tcp:53,10.244.1.5' }]);
  assert.equal(readBackQuery(gone, withEntries, { afterSteps: true }), {
    files: ['ipset.save'],
    ipsets: ['KUBE-GONE'],
    ipsetEntries: [{ set: 'KUBE-LOOP-BACK', entries: ['10.244.1.5,tcp:53,10.244.1.5'] }],
    ipsetsFilled: [{ set: 'KUBE-NODE-PORT-TCP', entries: ['30080'] }],
  });
  // A net set is read whole: `ipset test` of a host net matches any net that holds it.
  const netSet = touchedBy([{ subsystem: 'ipset', action: 'create', kind: 'entry', key: 'KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,10.1.2.3/32' }]);
  const withNet = { ipvs: [], ipsets: [set('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net')] } as unknown as DesiredCanonical;
  assert.equal(readBackQuery(netSet, withNet), { files: ['ipset.save'], ipsets: ['KUBE-LOAD-BALANCER-SOURCE-CIDR'] });
  // So is a set the desired state does not know (its type is not known).
  assert.equal(readBackQuery(netSet), { files: ['ipset.save'], ipsets: ['KUBE-LOAD-BALANCER-SOURCE-CIDR'] });
});

test('an entry-level scope compares only those entries: other entries of the set, added or lost, are not seen', async () => {
  ran++;
  const live = liveOf('02-no-changes');
  const p = await planOf('02-no-changes', live);
  const entry = p.desiredState.ipsets.find((x) => x.name === 'KUBE-CLUSTER-IP')!.entries[0]!;
  const t = touchedBy([{ subsystem: 'ipset', action: 'create', kind: 'entry', key: `KUBE-CLUSTER-IP ${entry}` }]);
  const check = (snap: StateSnapshot): string[] => makePlan(restrictDesired(p.desiredState, t), restrictReadBack(snap, t, p.desiredState, p.live.node)).changes.map((c) => `${c.action} ${c.key}`);
  assert.equal(check(live), []);
  assert.equal(check({ ...live, 'ipset.save': live['ipset.save']! + 'add KUBE-CLUSTER-IP 10.99.99.99,tcp:99\n' }), []);
  assert.equal(check({ ...live, 'ipset.save': live['ipset.save']!.replace(`add KUBE-CLUSTER-IP ${entry}\n`, '') }), [`create KUBE-CLUSTER-IP ${entry}`]);
});

test('plan JSON of a narrowed plan lists the keys it compared, each list sorted; a full plan has no refresh field', async () => {
  ran++;
  const t = touchedBy([
    { subsystem: 'ipset', action: 'create', kind: 'entry', key: 'KUBE-LOOP-BACK 10.244.1.9,tcp:53,10.244.1.9' },
    { subsystem: 'ipset', action: 'delete', kind: 'entry', key: 'KUBE-LOOP-BACK 10.244.1.5,tcp:53,10.244.1.5' },
    { subsystem: 'ipset', action: 'create', kind: 'set', key: 'KUBE-NODE-PORT-UDP' },
    { subsystem: 'ipset', action: 'create', kind: 'set', key: 'KUBE-NODE-PORT-TCP' },
    { subsystem: 'kube-ipvs0', action: 'create', kind: 'address', key: '10.96.0.9/32' },
    { subsystem: 'kube-ipvs0', action: 'delete', kind: 'address', key: '10.96.0.10/32' },
    rs('UDP/10.96.0.10:53 -> 10.244.1.5:53'),
    rs('TCP/10.96.0.1:443 -> 10.244.0.2:6443'),
    { subsystem: 'iptables', action: 'update', kind: 'chain', key: 'IPv4 nat KUBE-SERVICES' },
    { subsystem: 'iptables', action: 'update', kind: 'chain', key: 'IPv4 filter KUBE-FORWARD' },
  ]);
  const p = await planOf('02-no-changes', liveOf('02-no-changes'));
  const json = planToJson(p.plan, t) as { refresh: unknown };
  assert.equal(json.refresh, {
    mode: 'changed',
    read: {
      sysctls: [], ipvs_timeouts: false, kube_ipvs0_link: false,
      kube_ipvs0_addresses: ['10.96.0.10/32', '10.96.0.9/32'],
      virtual_services: ['TCP/10.96.0.1:443', 'UDP/10.96.0.10:53'],
      whole_sets: ['KUBE-NODE-PORT-TCP', 'KUBE-NODE-PORT-UDP'],
      set_entries: { 'KUBE-LOOP-BACK': ['10.244.1.5,tcp:53,10.244.1.5', '10.244.1.9,tcp:53,10.244.1.9'] },
      iptables_tables: ['IPv4 filter', 'IPv4 nat'],
    },
  });
  assert.not.ok('refresh' in planToJson(p.plan));
});

test('ran every case', () => assert.ok(ran >= 8, `ran ${ran}`));
test.run();
