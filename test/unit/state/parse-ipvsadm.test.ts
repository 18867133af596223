import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { connKey, parseIpvsadmList, parseIpvsadmSave, parseIpvsadmStats, parseIpvsTimeouts } from '../../../src/state/parse-ipvsadm.js';
import { StateParseError, rsKey, vsKey } from '../../../src/state/types.js';
import type { LiveVirtualServer } from '../../../src/state/types.js';
import { fixtures, goldenFiles, read, stdoutOf, TOOL_OUTPUT } from './_fixtures.js';

const DIR = join(TOOL_OUTPUT, 'ipvsadm');
const fx = (name: string): string => {
  const [f] = fixtures(DIR, new RegExp(`^${name.replace(/[.]/g, '\\.')}$`));
  return stdoutOf(read(f!));
};
const find = (vss: LiveVirtualServer[], key: string): LiveVirtualServer => {
  const v = vss.find((x) => vsKey(x) === key);
  assert.ok(v, `no ${key} in ${vss.map(vsKey).join(' ')}`);
  return v;
};
/** The services without the list-only counters. */
const withoutCounts = (vss: LiveVirtualServer[]): LiveVirtualServer[] =>
  vss.map((v) => ({ ...v, realServers: v.realServers.map(({ activeConns: _a, inactiveConns: _i, ...r }) => r) }));

test('ipvsadm -Sn (VM capture) parses; equals the restore input it came from', () => {
  const save = parseIpvsadmSave(fx('save-Sn.txt'));
  assert.is(save.length, 10);
  const input = parseIpvsadmSave(fx('restore-input.txt')); // has a --set line, skipped
  assert.equal(save, input);
  const vs = find(save, 'TCP/10.20.30.41:80');
  assert.equal(vs.realServers, [
    { address: '10.180.0.1', port: 80, weight: 1, method: 'masq' },
    { address: '10.180.0.2', port: 8080, weight: 0, method: 'masq' },
  ]);
  assert.equal(find(save, 'SCTP/10.20.30.41:80').flags, ['mh-port']);
  assert.equal(find(save, 'SCTP/[2001:db8::1:1]:3001').realServers, []);
  assert.is(find(save, 'TCP/192.168.0.10:30080').timeout, 60);
  assert.is(find(save, 'TCP/192.168.0.10:30080').scheduler, 'wrr');
  assert.is(find(save, 'UDP/[2020::1]:53').timeout, 10800);
  assert.equal(find(save, 'TCP/[2020::1]:80').realServers.map(rsKey), ['[1002:ab8::2:10]:80', '[1002:ab8::2:11]:80']);
  // artifact order: address (1.2.3.4 < 10.20.30.41 < … < IPv6), then port, then protocol
  assert.equal(save.map(vsKey).slice(0, 4), ['TCP/1.2.3.4:80', 'TCP/10.20.30.41:80', 'SCTP/10.20.30.41:80', 'TCP/10.20.30.42:443']);
});

test('ipvsadm -S without -n (service names) is refused', () => {
  assert.throws(() => parseIpvsadmSave(fx('save-S.txt')), (e: unknown) => e instanceof StateParseError && e.line === 2);
});

test('every golden ipvsadm.restore parses (same parser reads ipvsc artifacts)', () => {
  const cases = goldenFiles('ipvsadm.restore');
  for (const c of cases) {
    const text = read(c.path);
    const vss = parseIpvsadmSave(text);
    assert.is(vss.length, text.split('\n').filter((l) => l.startsWith('-A ')).length, c.name);
    assert.is(vss.reduce((n, v) => n + v.realServers.length, 0), text.split('\n').filter((l) => l.startsWith('-a ')).length, c.name);
  }
});

test('save: inline spellings (flag-2, fwmark, -M, thresholds, -g/-i, --pe, -o)', () => {
  const vss = parseIpvsadmSave([
    '-A -t 10.0.0.3:80 -s mh -b flag-2',
    '-A -t 10.0.0.2:80 -s sh -b sh-port,sh-fallback',
    '-A -t 10.0.0.1:80 -s rr -p 300 -M 255.255.255.0 --pe sip -o',
    '-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 3 -x 100 -y 50',
    '-a -t 10.0.0.1:80 -r 10.1.0.2:80 -i -w 2 --tun-type gue --tun-port 6080',
    '-a -t 10.0.0.1:80 -r 10.1.0.3:80',
    '-A -f 7 -s wlc',
    '-a -f 7 -r 10.1.0.9:0 -m -w 1',
    '-A -f 8 -6 -s rr',
    '-A -u [2001:DB8:0::1]:53 -s rr',
    '',
  ].join('\n'));
  assert.equal(find(vss, 'TCP/10.0.0.3:80').flags, ['mh-port']);
  assert.equal(find(vss, 'TCP/10.0.0.2:80').flags, ['sh-fallback', 'sh-port']);
  const p = find(vss, 'TCP/10.0.0.1:80');
  assert.is(p.timeout, 300);
  assert.is(p.netmask, '255.255.255.0');
  assert.equal(p.flags, ['ops', 'pe:sip']);
  assert.equal(p.realServers, [
    { address: '10.1.0.1', port: 80, weight: 3, method: 'route', upperThreshold: 100, lowerThreshold: 50 },
    { address: '10.1.0.2', port: 80, weight: 2, method: 'tunnel' },
    { address: '10.1.0.3', port: 80, weight: 1, method: 'route' },
  ]);
  assert.is(find(vss, 'FWM/7').realServers.length, 1);
  assert.is(find(vss, 'FWM6/8').address, '::');
  find(vss, 'UDP/[2001:db8::1]:53');
  assert.equal(vss.map(vsKey).slice(-2), ['FWM/7', 'FWM6/8']);
});

