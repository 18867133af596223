/**
 * `plan --destroy` / `apply --destroy` (kube-proxy --cleanup within ipvsc's ownership), against
 * the recorded nodes of the golden plan cases 15 (dual-stack, owned state only) and 16 (case 13's
 * foreign state, and keepalived's excluded VIP on kube-ipvs0). What a real kernel does with the
 * commands: test/vm-tests/destroy-scenarios.sh.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../helpers/run-cli.js';
import { SimHost, liveOf } from '../../helpers/sim-host.js';
import { parseArgs } from '../../../src/cli/args.js';
import { runApply } from '../../../src/cli/commands/apply.js';
import type { StateSnapshot } from '../../../src/state/snapshot.js';
import { snapshotAsDesired } from '../../../src/apply/apply.js';
import { makePlan } from '../../../src/plan/make-plan.js';
import { restrictDesired, restrictState, touchedBy } from '../../../src/plan/scope.js';
import { destroyDesired } from '../../../src/state/desired.js';
import type { CanonicalState } from '../../../src/state/canonical.js';
import { writeAppliedRecord } from '../../../src/cli/applied-record.js';
import type { Manifest } from '../../../src/cli/manifest.js';

const PLANS = join(import.meta.dirname, '..', '..', 'golden', 'plans');
const DUAL = join(PLANS, '15-destroy-dual-stack', 'live');
const FOREIGN = join(PLANS, '16-destroy-foreign-state-kept', 'live');
const NODE = ['--hostname-override=node-a'];
const EXCL = '--ipvs-exclude-cidrs=192.168.100.0/24';
const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-destroy-'));
let ran = 0;

/** The dry run's commands: `# N. step` headers and the lines under them. */
const dryRun = async (argv: readonly string[]): Promise<{ code: number; commands: string; stderr: string }> => {
  const r = await runCli(['apply', '--dry-run', ...argv]);
  return { code: r.code, commands: r.stdout.slice(r.stdout.indexOf('Dry run')), stderr: r.stderr };
};

test('plan --destroy needs no -f: flags give the node and the ownership; no warning about a node without Services', async () => {
  ran++;
  const r = await runCli(['plan', '--destroy', '--state', FOREIGN, ...NODE, EXCL, '--detailed-exitcode', '--no-color']);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stdout, /Plan: 0 to add, 0 to change, 41 to destroy\./);
  assert.not.match(r.stderr, /INPUT_NO_OBJECTS|warning/);
  assert.match(r.stderr, /--destroy: planning the removal of everything ipvsc owns/);
});

test('apply --destroy deletes the jumps and chains before the sets they match, and the link last; no address one by one', async () => {
  ran++;
  const r = await dryRun(['--destroy', '--state', DUAL, ...NODE]);
  assert.is(r.code, 0, r.stderr);
  const at = (s: string): number => {
    const i = r.commands.indexOf(s);
    assert.ok(i >= 0, `missing ${JSON.stringify(s)} in\n${r.commands}`);
    return i;
  };
  for (const fam of ['iptables-restore', 'ip6tables-restore']) assert.ok(at(fam) < at('destroy KUBE-CLUSTER-IP'), `${fam} before ipset destroy`);
  assert.ok(at('-X KUBE-SERVICES') < at('destroy KUBE-6-CLUSTER-IP'));
  assert.ok(at('-D -t 10.96.0.20:80') > 0 && at('-D -t [fd00:96::20]:80') > 0);
  assert.ok(at('ip link del kube-ipvs0') > at('destroy KUBE-IPVS-IPS'));
  assert.not.match(r.commands, /addr del/);
  // Every command deletes: nothing is created, set or flushed on the way out.
  assert.not.match(r.commands, /^(-A|-I|-a|create|add |sysctl|ip link add)/m);
  assert.not.match(r.commands, /^-F /m);
});

test('apply --destroy keeps foreign state and what --ipvs-exclude-cidrs covers, and a link that holds such an address', async () => {
  ran++;
  const r = await dryRun(['--destroy', '--state', FOREIGN, ...NODE, EXCL]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.commands, /addr del 10\.96\.0\.10\/32 dev kube-ipvs0\naddr del 10\.96\.0\.20\/32 dev kube-ipvs0\n/);
  assert.not.match(r.commands, /link del/);
  for (const foreign of ['192.168.100.10', 'DOCKER', 'docker', '-f 1', '172.17.']) assert.not.ok(r.commands.includes(foreign), `${foreign} must not be touched:\n${r.commands}`);
  assert.match(r.commands, /-D -u 10\.96\.0\.10:53\n-D -t 10\.96\.0\.20:80\n/);
});

