import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { canonicalIpsetEntry, compareIpsetEntries, isOneKernelElement, parseIpsetSave } from '../../../src/state/parse-ipset.js';
import { StateParseError } from '../../../src/state/types.js';
import type { LiveIpSet } from '../../../src/state/types.js';
import { OWNED_SET_NAMES } from '../../../src/model/names.js';
import { errorRecordInput, fixtures, goldenFiles, read, stdoutOf, TOOL_ERRORS, TOOL_OUTPUT } from './_fixtures.js';

const DIR = join(TOOL_OUTPUT, 'ipset');
const withoutOptions = (sets: LiveIpSet[]): Omit<LiveIpSet, 'options'>[] => sets.map(({ options: _o, ...s }) => s);

test('ipset save (VM + host captures) equals the restore input it came from, modulo create options', () => {
  const input = parseIpsetSave(errorRecordInput(fixtures(join(TOOL_ERRORS, 'ipset'), /^restore-ok\.txt$/)[0]!));
  assert.is(input.length, 34);
  const saves = fixtures(DIR, /^(host-)?save\.txt$/);
  assert.is(saves.length, 2);
  for (const f of saves) {
    const sets = parseIpsetSave(stdoutOf(read(f)));
    assert.equal(withoutOptions(sets), withoutOptions(input), f);
    for (const s of sets) {
      assert.ok(OWNED_SET_NAMES.has(s.name), s.name);
      if (s.type === 'bitmap:port') {
        assert.is(s.family, undefined);
        assert.is(s.options, 'range 0-65535');
      } else assert.match(s.options, /^family inet6? hashsize 1024 maxelem 65536 bucketsize 12 initval 0x[0-9a-f]{8}$/);
    }
  }
  const sets = parseIpsetSave(stdoutOf(read(join(DIR, 'save.txt'))));
  const get = (n: string): LiveIpSet => sets.find((s) => s.name === n)!;
  // kernel hash order (udp, sctp, tcp) → ipvsc order
  assert.equal(get('KUBE-CLUSTER-IP').entries, ['10.20.30.41,tcp:80', '10.20.30.41,sctp:80', '10.96.0.10,udp:53']);
  assert.equal(get('KUBE-IPVS-IPS').entries, ['1.2.3.4', '10.20.30.41', '10.96.0.10']);
  assert.equal(get('KUBE-6-CLUSTER-IP').family, 'IPv6');
  assert.equal(get('KUBE-6-LOAD-BALANCER-SOURCE-CID').entries, ['2001:db8::1,tcp:80,fd00::/8']);
});

test('ipset save of one set (VM capture)', () => {
  const [f] = fixtures(DIR, /^save-one-set\.txt$/);
  const sets = parseIpsetSave(stdoutOf(read(f!)));
  assert.equal(sets.map((s) => s.name), ['KUBE-LOAD-BALANCER-SOURCE-CIDR']);
  assert.equal(sets[0]!.entries, ['1.2.3.4,tcp:80,10.0.0.0/8', '1.2.3.4,tcp:80,192.168.7.0/24']);
});

test('every golden ipset.restore: parsed entries are exactly the add lines, in order (ipvsc writes canonical text)', () => {
  const cases = goldenFiles('ipset.restore');
  for (const c of cases) {
    const text = read(c.path);
    const sets = parseIpsetSave(text);
    const adds = new Map<string, string[]>();
    for (const l of text.split('\n')) {
      const m = /^add (\S+) (\S+)$/.exec(l);
      if (m) adds.set(m[1]!, [...(adds.get(m[1]!) ?? []), m[2]!]);
    }
    for (const s of sets) assert.equal(s.entries, adds.get(s.name) ?? [], `${c.name} ${s.name}`);
  }
});

