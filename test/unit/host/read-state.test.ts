/**
 * What the live host runs to read the node (issue #5): a full read runs each tool once (kube-ipvs0's
 * addresses come out of the one `ip -o addr show`, the sysctls out of one `sysctl -e`), and a
 * query runs only the narrowed reads apply's verification asks for. The tools are faked with the
 * recorded outputs of test/fixtures/tool-output/.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, CommandResult } from '../../../src/host/host.js';
import { commandText } from '../../../src/host/host.js';
import { EVERY_FILE, readStateWith } from '../../../src/host/read-state.js';
import { RecordedHost } from '../../../src/host/recorded-host.js';
import { parseSnapshot } from '../../../src/state/canonical.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'tool-output');
/** A fixture's stdout (the files hold `## stdout` / `## stderr` sections, or plain output). */
function stdoutOf(rel: string): string {
  const t = readFileSync(join(FIX, rel), 'utf8');
  const m = /## stdout\n([\s\S]*?)(?:## stderr|$)/.exec(t);
  return m ? m[1]! : t;
}
const ALL_ADDR = stdoutOf('ip/addr-all-oneline.txt');
const KUBE_ADDR = stdoutOf('ip/addr-kube-ipvs0-oneline.txt');
let ran = 0;

type Answer = Partial<CommandResult> | undefined;
function fakeRun(answers: Record<string, Answer>): { run: (c: Command) => Promise<CommandResult>; ran: string[] } {
  const ranCmds: string[] = [];
  return {
    ran: ranCmds,
    run: (c) => {
      const text = commandText(c);
      ranCmds.push(text);
      const a = text in answers ? answers[text] : { exitCode: 0, stdout: '' };
      return Promise.resolve({ exitCode: 0, stdout: '', stderr: '', ...(a ?? { exitCode: 1, stderr: 'not found' }) });
    },
  };
}

test('fixtures are the ones expected', () => {
  ran++;
  assert.match(ALL_ADDR, /kube-ipvs0/);
  assert.match(ALL_ADDR, /eth0/);
  assert.ok(KUBE_ADDR.split('\n').filter(Boolean).every((l) => /^\d+: kube-ipvs0 /.test(l)));
});

test('a plan\'s read runs each tool once: one IPVS dump (-Ln), kube-ipvs0.addr cut out of `ip -o addr show`, the boot id', async () => {
  ran++;
  const f = fakeRun({
    'ip -o addr show': { stdout: ALL_ADDR },
    'ip -o link show dev kube-ipvs0': { stdout: '5: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN\n' },
    'uname -r': { stdout: '6.1.0-56-amd64\n' },
    'sysctl -e net.ipv4.vs.conntrack net.ipv4.vs.conn_reuse_mode net.ipv4.vs.expire_nodest_conn net.ipv4.vs.expire_quiescent_template net.ipv4.ip_forward net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce':
      { stdout: 'net.ipv4.vs.conntrack = 1\nnet.ipv4.ip_forward = 1\nnet.ipv4.conf.all.arp_announce = 2\n' },
  });
  const snap = await readStateWith(f.run, 'node-a');
  assert.equal([...f.ran].sort(), [
    'cat /proc/sys/kernel/random/boot_id', 'ip -o addr show', 'ip -o link show dev kube-ipvs0', 'ip6tables-save', 'ipset save', 'iptables-save',
    'ipvsadm -L --timeout', 'ipvsadm -Ln',
    'sysctl -e net.ipv4.vs.conntrack net.ipv4.vs.conn_reuse_mode net.ipv4.vs.expire_nodest_conn net.ipv4.vs.expire_quiescent_template net.ipv4.ip_forward net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce',
    'uname -r',
  ]);
  assert.is(snap['kube-ipvs0.addr'], KUBE_ADDR);
  assert.is(snap['sysctl.txt'], 'net/ipv4/vs/conntrack = 1\nnet/ipv4/ip_forward = 1\nnet/ipv4/conf/all/arp_announce = 2\n');
  const node = JSON.parse(snap['node.json']!) as { kernel: string; kubeIpvs0Exists: boolean; interfaces: { name: string }[] };
  assert.is(node.kernel, '6.1.0-56-amd64');
  assert.is(node.kubeIpvs0Exists, true);
  assert.not.ok(node.interfaces.some((i) => i.name === 'kube-ipvs0'));
  const state = parseSnapshot(snap).state!;
  assert.is(state.kubeIpvs0.addresses.length, KUBE_ADDR.split('\n').filter(Boolean).length);
});

