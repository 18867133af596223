/**
 * /proc/net/ip_vs → ipvsadm -Sn text (apply's whole-table read-back, issue #5). The fixture pair
 * proc-net-ip_vs.txt / list-Ln.txt was captured from one kernel state (Debian 12, kernel 6.1,
 * HZ 250): read through either, the services and real servers must be the same, except the
 * scheduler flags /proc does not print.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { TOOL_OUTPUT, read } from './_fixtures.js';
import { firstPersistentService, procIpVsToSave } from '../../../src/state/proc-ip-vs.js';
import { parseIpvsadmList, parseIpvsadmSave } from '../../../src/state/parse-ipvsadm.js';
import { StateParseError } from '../../../src/state/types.js';
import type { LiveVirtualServer } from '../../../src/state/types.js';

const PROC = read(join(TOOL_OUTPUT, 'ipvsadm', 'proc-net-ip_vs.txt'));
const LIST = read(join(TOOL_OUTPUT, 'ipvsadm', 'list-Ln.txt'));
let ran = 0;

/** What both reads show: no counters (save format), no scheduler flags (not in /proc). */
const comparable = (vs: readonly LiveVirtualServer[]): unknown =>
  vs.map((v) => ({ ...v, flags: [], realServers: v.realServers.map(({ activeConns: _a, inactiveConns: _i, ...r }) => r) }));

test('the captured /proc table reads as the same services and real servers as ipvsadm -Ln', () => {
  ran++;
  const viaProc = parseIpvsadmSave(procIpVsToSave(PROC, 250));
  const viaList = parseIpvsadmList(LIST).services;
  assert.is(viaProc.length, 10);
  assert.equal(comparable(viaProc), comparable(viaList));
  // the one thing /proc cannot tell: mh-port on the two mh services
  assert.equal(viaList.filter((v) => v.flags.length).map((v) => v.flags), [['mh-port'], ['mh-port']]);
});

test('timeouts are jiffies / HZ; IPv6 prefix lengths and IPv4 masks; ops; methods; fwmark left out', () => {
  ran++;
  const text = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn',
    'TCP  0A000001:0050 rr ops persistent 60000 FFFFFF00',
    '  -> 0A000002:1F90      Route   3      0          0         ',
    '  -> 0A000003:1F90      Tunnel  0      0          0         ',
    '  -> 0A000004:1F90      Local   1      0          0         ',
    'UDP  [fd00:0000:0000:0000:0000:0000:0000:0001]:0035 sh persistent 3000 40000000',
    'FWM  00000010 wlc ',
    '',
  ].join('\n');
  assert.is(procIpVsToSave(text, 1000), [
    '-A -t 10.0.0.1:80 -s rr -o -p 60 -M 255.255.255.0',
    '-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -g -w 3',
    '-a -t 10.0.0.1:80 -r 10.0.0.3:8080 -i -w 0',
    '-a -t 10.0.0.1:80 -r 10.0.0.4:8080 -g -w 1',
    '-A -u [fd00::1]:53 -s sh -p 3 -M 64',
    '',
  ].join('\n'));
  // an IPv6 prefix length printed without the byte swap (big-endian host) reads the same
  assert.match(procIpVsToSave(text.replace('40000000', '00000040'), 1000), '-A -u [fd00::1]:53 -s sh -p 3 -M 64\n');
  assert.is(procIpVsToSave('IP Virtual Server version 1.2.1 (size=4096)\n', undefined), '');
});

test('lines read in place and lines read as text agree: tabs, a persistent service, IPv6 real servers of an IPv4 service', () => {
  ran++;
  const text = [
    'TCP\t0A000001:0050\trr\tpersistent\t2500\tFFFFFFFF',
    '\t->\t0A000002:1F90\tMasq\t1\t0\t0',
    '  -> [fd00:0000:0000:0000:0000:0000:0000:0002]:1F90      Masq    7      0          0',
    'SCTP  [fd00:0000:0000:0000:0000:0000:0000:0001]:0BB9 mh ',
    '  -> 0A000002:0050      Masq    0',
    '',
  ].join('\n');
  assert.is(procIpVsToSave(text, 250), [
    '-A -t 10.0.0.1:80 -s rr -p 10',
    '-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 1',
    '-a -t 10.0.0.1:80 -r [fd00::2]:8080 -m -w 7',
    '-A --sctp-service [fd00::1]:3001 -s mh',
    '-a --sctp-service [fd00::1]:3001 -r 10.0.0.2:80 -m -w 0',
    '',
  ].join('\n'));
});

test('one fwmark in both families (dual-stack keepalived) reads as nothing, not as a duplicate service', () => {
  ran++;
  const text = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'FWM  00000001 rr ',
    '  -> 0A000002:0000      Route   1      0          0         ',
    'TCP  0A000001:0050 rr ',
    '  -> 0A000003:1F90      Masq    1      0          0         ',
    'FWM  00000001 rr ',
    '  -> [fd00:0000:0000:0000:0000:0000:0000:0002]:0000      Route   1      0          0         ',
    '',
  ].join('\n');
  const save = procIpVsToSave(text, undefined);
  assert.is(save, '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.3:8080 -m -w 1\n');
  assert.is(parseIpvsadmSave(save).length, 1);
});

test('the first persistent service names the service to learn HZ from', () => {
  ran++;
  assert.equal(firstPersistentService(PROC), { switch: '-t', service: '192.168.0.10:30080', jiffies: 15000 });
  assert.is(firstPersistentService(PROC.replace(/persistent/g, '')), undefined);
});

test('refused: a persistent service without HZ, and lines of another shape', () => {
  ran++;
  const bad = (text: string, hz: number | undefined, why: RegExp): void => {
    try {
      procIpVsToSave(text, hz);
      assert.unreachable(`accepted ${JSON.stringify(text)}`);
    } catch (e) {
      assert.instance(e, StateParseError);
      assert.match((e as Error).message, why);
    }
  };
  bad(PROC, undefined, /HZ is unknown/);
  bad('  -> 0A000002:1F90      Masq   1      0          0\n', 250, /before any service/);
  bad('TCP  10.0.0.1:0050 rr\n', 250, /bad IPv4 address/);
  bad('TCP  0A000001:80 rr\n', 250, /bad address/);
  bad('ICMP  0A000001:0050 rr\n', 250, /unknown protocol/);
  bad('TCP  0A000001:0050 rr\n  -> 0A000002:1F90      Bypass  1      0          0\n', 250, /forwarding method/);
  bad('TCP  0A000001:0050 rr mh-port\n', 250, /unknown service attribute/);
  bad('TCP  0A000001:0050 rr\n  -> 0A000002:1F90 Masq 1x 0 0\n', 250, /line 2: bad weight/);
  bad('TCP  0A000001:0050 rr\n  -> [0000:0000:0000:0000:0000:ffff:0a00:0002]:1F90 Masq 1 0 0\n', 250, /bad IPv6 address/);
  bad('TCP  0a000001:0050 rr\n', 250, /bad IPv4 address 0a000001/);
});

test('ran every case', () => assert.is(ran, 6));
test.run();