/** Real output of this host's ipset v7.17 (captured in a throwaway netns) for awkward inputs. */
const HOST_ODDITIES = `create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x06691dec
add KUBE-6-CLUSTER-IP 2001:db8::1:1,sctp:3001
add KUBE-6-CLUSTER-IP 2001:db8::2,tcp:80
add KUBE-6-CLUSTER-IP ::ffff:1.2.3.4,udp:53
add KUBE-6-CLUSTER-IP 2001:db8::1,gre:0
add KUBE-6-CLUSTER-IP 2001:db8::1,udplite:5
add KUBE-6-CLUSTER-IP 2020::1,tcp:80
create KUBE-SC hash:ip,port,net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0xd8d47ac7
add KUBE-SC 1.2.3.4,tcp:80,10.0.0.0/8
add KUBE-SC 1.2.3.4,tcp:80,192.168.1.1
create KUBE-6-SC hash:ip,port,net family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1d196a74
add KUBE-6-SC 2001:db8::1,tcp:80,fd00::/8
add KUBE-6-SC 2001:db8::1,tcp:80,fd00::1
create KUBE-NP bitmap:port range 0-65535
add KUBE-NP 80
add KUBE-NP 30000
add KUBE-NP 30001
create C hash:ip family inet hashsize 1024 maxelem 65536 timeout 0 counters comment bucketsize 12 initval 0x59241058
add C 10.0.0.2 timeout 0 packets 0 bytes 0 comment "a b"
add C 10.0.0.3 nomatch
`;

test('ipset save: host-captured oddities (host nets without prefix, protocol names, counters/comments)', () => {
  const sets = parseIpsetSave(HOST_ODDITIES);
  const get = (n: string): LiveIpSet => sets.find((s) => s.name === n)!;
  assert.equal(get('KUBE-6-CLUSTER-IP').entries, [
    '::ffff:1.2.3.4,udp:53', '2001:db8::1,udplite:5', '2001:db8::1,gre:0', '2001:db8::1:1,sctp:3001', '2001:db8::2,tcp:80', '2020::1,tcp:80',
  ].sort(compareIpsetEntries));
  assert.equal(get('KUBE-SC').entries, ['1.2.3.4,tcp:80,10.0.0.0/8', '1.2.3.4,tcp:80,192.168.1.1/32']);
  assert.equal(get('KUBE-6-SC').entries, ['2001:db8::1,tcp:80,fd00::/8', '2001:db8::1,tcp:80,fd00::1/128']);
  assert.equal(get('KUBE-NP').entries, ['80', '30000', '30001']);
  assert.equal(get('C').entries, ['10.0.0.2', '10.0.0.3 nomatch']);
  assert.is(get('C').options, 'family inet hashsize 1024 maxelem 65536 timeout 0 counters comment bucketsize 12 initval 0x59241058');
});

test('canonicalIpsetEntry: the forms ipset accepts become what ipvsc writes', () => {
  assert.is(canonicalIpsetEntry('2020:0:0::0001,TCP:80', 'hash:ip,port', 'IPv6'), '2020::1,tcp:80');
  assert.is(canonicalIpsetEntry('1.2.3.4,132:81', 'hash:ip,port', 'IPv4'), '1.2.3.4,sctp:81');
  assert.is(canonicalIpsetEntry('1.2.3.4,17:53', 'hash:ip,port', 'IPv4'), '1.2.3.4,udp:53');
  assert.is(canonicalIpsetEntry('1.2.3.4,80', 'hash:ip,port', 'IPv4'), '1.2.3.4,tcp:80');
  assert.is(canonicalIpsetEntry('1.2.3.4,tcp:80,10.1.2.3/8', 'hash:ip,port,net', 'IPv4'), '1.2.3.4,tcp:80,10.0.0.0/8');
  assert.is(canonicalIpsetEntry('1.2.3.4,tcp:80,1.2.3.4', 'hash:ip,port,ip', 'IPv4'), '1.2.3.4,tcp:80,1.2.3.4');
  assert.is(canonicalIpsetEntry('030080', 'bitmap:port'), '30080');
  assert.is(canonicalIpsetEntry('1.2.3', 'hash:ip', 'IPv4'), null);
  assert.is(canonicalIpsetEntry('1.2.3.4', 'hash:ip,port', 'IPv4'), null);
});