test('state save names every file: ipvsadm -Sn is read too', async () => {
  ran++;
  const f = fakeRun({ 'ipvsadm -Sn': { stdout: stdoutOf('ipvsadm/save-Sn.txt') }, 'ipvsadm -Ln': { stdout: stdoutOf('ipvsadm/list-Ln.txt') } });
  const snap = await readStateWith(f.run, 'n', { files: EVERY_FILE });
  assert.ok(f.ran.includes('ipvsadm -Sn'));
  assert.ok(snap['ipvsadm.save'] && snap['ipvsadm.list']);
});

test('a snapshot holding only ipvsadm -Ln plans the same IPVS table as one with -Sn', () => {
  ran++;
  const both = parseSnapshot({ 'ipvsadm.save': stdoutOf('ipvsadm/save-Sn.txt'), 'ipvsadm.list': stdoutOf('ipvsadm/list-Ln.txt') }).state!;
  const listOnly = parseSnapshot({ 'ipvsadm.list': stdoutOf('ipvsadm/list-Ln.txt') }).state!;
  const strip = (s: typeof both): unknown => s.ipvs.map((v) => ({ ...v, realServers: v.realServers.map((r) => ({ address: r.address, port: r.port, weight: r.weight, method: r.method })) }));
  assert.ok(listOnly.ipvs.length > 5);
  assert.equal(strip(listOnly), strip(both));
  assert.equal([...listOnly.conns!.conns], [...both.conns!.conns]);
});

test('no kube-ipvs0 link: kube-ipvs0.addr is absent, as `ip -o addr show dev kube-ipvs0` (exit 1) leaves it', async () => {
  ran++;
  const f = fakeRun({ 'ip -o addr show': { stdout: '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n' }, 'ip -o link show dev kube-ipvs0': undefined });
  const snap = await readStateWith(f.run, 'node-a');
  assert.is(snap['kube-ipvs0.addr'], undefined);
  assert.is((JSON.parse(snap['node.json']!) as { kubeIpvs0Exists: boolean }).kubeIpvs0Exists, false);
});

test('sysctl -e failing: the sysctls are read one by one', async () => {
  ran++;
  // ip_vs not loaded and no -e: only the two non-IPVS keys answer.
  const f = fakeRun({
    'sysctl -e net.ipv4.vs.conntrack net.ipv4.vs.conn_reuse_mode net.ipv4.vs.expire_nodest_conn net.ipv4.vs.expire_quiescent_template net.ipv4.ip_forward net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce': undefined,
    'sysctl -n net.ipv4.vs.conntrack': undefined, 'sysctl -n net.ipv4.vs.conn_reuse_mode': undefined, 'sysctl -n net.ipv4.vs.expire_nodest_conn': undefined,
    'sysctl -n net.ipv4.vs.expire_quiescent_template': undefined, 'sysctl -n net.ipv4.conf.all.arp_announce': undefined,
    'sysctl -n net.ipv4.ip_forward': { stdout: '1\n' }, 'sysctl -n net.ipv4.conf.all.arp_ignore': { stdout: '0\n' },
  });
  const snap = await readStateWith(f.run, 'n', { files: ['sysctl.txt'] });
  assert.is(f.ran.filter((c) => c.startsWith('sysctl -n')).length, 7);
  assert.is(snap['sysctl.txt'], 'net/ipv4/ip_forward = 1\nnet/ipv4/conf/all/arp_ignore = 0\n');
});

test('a narrowed read runs only what it names: one ipvsadm -Ln per service, one ipset save per set, one iptables-save -t per table', async () => {
  ran++;
  const list = stdoutOf('ipvsadm/list-Ln-one-service.txt');
  const f = fakeRun({
    'ipvsadm -Ln -t 10.20.30.41:80': { stdout: list },
    'ipvsadm -Ln -u \'[2020::1]:53\'': { exitCode: 1, stderr: 'No such service\n' },
    'ipset save KUBE-CLUSTER-IP': { stdout: 'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\nadd KUBE-CLUSTER-IP 10.96.0.20,tcp:80\n' },
    'ipset save KUBE-GONE': { exitCode: 1, stderr: 'ipset v7.17: The set with the given name does not exist\n' },
    'iptables-save -t nat': { stdout: '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n' },
  });
  const snap = await readStateWith(f.run, 'n', {
    files: ['ipvsadm.list', 'ipset.save', 'iptables.save', 'kube-ipvs0.addr'],
    ipvsServices: [{ protocol: 'TCP', address: '10.20.30.41', port: 80 }, { protocol: 'UDP', address: '2020::1', port: 53 }],
    ipsets: ['KUBE-CLUSTER-IP', 'KUBE-GONE'],
    tables: ['nat'],
  });
  assert.equal([...f.ran].sort(), ['ip -o addr show dev kube-ipvs0', 'ipset save KUBE-CLUSTER-IP', 'ipset save KUBE-GONE', 'iptables-save -t nat', 'ipvsadm -Ln -t 10.20.30.41:80', 'ipvsadm -Ln -u \'[2020::1]:53\'']);
  assert.equal(Object.keys(snap), ['ipvsadm.list', 'ipset.save', 'iptables.save', 'kube-ipvs0.addr']);
  assert.is(snap['ipvsadm.list'], list);
  assert.match(snap['ipset.save']!, /^create KUBE-CLUSTER-IP/);
});

