import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { parseIpAddrJson, parseIpAddrOneline } from '../../../src/state/parse-ip-addr.js';
import { StateParseError } from '../../../src/state/types.js';
import { fixtures, read, stdoutOf, TOOL_OUTPUT } from './_fixtures.js';

const DIR = join(TOOL_OUTPUT, 'ip');

test('ip -o addr (VM capture): all interfaces; JSON form gives the same', () => {
  const [one] = fixtures(DIR, /^addr-all-oneline\.txt$/);
  const [json] = fixtures(DIR, /^addr-all-json\.txt$/);
  const a = parseIpAddrOneline(stdoutOf(read(one!)));
  assert.equal(parseIpAddrJson(stdoutOf(read(json!))), a);
  assert.is(a.length, 16);
  assert.equal(a[0], { iface: 'lo', ip: '127.0.0.1', prefix: 8, family: 'IPv4', scope: 'host' });
  assert.equal(a.filter((x) => x.iface === 'kube-ipvs0').map((x) => `${x.ip}/${x.prefix}`),
    ['10.20.30.41/32', '10.20.30.42/32', '10.20.30.43/32', '10.96.0.10/32', '1.2.3.4/32', '2001:db8::1:1/128', '2020::1/128']);
  assert.equal(a.find((x) => x.iface === 'vh' && x.family === 'IPv6'), { iface: 'vh', ip: '1002:ab8::2:1', prefix: 112, family: 'IPv6', scope: 'global' });
});

test('ip -o addr show dev kube-ipvs0 (VM capture) and its JSON form', () => {
  const [one] = fixtures(DIR, /^addr-kube-ipvs0-oneline\.txt$/);
  const a = parseIpAddrOneline(stdoutOf(read(one!)));
  assert.is(a.length, 7);
  assert.ok(a.every((x) => x.iface === 'kube-ipvs0' && x.scope === 'global'));
  assert.equal(parseIpAddrJson(stdoutOf(read(join(DIR, 'addr-kube-ipvs0-json.txt')))), a);
});

test('inline: peer, @suffix, upper-case IPv6, empty output, errors', () => {
  const a = parseIpAddrOneline([
    '7: wg0    inet 10.9.0.1 peer 10.9.0.2/32 scope global wg0\\       valid_lft forever preferred_lft forever',
    '8: veth1@if3    inet6 FD00:0:0::1/64 scope global \\       valid_lft forever preferred_lft forever',
    '',
  ].join('\n'));
  assert.equal(a, [
    { iface: 'wg0', ip: '10.9.0.1', prefix: 32, family: 'IPv4', scope: 'global' },
    { iface: 'veth1', ip: 'fd00::1', prefix: 64, family: 'IPv6', scope: 'global' },
  ]);
  assert.equal(parseIpAddrOneline(''), []);
  assert.equal(parseIpAddrJson(''), []);
  assert.equal(parseIpAddrJson('[{"ifname":"x","addr_info":[]}]'), []);
  assert.throws(() => parseIpAddrOneline('garbage here\n'), (e: unknown) => e instanceof StateParseError && e.line === 1);
  assert.throws(() => parseIpAddrOneline('1: lo    inet 300.1.1.1/8 scope host lo\n'), (e: unknown) => e instanceof StateParseError);
  assert.throws(() => parseIpAddrJson('{not json'), (e: unknown) => e instanceof StateParseError);
});

test.run();
