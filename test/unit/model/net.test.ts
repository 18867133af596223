/** parseIp against an independent statement of Go's IPv4 rules, and key order = numeric order. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { compareKeys, parseIp } from '../../../src/model/net.js';

// The oracle: Go ≥ 1.17 net.ParseIP for dotted quads: exactly four decimal parts of 1-3 digits,
// each ≤ 255, no leading zero.
const goAcceptsV4 = (s: string): boolean => {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
};

test('dotted quads: accepted exactly when Go accepts them', () => {
  fc.assert(fc.property(fc.stringMatching(/^[0-9.]{0,17}$/), (s) => {
    assert.is(parseIp(s) !== null, goAcceptsV4(s), JSON.stringify(s));
  }), { seed: 20261123, numRuns: 20000 });
});

test('dotted quads: canonical text, family and numeric key', () => {
  fc.assert(fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), (a, b) => {
    const pa = parseIp(a.join('.'))!;
    const pb = parseIp(b.join('.'))!;
    assert.is(pa.family, 'IPv4');
    assert.is(pa.text, a.join('.'));
    assert.equal([...pa.bytes], a);
    const num = (x: number[]): number => ((x[0]! * 256 + x[1]!) * 256 + x[2]!) * 256 + x[3]!;
    assert.is(Math.sign(compareKeys(pa.key, pb.key)), Math.sign(num(a) - num(b)));
  }), { seed: 20261123, numRuns: 5000 });
});

test('rejections and IPv4 forms Go treats specially', () => {
  for (const bad of ['', '1.2.3', '1.2.3.4.', '.1.2.3', '1..2.3', '01.2.3.4', '1.2.3.256', '1.2.3.1000', ' 1.2.3.4', '1.2.3.4 ', '+1.2.3.4', '1.2.3.-4', '1.2.3.4/32']) {
    assert.is(parseIp(bad), null, bad);
  }
  assert.is(parseIp('0.0.0.0')!.key, '400000000');
  assert.is(parseIp('255.255.255.255')!.key, '4ffffffff');
  // IPv4-mapped IPv6 is IPv4 in Go (To4() != nil) and prints dotted.
  assert.is(parseIp('::ffff:10.0.0.1')!.text, '10.0.0.1');
  assert.is(parseIp('::ffff:10.0.0.1')!.family, 'IPv4');
  assert.is(parseIp('::ffff:010.0.0.1'), null);
});

test('IPv6: canonical text as the URL standard writes it (RFC 5952), key in numeric order', () => {
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.boolean(), (gs, upper) => {
    const full = gs.map((g) => g.toString(16)).join(':');
    const isMapped = gs.slice(0, 5).every((g) => g === 0) && gs[5] === 0xffff;
    const ip = parseIp(upper ? full.toUpperCase() : full)!;
    assert.ok(ip, full);
    if (isMapped) return assert.is(ip.family, 'IPv4');
    assert.is(ip.family, 'IPv6');
    // An independent serializer: WHATWG URL's IPv6 host printer (lower case, longest zero run ≥ 2).
    assert.is(ip.text, new URL(`http://[${full}]/`).hostname.slice(1, -1), full);
    assert.is(parseIp(ip.text)!.text, ip.text);
    assert.is(ip.key, '6' + gs.map((g) => g.toString(16).padStart(4, '0')).join(''));
  }), { seed: 20261123, numRuns: 5000 });
});

test.run();