/** A fixture file's recorded run: exit code, stdout, stderr. */
function runOf(rel: string): Partial<CommandResult> {
  const t = readFileSync(join(FIX, rel), 'utf8');
  const part = (name: string): string => new RegExp(`## ${name}\\n([\\s\\S]*?)(?=\\n## |$)`).exec(t)?.[1] ?? '';
  const stdout = part('stdout');
  return { exitCode: Number(part('exit').trim()), stdout: stdout === '' ? '' : stdout + '\n', stderr: part('stderr') };
}

test('set entries are read one by one: the set\'s header from ipset list -t, then ipset test for each entry', async () => {
  ran++;
  const f = fakeRun({
    'ipset list -t KUBE-LOOP-BACK': runOf('ipset/list-t-hash.txt'),
    'ipset test KUBE-LOOP-BACK 10.180.0.1,tcp:80,10.180.0.1': runOf('ipset/test-present.txt'),
    'ipset test KUBE-LOOP-BACK 10.180.0.2,tcp:80,10.180.0.2': runOf('ipset/test-absent.txt'),
    'ipset list -t KUBE-NODE-PORT-TCP': runOf('ipset/list-t-bitmap.txt'),
    'ipset test KUBE-NODE-PORT-TCP 30080': runOf('ipset/test-bitmap.txt'),
    'ipset list -t KUBE-GONE': runOf('ipset/list-t-missing.txt'),
    'ipset test KUBE-GONE 10.0.0.1,tcp:80': runOf('ipset/list-t-missing.txt'),
  });
  const snap = await readStateWith(f.run, 'n', {
    files: ['ipset.save'],
    ipsets: [],
    ipsetEntries: [
      { set: 'KUBE-LOOP-BACK', entries: ['10.180.0.1,tcp:80,10.180.0.1', '10.180.0.2,tcp:80,10.180.0.2'] },
      { set: 'KUBE-NODE-PORT-TCP', entries: ['30080'] },
      { set: 'KUBE-GONE', entries: ['10.0.0.1,tcp:80'] },
    ],
  });
  // The header and the tests run at once; a missing set is left out, whatever its tests said.
  assert.equal(f.ran.filter((c) => c.startsWith('ipset ')).length, 7);
  const sets = parseSnapshot(snap).state!.ipsets;
  assert.equal(sets.map((x) => [x.name, x.type, x.family, x.entries]), [
    ['KUBE-LOOP-BACK', 'hash:ip,port,ip', 'IPv4', ['10.180.0.1,tcp:80,10.180.0.1']],
    ['KUBE-NODE-PORT-TCP', 'bitmap:port', undefined, ['30080']],
  ]);
});

