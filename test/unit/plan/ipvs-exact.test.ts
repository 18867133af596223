/**
 * apply's fast IPVS read-back check (plan/ipvs-exact.ts) against the full parse and diff it
 * stands in for. Tables are written here in /proc/net/ip_vs form, as the kernel prints them (hex
 * addresses, hash order, real servers newest first, counters), from services loaded in artifact
 * order, then read through procIpVsToSave as apply reads them. The check must say "matches" for
 * a table the kernel really holds after such a load, and never when the full diff finds a change.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { TOOL_OUTPUT, read } from '../state/_fixtures.js';
import { ipvsReadBackMatches } from '../../../src/plan/ipvs-exact.js';
import { procIpVsToSave } from '../../../src/state/proc-ip-vs.js';
import { parseIpvsadmSave } from '../../../src/state/parse-ipvsadm.js';
import { parseIp } from '../../../src/model/net.js';
import type { LiveRealServer, LiveVirtualServer } from '../../../src/state/types.js';
import { vsKey } from '../../../src/state/types.js';

const HZ = 250;
let ran = 0;

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `10.0.0.1` → `0A000001`; `fd00::1` → `[fd00:0000:…:0001]`, as ip_vs_info_seq_show prints. */
function procAddr(a: string): string {
  const ip = parseIp(a)!;
  if (ip.family === 'IPv4') return a.split('.').map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0')).join('');
  const [head, tail] = ip.text.includes('::') ? ip.text.split('::') : [ip.text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return `[${groups.map((g) => g.padStart(4, '0')).join(':')}]`;
}
const procPort = (p: number): string => p.toString(16).toUpperCase().padStart(4, '0');
const FWD: Record<LiveRealServer['method'], string> = { masq: 'Masq', route: 'Route', tunnel: 'Tunnel' };

/** The kernel's /proc/net/ip_vs after `ipvsadm -R` of `vs` in that order (real servers in list order). */
function procTable(vs: readonly LiveVirtualServer[], r: () => number): string {
  const lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn'];
  // hash order: anything but the load order
  const order = vs.map((v) => ({ v, k: r() })).sort((a, b) => a.k - b.k).map((x) => x.v);
  for (const v of order) {
    const v6 = v.address.includes(':');
    const persist = v.timeout ? ` persistent ${v.timeout * HZ} ${v6 ? '00000080' : 'FFFFFFFF'}` : '';
    lines.push(`${v.protocol}  ${procAddr(v.address)}:${procPort(v.port)} ${v.scheduler} ${v6 ? '' : ' '}${persist}`.trimEnd() + (persist ? '' : ' '));
    // newest first: list_add_rcu at the head of svc->destinations
    for (const rs of [...v.realServers].reverse()) {
      lines.push(`  -> ${procAddr(rs.address)}:${procPort(rs.port)}      ${FWD[rs.method].padEnd(7)} ${String(rs.weight).padEnd(6)} ${String(Math.floor(r() * 5)).padEnd(10)} ${String(Math.floor(r() * 3)).padEnd(10)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Desired services as the artifact parser reads them (canonical, sorted), from random ipvsadm -R text. */
function randomServices(r: () => number, n: number): LiveVirtualServer[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const lines: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const v6 = r() < 0.2;
    const addr = v6 ? `fd00:96::${Math.floor(r() * 300).toString(16)}` : `10.96.${Math.floor(r() * 4)}.${Math.floor(r() * 250)}`;
    const port = pick([53, 80, 443, 8080, 30080]);
    const sw = pick(['-t', '-u', '--sctp-service']);
    const svc = `${sw} ${v6 ? `[${addr}]` : addr}:${port}`;
    if (seen.has(svc)) continue;
    seen.add(svc);
    lines.push(`-A ${svc} -s ${pick(['rr', 'wrr', 'lc', 'sh'])}${r() < 0.2 ? ` -p ${pick([60, 10800])}` : ''}`);
    const rss = new Set<string>();
    for (let k = Math.floor(r() * 4); k > 0; k--) {
      const ra = v6 ? `[fd00:244::${Math.floor(r() * 50).toString(16)}]` : `10.244.${Math.floor(r() * 3)}.${Math.floor(r() * 200)}`;
      const rs = `${ra}:${pick([80, 8080, 53])}`;
      if (rss.has(rs)) continue;
      rss.add(rs);
      lines.push(`-a ${svc} -r ${rs} -m -w ${pick([0, 1, 1, 1, 2])}`);
    }
  }
  return parseIpvsadmSave(lines.join('\n') + '\n');
}

/** The full diff's answer: the services read back, restricted to the touched keys, equal the desired ones. */
function fullDiffAgrees(save: string, want: readonly LiveVirtualServer[], touched: readonly LiveVirtualServer[] = want): boolean {
  const keys = new Set(touched.map(vsKey));
  const got = parseIpvsadmSave(save).filter((v) => keys.has(vsKey(v)));
  return JSON.stringify(got) === JSON.stringify(want);
}

test('a table loaded from the desired services reads back as a match (in hash order, newest real server first, with counters)', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = rng(seed);
    const want = randomServices(r, 1 + Math.floor(r() * 30));
    const save = procIpVsToSave(procTable(want, r), HZ);
    assert.ok(fullDiffAgrees(save, want), `seed ${seed}: the full diff must agree first`);
    assert.ok(ipvsReadBackMatches(save, want, want), `seed ${seed}`);
    // services of others in the table are not looked at
    const others = randomServices(rng(seed + 1000), 10).filter((o) => !want.some((w) => vsKey(w) === vsKey(o)));
    assert.ok(ipvsReadBackMatches(procIpVsToSave(procTable([...want, ...others], r), HZ), want, want), `seed ${seed} with others`);
  }
  ran++;
});

test('never a match when the full diff finds a change: 4,000 random edits of the table', () => {
  let matched = 0;
  let refused = 0;
  for (let seed = 1; seed <= 4000; seed++) {
    const r = rng(seed);
    const want = randomServices(r, 1 + Math.floor(r() * 12));
    if (!want.length) continue;
    const kernel: LiveVirtualServer[] = structuredClone(want);
    const v = kernel[Math.floor(r() * kernel.length)]!;
    const edit = Math.floor(r() * 9); // 8: no edit
    if (edit === 0) v.scheduler = v.scheduler === 'rr' ? 'wrr' : 'rr';
    else if (edit === 1) v.timeout = v.timeout ? 0 : 60;
    else if (edit === 2 && v.realServers.length) v.realServers[0]!.weight += 1;
    else if (edit === 3 && v.realServers.length) v.realServers.pop();
    else if (edit === 4) v.realServers.push({ address: v.address.includes(':') ? 'fd00:244::ff' : '10.244.9.9', port: 9, weight: 1, method: 'masq' });
    else if (edit === 5) kernel.splice(kernel.indexOf(v), 1);
    else if (edit === 6 && v.realServers.length > 1) v.realServers.reverse(); // loaded in another order: the same state
    else if (edit === 7 && v.realServers.length) v.realServers[0]!.method = 'route';
    // a service the steps deleted (touched, not desired): still there, or gone as it should be
    const deleted: LiveVirtualServer = { protocol: 'TCP', address: '10.99.0.1', port: 80, scheduler: 'rr', flags: [], timeout: 0, realServers: [] };
    const touched = r() < 0.3 ? [...want, deleted] : want;
    if (touched.length > want.length && r() < 0.5) kernel.push(deleted);
    const save = procIpVsToSave(procTable(kernel, r), HZ);
    const fast = ipvsReadBackMatches(save, want, touched);
    const full = fullDiffAgrees(save, want, touched);
    if (fast) assert.ok(full, `seed ${seed}, edit ${edit}: a match the full diff refuses`);
    if (fast) matched++;
    if (!full) refused++;
  }
  // Not vacuous: most edits are real changes (all refused), and unchanged or reordered ones exist.
  assert.ok(refused > 2500, `refused ${refused}`);
  assert.ok(matched > 300, `matched ${matched}`);
  ran++;
});

test('what /proc/net/ip_vs does not show, or shows otherwise, goes to the full diff: scheduler flags, netmasks, thresholds, fwmark', () => {
  const base: LiveVirtualServer = { protocol: 'TCP', address: '10.96.0.1', port: 80, scheduler: 'rr', flags: [], timeout: 0, realServers: [{ address: '10.244.0.1', port: 80, weight: 1, method: 'masq' }] };
  const save = procIpVsToSave(procTable([base], rng(1)), HZ);
  assert.ok(ipvsReadBackMatches(save, [base], [base]));
  assert.not.ok(ipvsReadBackMatches(save, [{ ...base, flags: ['sh-port'] }], [base]));
  assert.not.ok(ipvsReadBackMatches(save, [{ ...base, netmask: '255.255.255.0' }], [base]));
  assert.not.ok(ipvsReadBackMatches(save, [{ ...base, realServers: [{ ...base.realServers[0]!, upperThreshold: 10 }] }], [base]));
  assert.not.ok(ipvsReadBackMatches(save, [{ ...base, fwmark: 7 }], [base]));
  // a service listed twice in the desired state, and an empty table
  assert.not.ok(ipvsReadBackMatches(save, [base, base], [base]));
  assert.not.ok(ipvsReadBackMatches('', [base], [base]));
  assert.ok(ipvsReadBackMatches('', [], []));
  // a service the steps deleted must be gone: touched, not desired
  assert.not.ok(ipvsReadBackMatches(save, [], [base]));
  assert.ok(ipvsReadBackMatches('', [], [base]));
  ran++;
});

test('text in any other form is not trusted: options before -s, non-canonical addresses, a real server away from its service, other lines', () => {
  const want: LiveVirtualServer = { protocol: 'TCP', address: '10.96.0.1', port: 80, scheduler: 'rr', flags: [], timeout: 0, realServers: [{ address: '10.244.0.1', port: 80, weight: 1, method: 'masq' }] };
  const gone: LiveVirtualServer = { ...want, address: '10.96.0.9', realServers: [] };
  const mine = '-A -t 10.96.0.1:80 -s rr\n-a -t 10.96.0.1:80 -r 10.244.0.1:80 -m -w 1\n';
  const other = '-A -u 10.96.0.2:53 -s rr\n-a -u 10.96.0.2:53 -r 10.244.0.2:53 -m -w 1\n';
  assert.ok(ipvsReadBackMatches(mine + other, [want], [want, gone]));
  assert.ok(ipvsReadBackMatches(other + mine, [want], [want, gone]));
  // the deleted service, still there, written in ways that do not name it as refOf does
  for (const still of ['-A -t 10.96.0.9:80 -p 60 -s rr\n', '-A -t 10.96.0.9:080 -s rr\n', '-A --tcp-service 10.96.0.9:80 -s rr\n', '-A -t 010.96.0.9:80 -s rr\n', '-A -t [::ffff:10.96.0.9]:80 -s rr\n']) {
    assert.not.ok(ipvsReadBackMatches(mine + still, [want], [want, gone]), still);
  }
  // a real server of mine listed under another service; lines that are neither; no final newline
  assert.not.ok(ipvsReadBackMatches('-A -t 10.96.0.1:80 -s rr\n' + other + '-a -t 10.96.0.1:80 -r 10.244.0.1:80 -m -w 1\n', [{ ...want, realServers: [] }], [want]));
  assert.not.ok(ipvsReadBackMatches('--set 0 0 0\n' + mine, [want], [want]));
  assert.not.ok(ipvsReadBackMatches(mine + '\n' + other, [want], [want]));
  assert.not.ok(ipvsReadBackMatches(mine + other.trimEnd(), [want], [want]));
  assert.not.ok(ipvsReadBackMatches(mine.trimEnd(), [want], [want]));
  ran++;
});

test('the captured kernel table (Debian 12, kernel 6.1, HZ 250) matches the services its capture loaded', () => {
  // test/vm/capture-fixtures.sh loaded these (the mh services, with mh-port, left out: /proc hides flags)
  const loaded = parseIpvsadmSave([
    '-A -t 10.20.30.41:80 -s rr',
    '-a -t 10.20.30.41:80 -r 10.180.0.1:80 -m -w 1',
    '-a -t 10.20.30.41:80 -r 10.180.0.2:8080 -m -w 0',
    '-A -u 10.96.0.10:53 -s rr -p 10800',
    '-a -u 10.96.0.10:53 -r 10.180.0.1:53 -m -w 1',
    '-a -u 10.96.0.10:53 -r 10.180.0.2:53 -m -w 1',
  ].join('\n') + '\n');
  const save = procIpVsToSave(read(join(TOOL_OUTPUT, 'ipvsadm', 'proc-net-ip_vs.txt')), HZ);
  assert.ok(fullDiffAgrees(save, loaded));
  assert.ok(ipvsReadBackMatches(save, loaded, loaded));
  assert.not.ok(ipvsReadBackMatches(save, [{ ...loaded[0]!, scheduler: 'wrr' }], loaded));
  ran++;
});

test('ran every case', () => assert.is(ran, 5));
test.run();