test('save: errors carry the line number', () => {
  for (const [text, line] of [
    ['-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.9:80 -r 10.1.0.1:80 -m -w 1\n', 2],
    ['-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.1:80 -s rr\n', 2],
    ['-A -t 10.0.0.1 -s rr\n', 1],
    ['-A -t 10.0.0.1:80 -s rr --bogus\n', 1],
    ['-A -t 10.0.0.1:80\n', 1],
  ] as const) {
    assert.throws(() => parseIpvsadmSave(text), (e: unknown) => e instanceof StateParseError && e.line === line, text);
  }
});

test('ipvsadm -Ln (VM capture): connection counters per VS/RS; same services as -Sn', () => {
  const list = parseIpvsadmList(fx('list-Ln.txt'));
  assert.equal(withoutCounts(list.services), parseIpvsadmSave(fx('save-Sn.txt')));
  assert.equal(list.conns.get('TCP/10.20.30.41:80 -> 10.180.0.1:80'), { active: 3, inactive: 1 });
  assert.equal(list.conns.get('TCP/10.20.30.41:80 -> 10.180.0.2:8080'), { active: 0, inactive: 0 });
  assert.equal(list.conns.get('UDP/10.96.0.10:53 -> 10.180.0.2:53'), { active: 0, inactive: 1 });
  assert.equal(list.conns.get('TCP/[2020::1]:80 -> [1002:ab8::2:11]:80'), { active: 0, inactive: 0 });
  assert.is(list.conns.size, 11);
  const vs = find(list.services, 'TCP/10.20.30.41:80');
  assert.is(vs.realServers[0]!.activeConns, 3);
  assert.is(connKey(vs, vs.realServers[1]!), 'TCP/10.20.30.41:80 -> 10.180.0.2:8080');
});

test('ipvsadm -Ln one service / sctp mh / IPv6 / --persistent-conn (VM captures)', () => {
  const one = parseIpvsadmList(fx('list-Ln-one-service.txt'));
  assert.equal(one.services.map(vsKey), ['TCP/10.20.30.41:80']);
  assert.equal(one.conns.get('TCP/10.20.30.41:80 -> 10.180.0.1:80'), { active: 3, inactive: 1 });
  assert.equal(parseIpvsadmList(fx('list-Ln-one-service-v6.txt')).services[0]!.realServers.length, 2);
  assert.equal(parseIpvsadmList(fx('list-Ln-sctp-mh.txt')).services[0]!.flags, ['mh-port']);
  const pc = parseIpvsadmList(fx('list-Ln-persistent-conn.txt'));
  assert.equal(pc.conns.get('UDP/10.96.0.10:53 -> 10.180.0.2:53'), { active: 0, inactive: 1, persistent: 1 });
  assert.equal(pc.conns.get('TCP/10.20.30.41:80 -> 10.180.0.1:80'), { active: 3, inactive: 1, persistent: 0 });
  assert.throws(() => parseIpvsadmList(fx('list-L.txt')), (e: unknown) => e instanceof StateParseError);
  assert.throws(() => parseIpvsadmList(fx('list-Ln-stats.txt')), /parseIpvsadmStats/);
});

test('ipvsadm -Ln: inline list with flags, mask, Route/Tunnel/Local, FWM', () => {
  const l = parseIpvsadmList([
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  10.0.0.1:80 sh (flag-1,flag-2) persistent 60 mask 255.255.0.0',
    '  -> 10.1.0.1:80                  Route   1      5          6',
    '  -> 10.1.0.2:80                  Tunnel  2      0          0',
    '  -> 10.1.0.3:80                  Local   1      0          0',
    'FWM  3 rr',
    '  -> 10.1.0.4:0                   Masq    1      1          0',
  ].join('\n'));
  const v = find(l.services, 'TCP/10.0.0.1:80');
  assert.equal(v.flags, ['sh-fallback', 'sh-port']);
  assert.is(v.netmask, '255.255.0.0');
  assert.equal(v.realServers.map((r) => r.method), ['route', 'tunnel', 'route']);
  assert.equal(l.conns.get('FWM/3 -> 10.1.0.4:0'), { active: 1, inactive: 0 });
});