test('one set the steps just filled is proved by its entry count (ipset list -t NAME); another count, or none, reads it whole', async () => {
  ran++;
  const loopBack = ['10.180.0.1,tcp:80,10.180.0.1'];
  const save = 'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535\nadd KUBE-NODE-PORT-TCP 30080\nadd KUBE-NODE-PORT-TCP 30081\n';
  const noCount = runOf('ipset/list-t-bitmap.txt');
  const read = async (answers: Record<string, Answer>, set: string, entries: string[]): Promise<{ ran: string[]; sets: [string, readonly string[]][] }> => {
    const f = fakeRun(answers);
    const snap = await readStateWith(f.run, 'n', { files: ['ipset.save'], ipsets: [], ipsetsFilled: [{ set, entries }] });
    return { ran: f.ran, sets: parseSnapshot(snap).state!.ipsets.map((x) => [x.name, x.entries]) };
  };
  // list-t-hash.txt counts 1 entry, list-t-bitmap.txt 1 as well (recorded on the host)
  // counted 1 = listed 1: the listed entries, no save
  const same = await read({ 'ipset list -t KUBE-LOOP-BACK': runOf('ipset/list-t-hash.txt') }, 'KUBE-LOOP-BACK', loopBack);
  assert.equal(same.ran, ['ipset list -t KUBE-LOOP-BACK']);
  assert.equal(same.sets, [['KUBE-LOOP-BACK', loopBack]]);
  // counted 1, listed 2: what the kernel holds, read whole
  const other = await read({ 'ipset list -t KUBE-NODE-PORT-TCP': runOf('ipset/list-t-bitmap.txt'), 'ipset save KUBE-NODE-PORT-TCP': { stdout: save } }, 'KUBE-NODE-PORT-TCP', ['30080', '30082']);
  assert.equal(other.ran, ['ipset list -t KUBE-NODE-PORT-TCP', 'ipset save KUBE-NODE-PORT-TCP']);
  assert.equal(other.sets, [['KUBE-NODE-PORT-TCP', ['30080', '30081']]]);
  // no count printed: read whole
  const none = await read({
    'ipset list -t KUBE-NODE-PORT-UDP': { ...noCount, stdout: noCount.stdout!.replace(/^Number of entries.*\n/m, '').replace(/TCP/g, 'UDP') },
    'ipset save KUBE-NODE-PORT-UDP': { stdout: 'create KUBE-NODE-PORT-UDP bitmap:port range 0-65535\n' },
  }, 'KUBE-NODE-PORT-UDP', []);
  assert.equal(none.sets, [['KUBE-NODE-PORT-UDP', []]]);
  // gone: left out
  assert.equal((await read({ 'ipset list -t KUBE-GONE': runOf('ipset/list-t-missing.txt') }, 'KUBE-GONE', ['10.0.0.1,tcp:80'])).sets, []);
});

test('several sets the steps just filled are counted in one listing of every set (ipset list -t); a set of another count, or none, is read whole', async () => {
  ran++;
  // The real listing of a node (ipset list -t): KUBE-LOOP-BACK counts 2 entries, KUBE-CLUSTER-IP 3,
  // KUBE-EXTERNAL-IP 1; a foreign set is listed too, and KUBE-GONE is not.
  const listing = stdoutOf('ipset/list-terse.txt') + '\nName: cali40-foreign\nType: hash:net\nRevision: 7\nHeader: family inet hashsize 1024 maxelem 1048576 bucketsize 12 initval 0x1\nSize in memory: 504\nReferences: 1\nNumber of entries: 9\n';
  assert.match(listing, /^Name: KUBE-LOOP-BACK\n(?:.+\n)*Number of entries: 2\n\nName: KUBE-CLUSTER-IP\n(?:.+\n)*Number of entries: 3\n\nName: KUBE-EXTERNAL-IP\n(?:.+\n)*Number of entries: 1\n/);
  const loopBack = ['10.180.0.1,tcp:80,10.180.0.1', '10.180.0.2,tcp:80,10.180.0.2'];
  const f = fakeRun({
    'ipset list -t': { stdout: listing },
    'ipset save KUBE-CLUSTER-IP': { stdout: 'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\nadd KUBE-CLUSTER-IP 10.96.0.1,tcp:443\nadd KUBE-CLUSTER-IP 10.96.0.10,udp:53\nadd KUBE-CLUSTER-IP 10.96.0.10,tcp:53\n' },
  });
  const snap = await readStateWith(f.run, 'n', {
    files: ['ipset.save'],
    ipsets: [],
    ipsetsFilled: [
      { set: 'KUBE-LOOP-BACK', entries: loopBack },
      { set: 'KUBE-CLUSTER-IP', entries: ['10.96.0.1,tcp:443'] },
      { set: 'KUBE-EXTERNAL-IP', entries: ['203.0.113.10,tcp:80'] },
      { set: 'KUBE-GONE', entries: ['10.0.0.1,tcp:80'] },
    ],
  });
  // One listing for four sets; only the set whose count differs is saved.
  assert.equal(f.ran, ['ipset list -t', 'ipset save KUBE-CLUSTER-IP']);
  const sets = parseSnapshot(snap).state!.ipsets;
  assert.equal(sets.map((x) => [x.name, x.type, x.entries]), [
    ['KUBE-LOOP-BACK', 'hash:ip,port,ip', loopBack],
    ['KUBE-CLUSTER-IP', 'hash:ip,port', ['10.96.0.1,tcp:443', '10.96.0.10,tcp:53', '10.96.0.10,udp:53']],
    ['KUBE-EXTERNAL-IP', 'hash:ip,port', ['203.0.113.10,tcp:80']],
  ]);
});

