/**
 * The parsers' fast paths (src/state/scan.ts and the in-place line readers) agree exactly with the
 * slow spellings they replace: parseIp, `trim().split(/\s+/)`, Number, and each parser's general
 * line path (reached here by spelling the same lines with doubled blanks).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { parseIp } from '../../../src/model/net.js';
import { addressSortKey, canonicalV4, ipv4Key, isCanonicalV4, isCanonicalV6, splitWs, uintAt, wsBounds } from '../../../src/state/scan.js';
import { parseIpvsadmSave } from '../../../src/state/parse-ipvsadm.js';
import { compareIpsetEntries, parseIpsetSave } from '../../../src/state/parse-ipset.js';
import { parseIpAddrOneline } from '../../../src/state/parse-ip-addr.js';

const params = { seed: 20261123, numRuns: 2000 };
const pick = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
/** Address-like text: pieces that make valid, non-canonical and invalid addresses. */
const ipish = fc.array(pick(['0', '1', '9', '10', '255', '256', '01', '.', '.', ':', ':', '::', 'a', 'F', 'ffff', '0000', '1.2.3.4', 'g', '/', ' ']), { maxLength: 12 }).map((p) => p.join(''));
const v6groups = fc.array(fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });

test('isCanonicalV4 / canonicalV4 / isCanonicalV6: exactly the texts parseIp gives back unchanged, with the same key', () => {
  const check = (s: string): void => {
    const ip = parseIp(s);
    const v4 = canonicalV4(s);
    assert.is(v4 >= 0, ip?.family === 'IPv4' && ip.text === s, s);
    assert.is(isCanonicalV4(s), v4 >= 0, s);
    if (v4 >= 0) assert.is(ipv4Key(v4), ip!.key, s);
    const v6 = isCanonicalV6(s);
    assert.is(v6, ip?.family === 'IPv6' && ip.text === s && !s.includes('.'), s);
    keys.push([s, ip?.key ?? null, addressSortKey(s)]);
  };
  const keys: [string, string | null, string | null][] = [];
  fc.assert(fc.property(ipish, (s) => check(s)), params);
  fc.assert(fc.property(v6groups, fc.nat(8), fc.nat(8), (g, a, len) => {
    const hex = g.map((x) => x.toString(16));
    check(hex.join(':'));
    check(parseIp(hex.join(':'))!.text);
    const b = Math.min(8, a + len);
    check(`${hex.slice(0, a).join(':')}::${hex.slice(b).join(':')}`);
    check(`::ffff:${hex.slice(6).join(':')}`);
  }), params);
  for (const s of ['::', '::1', '1::', '1:0:0:1::', '1::0:1', '0:0:1::', '::ffff:1.2.3.4', '::ffff:102:304', '1.2.3.4', '0.0.0.0', '1.2.3.04', '128.0.0.1', '255.255.255.255', 'FFFF::1', 'ffff::1']) check(s);
  // addressSortKey: an address or not as parseIp says, and ordered as parseIp's keys are
  const sign = (x: number): number => Math.sign(x);
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  for (const [s, k, sk] of keys) assert.is(sk === null, k === null, s);
  const addrs = keys.filter(([, k]) => k !== null).filter((_, i) => i % 7 === 0).slice(0, 400);
  assert.ok(addrs.some(([, k]) => k!.startsWith('4')) && addrs.some(([, k]) => k!.startsWith('6')));
  for (const [a, ka, sa] of addrs) for (const [b, kb, sb] of addrs) assert.is(sign(cmp(sa!, sb!)), sign(cmp(ka!, kb!)), `${a} ${b}`);
});

test('splitWs / wsBounds: trim().split(/\\s+/) without a regex; uintAt: Number of digit runs', () => {
  const text = fc.array(pick(['a', '-t', '1', ' ', '  ', '\t', '\r', '\u00a0', '\u2028', '\ufeff', 'x\u3000y', '"']), { maxLength: 10 }).map((p) => p.join(''));
  fc.assert(fc.property(text, (s) => {
    const want = s.trim() === '' ? [] : s.trim().split(/\s+/);
    const out: string[] = ['stale'];
    assert.is(splitWs(s, out), want.length);
    assert.equal(out, want);
    const ts: number[] = [];
    const te: number[] = [];
    const n = wsBounds(`#${s}#`, 1, s.length + 1, ts, te);
    assert.equal(ts.slice(0, n).map((from, k) => `#${s}#`.slice(from, te[k])), want);
  }), params);
  fc.assert(fc.property(fc.stringMatching(/^[0-9a]{0,20}$/), (s) => {
    assert.is(uintAt(`x${s}x`, 1, s.length + 1), /^\d+$/.test(s) ? Number(s) : -1, s);
  }), params);
});

/** The same text with every blank doubled: each parser then reads it on its general path. */
const doubled = (text: string): string => text.replace(/ /g, '  ');