test('without --ipvs-exclude-cidrs the excluded service is owned again, and the link goes', async () => {
  ran++;
  const r = await dryRun(['--destroy', '--state', FOREIGN, ...NODE]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.commands, /-D -t 192\.168\.100\.10:80/);
  assert.match(r.commands, /ip link del kube-ipvs0/);
  assert.not.ok(r.commands.includes('-f 1'), 'fwmark services are never touched');
});

test('a saved destroy plan applies as the destroy it showed', async () => {
  ran++;
  const file = join(tmp, 'destroy.json');
  const p = await runCli(['plan', '--destroy', '--state', FOREIGN, ...NODE, EXCL, '-out', file]);
  assert.is(p.code, 0, p.stderr);
  assert.is((JSON.parse(readFileSync(file, 'utf8')) as { destroy?: boolean }).destroy, true);
  const saved = await dryRun([file, '--state', FOREIGN]);
  const direct = await dryRun(['--destroy', '--state', FOREIGN, ...NODE, EXCL]);
  assert.is(saved.code, 0, saved.stderr);
  assert.is(saved.commands, direct.commands);
});

test('a node with nothing owned: no changes', async () => {
  ran++;
  const empty = join(PLANS, '01-empty-node', 'live');
  const r = await runCli(['plan', '--destroy', '--state', empty, ...NODE, '--detailed-exitcode']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /No changes/);
});