test('a listing of every set that fails (a foreign set of a newer ipset): each set is listed by name', async () => {
  ran++;
  const f = fakeRun({
    'ipset list -t': { exitCode: 1, stderr: 'ipset v7.17: Kernel support protocol versions 6-7 while userspace supports protocol versions 6-7\nKernel error received: settype hash:net revision 8 not supported by userspace\n' },
    'ipset list -t KUBE-LOOP-BACK': runOf('ipset/list-t-hash.txt'),
    'ipset list -t KUBE-GONE': runOf('ipset/list-t-missing.txt'),
  });
  const snap = await readStateWith(f.run, 'n', { files: ['ipset.save'], ipsets: [], ipsetsFilled: [{ set: 'KUBE-LOOP-BACK', entries: ['10.180.0.1,tcp:80,10.180.0.1'] }, { set: 'KUBE-GONE', entries: [] }] });
  assert.equal(f.ran, ['ipset list -t', 'ipset list -t KUBE-LOOP-BACK', 'ipset list -t KUBE-GONE']);
  assert.equal(parseSnapshot(snap).state!.ipsets.map((x) => [x.name, x.entries]), [['KUBE-LOOP-BACK', ['10.180.0.1,tcp:80,10.180.0.1']]]);
  // and a set whose own listing then fails for another reason than absence throws
  const g = fakeRun({ 'ipset list -t': { exitCode: 1, stderr: 'x\n' }, 'ipset list -t A': { exitCode: 1, stderr: 'ipset v7.17: Kernel error received: Operation not permitted\n' } });
  try {
    await readStateWith(g.run, 'n', { files: ['ipset.save'], ipsets: [], ipsetsFilled: [{ set: 'A', entries: [] }, { set: 'B', entries: [] }] });
    assert.unreachable('must throw');
  } catch (e) {
    assert.match((e as Error).message, /ipset list -t A exited 1: ipset v7.17: Kernel error received: Operation not permitted/);
  }
});

test('an ipset test that fails for another reason than absence throws', async () => {
  ran++;
  const f = fakeRun({
    'ipset list -t KUBE-LOOP-BACK': runOf('ipset/list-t-hash.txt'),
    'ipset test KUBE-LOOP-BACK 10.0.0.1': { exitCode: 1, stderr: 'ipset v7.17: Syntax error: cannot parse 10.0.0.1: resolving to IPv4 address failed\n' },
  });
  try {
    await readStateWith(f.run, 'n', { files: ['ipset.save'], ipsets: [], ipsetEntries: [{ set: 'KUBE-LOOP-BACK', entries: ['10.0.0.1'] }] });
    assert.unreachable('must throw');
  } catch (e) {
    assert.match((e as Error).message, /ipset test KUBE-LOOP-BACK 10.0.0.1 exited 1: ipset v7.17: Syntax error/);
  }
});

test('kube-ipvs0 addresses are read one by one (ip addr show to ADDR); no link: the file is absent', async () => {
  ran++;
  const to = (a: string): string => `ip -o addr show dev kube-ipvs0 to ${a}`;
  const lo = (r: Partial<CommandResult>): Partial<CommandResult> => ({ ...r, stdout: r.stdout!.replace(/\blo\b/g, 'kube-ipvs0') });
  const f = fakeRun({
    [to('10.96.0.10/32')]: lo(runOf('ip/addr-to-one.txt')),
    [to('10.96.0.11/32')]: lo(runOf('ip/addr-to-other-prefix.txt')),
    [to('10.96.0.12/32')]: lo(runOf('ip/addr-to-none.txt')),
    [to('fd00:96::10/128')]: lo(runOf('ip/addr-to-v6.txt')),
  });
  const snap = await readStateWith(f.run, 'n', { files: ['kube-ipvs0.addr'], addresses: ['10.96.0.10/32', '10.96.0.11/32', '10.96.0.12/32', 'fd00:96::10/128'] });
  assert.equal([...f.ran].sort(), [to('10.96.0.10/32'), to('10.96.0.11/32'), to('10.96.0.12/32'), to('fd00:96::10/128')]);
  // 10.96.0.11 bound with a /24 shows as such: a plan replaces it.
  assert.equal(parseSnapshot(snap).state!.kubeIpvs0.addresses, ['10.96.0.10/32', '10.96.0.11/24', 'fd00:96::10/128']);
  const none = fakeRun({ [to('10.96.0.10/32')]: runOf('ip/addr-to-no-link.txt') });
  assert.is((await readStateWith(none.run, 'n', { files: ['kube-ipvs0.addr'], addresses: ['10.96.0.10/32'] }))['kube-ipvs0.addr'], undefined);
});