test('ipset save: errors carry the line number', () => {
  for (const [text, line] of [
    ['add X 1.2.3.4\n', 1],
    ['create X hash:ip family inet\nadd X 1.2.3\n', 2],
    ['create X hash:ip family inet\nflush X\n', 2],
    ['create X hash:ip family inet\ncreate X hash:ip family inet\n', 2],
    ['create X hash:ip family inet\nadd X 1.2.3.4 bogus\n', 2],
  ] as const) {
    assert.throws(() => parseIpsetSave(text), (e: unknown) => e instanceof StateParseError && e.line === line, text);
  }
});

test('isOneKernelElement: what apply may verify by entry count (one element, printed back as written)', () => {
  const yes: [string, string, 'IPv4' | 'IPv6' | undefined][] = [
    ['10.96.0.1', 'hash:ip', 'IPv4'],
    ['10.96.0.1,tcp:80', 'hash:ip,port', 'IPv4'],
    ['fd00::1,udp:53', 'hash:ip,port', 'IPv6'],
    ['10.244.1.5,sctp:8080,10.244.1.5', 'hash:ip,port,ip', 'IPv4'],
    ['203.0.113.7,tcp:443,192.0.2.0/24', 'hash:ip,port,net', 'IPv4'],
    ['30080', 'bitmap:port', undefined],
  ];
  for (const [e, type, fam] of yes) assert.ok(isOneKernelElement(e, type, fam), `${e} (${type})`);
  const no: [string, string, 'IPv4' | 'IPv6' | undefined, string][] = [
    ['10.0.0.1/32', 'hash:ip', 'IPv4', 'a prefix in an ip field (ipset prints 10.0.0.1)'],
    ['10.0.0.0/30,tcp:80', 'hash:ip,port', 'IPv4', 'a CIDR in an ip field adds 4 elements'],
    ['::ffff:1.2.3.4', 'hash:ip', 'IPv6', 'IPv4-mapped text prints otherwise'],
    ['0::1', 'hash:ip', 'IPv6', 'not canonical'],
    ['10.0.0.1', 'hash:ip', 'IPv6', 'another family'],
    ['10.0.0.1,tcp:80-81', 'hash:ip,port', 'IPv4', 'a port range adds 2 elements'],
    ['10.0.0.1,80', 'hash:ip,port', 'IPv4', 'no protocol (printed as tcp:80)'],
    ['10.0.0.1,tcp:080', 'hash:ip,port', 'IPv4', 'a leading zero'],
    ['10.0.0.1,tcp:80,10.1.2.3/32', 'hash:ip,port,net', 'IPv4', 'a host net (printed without /32)'],
    ['10.0.0.1,tcp:80,10.1.2.3/8', 'hash:ip,port,net', 'IPv4', 'an unmasked CIDR'],
    ['30000-30002', 'bitmap:port', undefined, 'a range'],
    ['10.0.0.1', 'hash:ip', undefined, 'a hash set without a family'],
  ];
  for (const [e, type, fam, why] of no) assert.not.ok(isOneKernelElement(e, type, fam), `${e} (${type}): ${why}`);
  // Every entry ipvsc's compile wrote in the golden cases passes, host source ranges aside.
  let n = 0;
  for (const f of goldenFiles('ipset.restore')) {
    for (const set of parseIpsetSave(read(f.path))) {
      for (const e of set.entries) {
        n++;
        const hostNet = set.type === 'hash:ip,port,net' && /\/(32|128)$/.test(e);
        assert.is(isOneKernelElement(e, set.type, set.family), !hostNet, `${f.name}: ${set.name} ${e}`);
      }
    }
  }
  assert.ok(n > 100, `${n} entries`);
});

test.run();
