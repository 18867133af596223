/**
 * The record of the last successful apply (cli/applied-record.ts): it never claims more than is
 * true. A half-written or foreign record is no record; one that cannot be removed before an apply
 * refuses the apply; one that cannot be written is a warning (the node itself is right).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetAppliedRecord, readAppliedRecord, recordsAlready, writeAppliedRecord } from '../../../src/cli/applied-record.js';
import type { AppliedRecord } from '../../../src/cli/applied-record.js';
import type { Manifest } from '../../../src/cli/manifest.js';
import { UsageError } from '../../../src/diag/diagnostic.js';

let ran = 0;
const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-record-'));
const manifest = { formatVersion: 1, ipvsc: '0.1.0', node: { name: 'node-a', ips: [] }, families: ['IPv4'], kubeIpvs0: ['10.96.0.1/32'], sysctls: [], ipvsTimeouts: { tcp: 0, tcpfin: 0, udp: 0 }, excludeCIDRs: [], inputsDigest: 'sha256:x', artifacts: {} } as unknown as Manifest;
const rec: AppliedRecord = {
  meta: { formatVersion: 1, node: 'node-a', bootId: 'b-1', kernel: '6.1.0-57-amd64', ipvsc: '0.1.0' },
  artifacts: { 'ipvsadm.restore': '-A -t 10.96.0.1:443 -s rr\n', 'ipset.restore': '', 'iptables.restore': '*nat\nCOMMIT\n' },
  manifest,
};

test('a written record reads back whole; ip6tables.restore only when there is one', () => {
  ran++;
  const dir = join(tmp, 'a');
  const warnings: string[] = [];
  writeAppliedRecord(dir, { ...rec, artifacts: { ...rec.artifacts, 'ip6tables.restore': '*nat\nCOMMIT\n' } }, (w) => warnings.push(w));
  writeAppliedRecord(dir, rec, (w) => warnings.push(w)); // a later apply without IPv6 drops the file
  assert.equal(warnings, []);
  assert.not.ok(existsSync(join(dir, 'ip6tables.restore')));
  assert.equal(readAppliedRecord(dir), rec);
  assert.ok(recordsAlready(dir, rec.meta, manifest));
  assert.not.ok(recordsAlready(dir, { ...rec.meta, bootId: 'b-2' }, manifest));
});

test('no marker, a marker ipvsc did not write, or a missing artifact: no record, and why', () => {
  ran++;
  const dir = join(tmp, 'b');
  writeAppliedRecord(dir, rec, () => undefined);
  forgetAppliedRecord(dir);
  assert.match(String((readAppliedRecord(dir) as { missing: string }).missing), /no record of a successful apply in/);
  writeAppliedRecord(dir, rec, () => undefined);
  writeFileSync(join(dir, 'applied.json'), '{"formatVersion": 2}');
  assert.match(String((readAppliedRecord(dir) as { missing: string }).missing), /is not a record ipvsc wrote/);
  writeAppliedRecord(dir, rec, () => undefined);
  rmSync(join(dir, 'ipset.restore'));
  assert.match(String((readAppliedRecord(dir) as { missing: string }).missing), /cannot be read: .*ipset.restore/);
  forgetAppliedRecord(join(tmp, 'never-written')); // nothing to forget: fine
});

test('a record that cannot be removed refuses the apply; one that cannot be written is a warning', () => {
  ran++;
  const dir = join(tmp, 'c');
  mkdirSync(join(dir, 'applied.json'), { recursive: true }); // a directory: rm without recursion fails
  try {
    forgetAppliedRecord(dir);
    assert.unreachable('must refuse');
  } catch (e) {
    assert.instance(e, UsageError);
    assert.match((e as Error).message, /cannot remove .*applied.json before applying/);
  }
  const file = join(tmp, 'a-file');
  writeFileSync(file, 'x');
  const warnings: string[] = [];
  writeAppliedRecord(join(file, 'sub'), rec, (w) => warnings.push(w));
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /cannot record this apply .*the next --refresh=changed will read the whole node/);
  assert.is(readFileSync(file, 'utf8'), 'x');
});

test('ran every case', () => assert.ok(ran >= 3, `ran ${ran}`));
test.run();