test('ipvsadm -Ln read in place: every golden ipvsadm.restore printed as -Ln lists the same services', () => {
  // -Ln's layout (ipvsadm.c list_service/list_dest): `PROT ADDR:PORT SCHED [persistent T]`, then
  // `  -> ADDR:PORT` padded to 28, Forward, Weight, ActiveConn, InActConn.
  const SW: Record<string, string> = { '-t': 'TCP ', '-u': 'UDP ', '--sctp-service': 'SCTP' };
  let n = 0;
  for (const c of goldenFiles('ipvsadm.restore')) {
    const save = parseIpvsadmSave(read(c.path));
    const lines = ['IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
    for (const l of read(c.path).split('\n')) {
      const t = l.split(' ');
      const at = (flag: string): string | undefined => (t.includes(flag) ? t[t.indexOf(flag) + 1] : undefined);
      if (t[0] === '-A') lines.push(`${SW[t[1]!]} ${t[2]} ${at('-s')}${at('-b') ? ` (${at('-b')})` : ''}${at('-p') ? ` persistent ${at('-p')}` : ''}`);
      if (t[0] === '-a') lines.push(`  -> ${at('-r')!.padEnd(28)} Masq    ${at('-w')!.padEnd(6)} ${n % 3}          ${n++ % 2}         `);
    }
    const list = parseIpvsadmList(lines.join('\n') + '\n');
    const noCounters = (vs: readonly LiveVirtualServer[]): unknown => vs.map((v) => ({ ...v, realServers: v.realServers.map(({ activeConns: _a, inactiveConns: _i, ...r }) => r) }));
    assert.equal(noCounters(list.services), noCounters(save), c.name);
    for (const v of list.services) for (const r of v.realServers) assert.equal(list.conns.get(connKey(v, r)), { active: r.activeConns, inactive: r.inactiveConns });
  }
  assert.ok(n > 20, `only ${n} real servers`);
});

test('ipvsadm -Ln: errors carry the line number', () => {
  const head = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  10.0.0.1:80 rr\n';
  for (const [bad, why] of [
    ['  -> 10.1.0.1:80   Masq   1   x   0', /bad counters/],
    ['  -> 10.1.0.1:80   Masq   1   0', /bad counters/],
    ['  -> 10.1.0.1:80   Bounce 1   0   0', /forwarding method/],
    ['  -> 10.1.0.1:80   toString 1   0   0', /forwarding method/],
    ['  -> web-1:http   Masq   1   0   0', /numeric output/],
  ] as const) {
    assert.throws(() => parseIpvsadmList(head + bad + '\n'), (e: unknown) => e instanceof StateParseError && e.line === 5 && why.test(e.message), bad);
  }
  assert.throws(() => parseIpvsadmList('  -> 10.1.0.1:80   Masq   1   0   0\n'), (e: unknown) => e instanceof StateParseError && e.line === 1 && /before any service/.test(e.message));
});

test('ipvsadm -Ln --stats / --stats --exact / --rate (VM captures)', () => {
  for (const f of ['list-Ln-stats.txt', 'list-Ln-exact-stats.txt']) {
    const s = parseIpvsadmStats(fx(f));
    assert.equal(s.get('TCP/10.20.30.41:80'), { conns: 4, inPkts: 13, outPkts: 9, inBytes: 714, outBytes: 500 });
    assert.equal(s.get('UDP/10.96.0.10:53 -> 10.180.0.2:53'), { conns: 1, inPkts: 1, outPkts: 0, inBytes: 29, outBytes: 0 });
    assert.is(s.size, 10 + 11);
  }
  assert.is(parseIpvsadmStats(fx('list-Ln-rate.txt')).get('TCP/10.20.30.41:80')!.inBytes, 50);
  const big = parseIpvsadmStats('TCP  10.0.0.1:80   123K   4M   0   12G   7\n');
  assert.equal(big.get('TCP/10.0.0.1:80'), { conns: 123000, inPkts: 4e6, outPkts: 0, inBytes: 12e9, outBytes: 7 });
});

test('ipvsadm -L --timeout', () => {
  assert.equal(parseIpvsTimeouts(fx('list-Ln-timeout.txt')), { tcp: 900, tcpfin: 120, udp: 300 });
  assert.equal(parseIpvsTimeouts('Timeout (tcp tcpfin udp): 7200 15 30\n'), { tcp: 7200, tcpfin: 15, udp: 30 });
  assert.throws(() => parseIpvsTimeouts('nonsense\n'), (e: unknown) => e instanceof StateParseError);
  assert.throws(() => parseIpvsTimeouts(''), (e: unknown) => e instanceof StateParseError);
});

test.run();