test('--destroy with --refresh=changed is refused; kube-proxy --cleanup and --init-only point to what ipvsc does', async () => {
  ran++;
  const a = await runCli(['plan', '--destroy', '--refresh=changed', '--state', FOREIGN, ...NODE]);
  assert.is(a.code, 1);
  assert.match(a.stderr, /--destroy reads the whole node/);
  const b = await runCli(['apply', '--cleanup']);
  assert.is(b.code, 1);
  assert.match(b.stderr, /kube-proxy's --cleanup is a run mode[^\n]*\n\s+hint: ipvsc plan --destroy/);
  const c = await runCli(['apply', '--init-only']);
  assert.is(c.code, 1);
  assert.match(c.stderr, /hint: ipvsc apply sets the sysctls/);
  // A name that is an Object.prototype member is an unknown flag like any other.
  const d = await runCli(['apply', '--constructor']);
  assert.is(d.code, 1);
  assert.match(d.stderr, /unknown flag --constructor\n/);
});

/** Case 16's node after a destroy: only the lines of foreign state are left. */
function destroyed(before: StateSnapshot): StateSnapshot {
  const keep = (text: string | undefined, f: (l: string) => boolean): string => (text ?? '').split('\n').filter((l) => l === '' || l.startsWith('#') || l.startsWith('*') || l === 'COMMIT' || f(l)).join('\n');
  return {
    ...before,
    'kube-ipvs0.addr': keep(before['kube-ipvs0.addr'], (l) => l.includes('192.168.100.10/32')),
    'ipset.save': keep(before['ipset.save'], (l) => l.includes('docker-allowlist')),
    'iptables.save': keep(before['iptables.save'], (l) => !l.includes('KUBE-')),
    'ip6tables.save': keep(before['ip6tables.save'], (l) => !l.includes('KUBE-')),
    'ipvsadm.save': keep(before['ipvsadm.save'], (l) => l.includes('192.168.100.10') || l.includes('-f 1')),
  };
}

test('apply --destroy that keeps the link verifies: the link is not judged, only the addresses it deleted', async () => {
  ran++;
  const before = liveOf('16-destroy-foreign-state-kept');
  const after = destroyed(before);
  assert.ok(after['kube-ipvs0.addr']!.includes('192.168.100.10') && !after['kube-ipvs0.addr']!.includes('10.96.0.10'));
  const host = new SimHost((n) => (n === 0 ? before : after));
  const out: string[] = [];
  const io = { cwd: tmp, env: {}, stdout: (x: string) => void out.push(x), stderr: (x: string) => void out.push(x), readStdin: () => Buffer.from(''), isTTY: false };
  const code = await runApply(parseArgs(['apply', '--destroy', ...NODE, EXCL, '--lock-file', join(tmp, 'lock'), '--applied-dir', join(tmp, 'applied')]), io, host);
  assert.is(code, 0, out.join(''));
  assert.match(out.join(''), /Apply complete/);
  assert.not.ok(host.commands.some((c) => c.args.includes('link')), 'the link is kept');
  // The addresses it deleted were read back one by one.
  assert.ok(host.reads.some((q) => q?.addresses?.includes('10.96.0.10/32')));
});

/** A node state with kube-ipvs0 holding `addresses` (nothing else). */
const nodeWith = (exists: boolean, addresses: string[]): CanonicalState => ({
  ipvs: [], ipsets: [], iptables: { IPv4: {}, IPv6: {} }, kubeIpvs0: { exists, addresses }, sysctls: {}, node: { name: 'node-a' },
});
const like = destroyDesired({ node: { name: 'node-a', ips: [] }, excludeCIDRs: ['192.168.100.0/24'] });
const what = (cs: readonly { action: string; kind: string; key: string }[]): string[] => cs.map((c) => `${c.action} ${c.kind} ${c.key}`);

test('a rollback to a node without kube-ipvs0 deletes the link, even with an excluded address ipvsc bound on it', () => {
  ran++;
  // A first apply on an empty node bound 10.96.0.20 and a ClusterIP inside the excluded CIDR.
  const now = nodeWith(true, ['10.96.0.20/32', '192.168.100.50/32']);
  const target = snapshotAsDesired(nodeWith(false, []), like);
  assert.equal(what(makePlan(target, now).changes), ['delete link kube-ipvs0', 'delete address 10.96.0.20/32']);
  // --destroy keeps it (the excluded address is not ipvsc's to delete).
  assert.equal(what(makePlan(like, now).changes), ['delete address 10.96.0.20/32']);
  // A rollback's read-back of addresses it touched still judges the link (a --refresh=changed
  // apply that created the link and failed deletes it again); --destroy's does not.
  const t = touchedBy([{ subsystem: 'kube-ipvs0', action: 'create', kind: 'address', key: '10.96.0.20/32' }]);
  const seen = restrictState(now, true, t, target, now.node);
  assert.equal(what(makePlan(restrictDesired(target, t), seen).changes), ['delete link kube-ipvs0', 'delete address 10.96.0.20/32']);
  const seenByDestroy = restrictState(now, true, t, like, now.node);
  assert.equal(what(makePlan(restrictDesired(like, t), seenByDestroy).changes), ['delete address 10.96.0.20/32']);
});

test('a saved plan is applied as saved: --destroy, -f and --from are refused with it', async () => {
  ran++;
  const file = join(tmp, 'normal.json');
  const p = await runCli(['plan', '-f', join(PLANS, '16-destroy-foreign-state-kept', 'input'), '--state', FOREIGN, ...NODE, EXCL, '-out', file]);
  assert.is(p.code, 0, p.stderr);
  for (const extra of [['--destroy'], ['-f', join(PLANS, '16-destroy-foreign-state-kept', 'input')], ['--from', tmp]]) {
    const r = await runCli(['apply', file, ...extra, '--state', FOREIGN, '--dry-run']);
    assert.is(r.code, 1, `${extra[0]}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /a saved plan carries what it applies/);
  }
});

test('--destroy with other exclude CIDRs than the last apply recorded is refused', async () => {
  ran++;
  const dir = join(tmp, 'applied');
  const manifest = { excludeCIDRs: ['192.168.100.0/24'] } as unknown as Manifest;
  writeAppliedRecord(dir, { meta: { formatVersion: 1, node: 'node-a', bootId: 'b1', ipvsc: 'test' }, artifacts: { 'ipvsadm.restore': '', 'ipset.restore': '', 'iptables.restore': '' }, manifest }, (w) => assert.unreachable(w));
  const forgot = await runCli(['plan', '--destroy', '--state', FOREIGN, ...NODE, '--applied-dir', dir]);
  assert.is(forgot.code, 1, forgot.stdout);
  assert.match(forgot.stderr, /the last apply on this node ran with --ipvs-exclude-cidrs "192\.168\.100\.0\/24", this --destroy with ""/);
  assert.is(forgot.stdout, '');
  const same = await runCli(['plan', '--destroy', '--state', FOREIGN, ...NODE, EXCL, '--applied-dir', dir, '--detailed-exitcode']);
  assert.is(same.code, 2, same.stderr);
});

test('a saved destroy plan is stale once the link lost the foreign address that kept it', async () => {
  ran++;
  const live = join(tmp, 'live-16');
  cpSync(FOREIGN, live, { recursive: true });
  const file = join(tmp, 'destroy-16.json');
  assert.is((await runCli(['plan', '--destroy', '--state', live, ...NODE, EXCL, '-out', file])).code, 0);
  const addr = join(live, 'kube-ipvs0.addr');
  writeFileSync(addr, readFileSync(addr, 'utf8').split('\n').filter((l) => !l.includes('192.168.100.10')).join('\n'));
  // Now the plan would delete the link, which the reviewed plan kept.
  const r = await runCli(['apply', file, '--state', live, '--dry-run']);
  assert.is(r.code, 1, r.stdout);
  assert.match(r.stderr, /is stale/);
});

test('--destroy is a flag of plan and apply only', async () => {
  ran++;
  for (const cmd of ['compile', 'validate']) {
    const r = await runCli([cmd, '--destroy', ...NODE, '-o', join(tmp, 'out')]);
    assert.is(r.code, 1, cmd);
    assert.match(r.stderr, new RegExp(`--destroy is a flag of plan and apply, not of ${cmd}`));
  }
});

test('every destroy test ran', () => {
  assert.is(ran, 13);
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