test('ipvsadm -S fast path (`-a` lines of the last -A) = general path', () => {
  const text = [
    '-A -t 10.0.0.1:80 -s rr -p 300',
    '-a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 1',
    '-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 0',
    '-a -t 10.0.0.1:80 -r 10.1.0.3:80 -g -w 2 -x 5',
    '-a -t 10.0.0.1:80 -r 10.1.0.4:80 -m -w 01',
    '-A -u [2001:db8::1]:53 -s rr',
    '-a -u [2001:db8::1]:53 -r [fd00::2]:53 -m -w 1',
    '-a -u [2001:db8::1]:53 -r [FD00:0::1]:53 -m -w 1',
    '-a -u [2001:db8::1]:53 -r [::ffff:1.2.3.4]:53 -m -w 1',
    '-A --sctp-service 10.0.0.1:80 -s mh -b flag-2',
    '-a --sctp-service 10.0.0.1:80 -r 10.1.0.1:80 -m -w 1',
    '-a -t 10.0.0.1:80 -r 10.1.0.5:80 -m -w 3',
    '',
  ].join('\n');
  const vss = parseIpvsadmSave(text);
  assert.equal(vss, parseIpvsadmSave(doubled(text)));
  assert.equal(vss.find((v) => v.protocol === 'UDP')!.realServers.map((r) => r.address), ['1.2.3.4', 'fd00::1', 'fd00::2']);
  assert.equal(vss.find((v) => v.protocol === 'TCP')!.realServers.map((r) => `${r.address}:${r.port}/${r.weight}/${r.method}`),
    ['10.1.0.1:8080/0/masq', '10.1.0.2:80/1/masq', '10.1.0.3:80/2/route', '10.1.0.4:80/1/masq', '10.1.0.5:80/3/masq']);
});

test('ipset save fast path (canonical add lines of the last create) = general path, in any order', () => {
  const lines = [
    'create S hash:ip,port,net family inet hashsize 1024 maxelem 65536',
    'add S 1.2.3.4,tcp:80,10.0.0.0/8',
    'add S 1.2.3.4,tcp:80,10.1.0.0/8',
    'add S 1.2.3.4,udp:080,0.0.0.0/0',
    'add S 1.2.3.4,sctp:80,192.168.1.1',
    'create L hash:ip,port,ip family inet6 hashsize 1024 maxelem 65536',
    'add L 2001:db8::1,tcp:80,2001:db8::1',
    'add L 2001:DB8::2,tcp:80,2001:db8::2',
    'add L ::ffff:1.2.3.4,udp:53,1.2.3.4',
    'create P bitmap:port range 0-65535',
    'add P 30080',
    'add P 030081',
    'add P 30080',
  ];
  const sets = parseIpsetSave(lines.join('\n'));
  assert.equal(sets, parseIpsetSave(doubled(lines.join('\n'))));
  assert.equal(sets.map((s) => s.entries), [
    ['1.2.3.4,tcp:80,10.0.0.0/8', '1.2.3.4,udp:80,0.0.0.0/0', '1.2.3.4,sctp:80,192.168.1.1/32'],
    ['::ffff:1.2.3.4,udp:53,1.2.3.4', '2001:db8::1,tcp:80,2001:db8::1', '2001:db8::2,tcp:80,2001:db8::2'],
    ['30080', '30081'],
  ]);
});

test('ipset save: entries sorted by numbers = deduplicated and sorted by compareIpsetEntries', () => {
  const v4 = fc.tuple(fc.nat(3), fc.nat(2), fc.nat(255)).map(([a, b, c]) => `10.${a}.${b}.${c}`);
  const port = fc.tuple(pick(['tcp', 'udp', 'sctp']), pick([0, 1, 53, 80, 443, 8080, 65535])).map(([p, n]) => `${p}:${n}`);
  const net = fc.tuple(v4, pick([8, 16, 24, 32])).map(([ip, p]) => `${ip}/${p}`);
  const shapes = [
    ['hash:ip', fc.array(v4, { maxLength: 40 })],
    ['hash:ip,port', fc.array(fc.tuple(v4, port).map((x) => x.join(',')), { maxLength: 40 })],
    ['hash:ip,port,ip', fc.array(fc.tuple(v4, port, v4).map((x) => x.join(',')), { maxLength: 40 })],
    ['hash:ip,port,net', fc.array(fc.tuple(v4, port, net).map((x) => x.join(',')), { maxLength: 40 })],
    ['bitmap:port', fc.array(fc.nat(65535).map(String), { maxLength: 40 })],
  ] as const;
  for (const [type, entries] of shapes) {
    fc.assert(fc.property(entries, (es) => {
      const [set] = parseIpsetSave([`create S ${type}`, ...es.map((e) => `add S ${e}`)].join('\n'));
      const canonical = parseIpsetSave([`create S ${type}`, ...es.map((e) => `add  S  ${e}`)].join('\n'))[0]!.entries;
      assert.equal(set!.entries, [...new Set(canonical)].sort(compareIpsetEntries), type);
    }), { ...params, numRuns: 300 });
  }
});

test('ip -o addr: backslash continuation markers anywhere, as split(/\\s+/) reads them', () => {
  const a = parseIpAddrOneline('5: kube-ipvs0    inet 10.0.0.1/32 scope global kube-ipvs0\\       valid_lft forever\n5: kube-ipvs0    inet6 2020::1/128 scope\\\n');
  assert.equal(a.map((x) => [x.ip, x.scope]), [['10.0.0.1', 'global'], ['2020::1', '']]);
  assert.throws(() => parseIpAddrOneline('\\5: lo    inet 127.0.0.1/8\n'));
});

test.run();
