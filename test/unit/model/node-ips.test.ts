/**
 * NodePort addresses (reference §3.2) and the address filter of kube-proxy's TestGetNodeIPs (S37)
 * and TestIpIsValidForSet (S38), on ipvsc's nodePortIPs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nodePortIPs } from '../../../src/model/node-ips.js';
import { parseIp } from '../../../src/model/net.js';
import type { NodeContext, ProxyConfig } from '../../../src/model/types.js';

const cfg = (nodePortAddresses: string[] = []): ProxyConfig => ({ nodePortAddresses } as unknown as ProxyConfig);
const node = (ifaces: Record<string, string[]>): NodeContext => ({
  name: 'test-node', zone: '', podCIDRs: [], primary: {},
  addresses: Object.entries(ifaces).flatMap(([iface, ips]) => ips.map((ip) => ({ iface, ip: parseIp(ip)! }))),
});
const ips = (n: NodeContext, fam: 'IPv4' | 'IPv6', c = cfg()): string[] => nodePortIPs(n, fam, c, []).map((i) => i.text);

let ran = 0;
const cases: [string, Record<string, string[]>, 'IPv4' | 'IPv6', string[]][] = [
  ['S37: loopback excluded', { eth0: ['1.2.3.4'], lo: ['127.0.0.1'] }, 'IPv4', ['1.2.3.4']],
  ['S37: IPv6 link-local excluded, bridges kept', { encap0: ['10.20.30.40', 'fe80::200:ff:fe01:1'], docker0: ['172.17.0.1'] }, 'IPv4', ['10.20.30.40', '172.17.0.1']],
  ['S37: kube-ipvs0 addresses excluded', { 'kube-ipvs0': ['1.2.3.4', '2.3.4.5'], eth5: ['3.4.5.6'] }, 'IPv4', ['3.4.5.6']],
  ['S37: only the exact name kube-ipvs0 is excluded', { ipvs0: ['1.2.3.4'], encap7: ['10.20.30.31'] }, 'IPv4', ['1.2.3.4', '10.20.30.31']],
  ['S37: IPv6 family', { ipvs0: ['1.2.3.4', '1000::'], encap7: ['10.20.30.31', '2000::', 'fe80::200:ff:fe01:1'] }, 'IPv6', ['1000::', '2000::']],
  ['S37: IPv6 with kube-ipvs0', { ipvs0: ['1.2.3.4', '1000::'], encap7: ['10.20.30.31', '2000::', 'fe80::200:ff:fe01:1'], 'kube-ipvs0': ['1.2.3.4', '2.3.4.5', '2000::'] }, 'IPv6', ['1000::']],
  ['S38: IPv4 filter keeps link-local 169.254/16 and mapped addresses', { eth0: ['127.0.0.1', '127.6.7.8', '8.8.8.8', '192.168.0.1', '169.254.0.0', '::ffff:169.254.0.0', '1000::'] }, 'IPv4', ['8.8.8.8', '169.254.0.0', '192.168.0.1']],
  ['S38: IPv6 filter drops ::1, fe80::/10 and IPv4 (mapped too)', { eth0: ['::1', '1000::', 'fe80::200:ff:fe01:1', '8.8.8.8', '::ffff:8.8.8.8'] }, 'IPv6', ['1000::']],
];
for (const [name, ifaces, fam, want] of cases) {
  test(name, () => {
    ran++;
    assert.equal(ips(node(ifaces), fam), want);
  });
}

test('--nodeport-addresses CIDR mode includes addresses bound on kube-ipvs0 (quirk 5)', () => {
  ran++;
  const n = node({ eth0: ['100.101.102.103'], eth1: ['2001:db8::'] });
  const bound = [parseIp('100.101.102.200')!];
  assert.equal(nodePortIPs(n, 'IPv4', cfg(['100.101.102.0/24']), bound).map((i) => i.text), ['100.101.102.103', '100.101.102.200']);
  assert.equal(nodePortIPs(n, 'IPv4', cfg(['10.0.0.0/8']), bound).map((i) => i.text), []);
});

test('primary keyword expands to the primary node IP of the family', () => {
  ran++;
  const n = { ...node({ eth0: ['192.168.0.10', '192.168.0.11'] }), primary: { IPv4: parseIp('192.168.0.11')! } };
  assert.equal(nodePortIPs(n, 'IPv4', cfg(['primary']), []).map((i) => i.text), ['192.168.0.11']);
  assert.equal(nodePortIPs(n, 'IPv6', cfg(['primary']), []).map((i) => i.text), []);
});

test('ran every case', () => assert.ok(ran >= 10, `ran ${ran}`));
test.run();