test('a narrowed read that fails for another reason than absence throws', async () => {
  ran++;
  const f = fakeRun({ 'ipvsadm -Ln -t 10.20.30.41:80': { exitCode: 2, stderr: 'Memory allocation problem\n' } });
  try {
    await readStateWith(f.run, 'n', { files: ['ipvsadm.list'], ipvsServices: [{ protocol: 'TCP', address: '10.20.30.41', port: 80 }] });
    assert.unreachable('must throw');
  } catch (e) {
    assert.match((e as Error).message, /ipvsadm -Ln -t 10.20.30.41:80 exited 2: Memory allocation problem/);
  }
});

test('a recorded host answers a query with the whole files it names (and ipvsadm.save for services)', async () => {
  ran++;
  const h = new RecordedHost({ 'ipvsadm.save': '-A -t 10.0.0.1:80 -s rr\n', 'ipset.save': 'x', 'iptables.save': 'y', 'node.json': '{}' });
  assert.equal(await h.readState({ files: ['ipset.save'], ipsets: ['KUBE-CLUSTER-IP'] }), { 'ipset.save': 'x' });
  assert.equal(await h.readState({ files: ['ipvsadm.list'], ipvsServices: [{ protocol: 'TCP', address: '10.0.0.1', port: 80 }] }), { 'ipvsadm.save': '-A -t 10.0.0.1:80 -s rr\n' });
  assert.is(Object.keys(await h.readState()).length, 4);
});

test('a whole-table read through /proc/net/ip_vs: HZ learned from one persistent service, ipvsadm -Ln when that fails', async () => {
  ran++;
  const PROC = stdoutOf('ipvsadm/proc-net-ip_vs.txt');
  const ONE = 'TCP  192.168.0.10:30080 wrr persistent 60\n  -> 10.180.0.1:80                Masq    1      0          0\n';
  const query = { files: ['ipvsadm.list' as const], ipvsFromProc: true };
  const ok = fakeRun({ 'cat /proc/net/ip_vs': { stdout: PROC }, 'ipvsadm -Ln -t 192.168.0.10:30080': { stdout: ONE } });
  const snap = await readStateWith(ok.run, 'n', query);
  assert.equal(ok.ran, ['cat /proc/net/ip_vs', 'ipvsadm -Ln -t 192.168.0.10:30080']);
  assert.equal(Object.keys(snap), ['ipvsadm.save']);
  const viaList = parseSnapshot({ 'ipvsadm.list': stdoutOf('ipvsadm/list-Ln.txt') }).state!.ipvs;
  assert.equal(parseSnapshot(snap).state!.ipvs.map((v) => `${v.address}:${v.port} ${v.timeout}`), viaList.map((v) => `${v.address}:${v.port} ${v.timeout}`));
  // No /proc file (module not loaded, old kernel), or a timeout that changed in between (60 s is
  // not 15000 jiffies at any HZ when ipvsadm reports 7): the one ipvsadm dump instead.
  for (const answers of [{}, { 'cat /proc/net/ip_vs': { stdout: PROC }, 'ipvsadm -Ln -t 192.168.0.10:30080': { stdout: ONE.replace('60', '7') } }]) {
    const f = fakeRun({ ...answers, 'ipvsadm -Ln': { stdout: stdoutOf('ipvsadm/list-Ln.txt') } });
    const s = await readStateWith(f.run, 'n', query);
    assert.ok(f.ran.includes('ipvsadm -Ln'), f.ran.join('; '));
    assert.equal(Object.keys(s), ['ipvsadm.list']);
  }
  // Without the option a whole-table read is the ipvsadm dump, as before.
  const plain = fakeRun({});
  await readStateWith(plain.run, 'n', { files: ['ipvsadm.list'] });
  assert.equal(plain.ran, ['ipvsadm -Ln']);
});

test('ran every case', () => assert.ok(ran >= 16, `ran ${ran}`));
test.run();
