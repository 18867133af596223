import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { canonicalSysctlName, parseSysctlLines } from '../../../src/state/parse-sysctl.js';
import { StateParseError } from '../../../src/state/types.js';
import { fixtures, read, stdoutOf, TOOL_OUTPUT } from './_fixtures.js';

const DIR = join(TOOL_OUTPUT, 'sysctl');

test('sysctl KEY (VM captures: fresh defaults, -w echo, slash-form query, /proc/sys reads)', () => {
  const files = fixtures(DIR, /^(defaults|write-kube-proxy|slash-form|proc-sys-read)\.txt$/);
  assert.is(files.length, 4);
  const get = (name: string): Record<string, string> => parseSysctlLines(stdoutOf(read(join(DIR, name))));
  assert.equal(get('defaults.txt'), {
    'net/ipv4/vs/conntrack': '0', 'net/ipv4/vs/conn_reuse_mode': '1', 'net/ipv4/vs/expire_nodest_conn': '0',
    'net/ipv4/vs/expire_quiescent_template': '0', 'net/ipv4/ip_forward': '0', 'net/ipv4/conf/all/arp_ignore': '0',
    'net/ipv4/conf/all/arp_announce': '0',
  });
  assert.equal(get('write-kube-proxy.txt')['net/ipv4/conf/all/arp_announce'], '2');
  assert.equal(get('slash-form.txt'), { 'net/ipv4/vs/conntrack': '1' });
  assert.equal(get('proc-sys-read.txt'), {
    'net/ipv4/vs/conntrack': '1', 'net/ipv4/vs/conn_reuse_mode': '1', 'net/ipv4/ip_forward': '1', 'net/ipv4/conf/all/arp_ignore': '1',
  });
});

test('names: dot form, slash form, /proc/sys, dotted interface names', () => {
  assert.is(canonicalSysctlName('net.ipv4.vs.conntrack'), 'net/ipv4/vs/conntrack');
  assert.is(canonicalSysctlName('net/ipv4/vs/conntrack'), 'net/ipv4/vs/conntrack');
  assert.is(canonicalSysctlName('/proc/sys/net/ipv4/ip_forward'), 'net/ipv4/ip_forward');
  assert.is(canonicalSysctlName('net.ipv4.conf.eth0/100.rp_filter'), 'net/ipv4/conf/eth0.100/rp_filter');
  assert.is(canonicalSysctlName('net/ipv4/conf/eth0.100/rp_filter'), 'net/ipv4/conf/eth0.100/rp_filter');
});

test('inline: comments, both separators, multi-value, last wins, errors', () => {
  assert.equal(parseSysctlLines('# c\n; c\nnet.ipv4.ip_forward=1\nnet/ipv4/ip_forward = 0\nnet.ipv4.ip_local_port_range = 32768\t60999\n'), {
    'net/ipv4/ip_forward': '0', 'net/ipv4/ip_local_port_range': '32768 60999',
  });
  assert.throws(() => parseSysctlLines('net.ipv4.ip_forward\n'), (e: unknown) => e instanceof StateParseError && e.line === 1);
  assert.throws(() => parseSysctlLines('ok = 1\n= 3\n'), (e: unknown) => e instanceof StateParseError && e.line === 2);
});

test.run();
