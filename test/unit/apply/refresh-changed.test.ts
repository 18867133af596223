/**
 * `--refresh=changed` end to end without a kernel (issue #5, incremental apply): the record of
 * the last apply, the narrowed reads, the plan they give, and the record's life cycle (written
 * after a success, gone after a failure, refused after a reboot).
 *
 * The golden plan cases hold, for each behaviour, the cluster the node was last synced to
 * (live-src/) and the node's state (live/). With live-src recorded as the last apply, a plan that
 * reads only the changed keys must find exactly what the full plan finds, unless the node drifted
 * from what was applied (12-drift-repaired: only a full refresh sees drift).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../../../src/cli/args.js';
import type { Io } from '../../../src/cli/context.js';
import { ipvscVersion } from '../../../src/cli/context.js';
import { computePlan } from '../../../src/cli/commands/plan.js';
import type { Planned } from '../../../src/cli/commands/plan.js';
import { runApply, unchangedSince } from '../../../src/cli/commands/apply.js';
import { main } from '../../../src/main.js';
import type { Change } from '../../../src/plan/types.js';
import type { StateSnapshot } from '../../../src/state/snapshot.js';
import { listCases, readFlags } from '../../helpers/cases.js';
import { PLANS, SimHost, liveOf } from '../../helpers/sim-host.js';

const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-refresh-'));
let ran = 0;

function io(): Io & { out: string[] } {
  const out: string[] = [];
  return { out, cwd: tmp, env: {}, stdout: (s) => void out.push(s), stderr: (s) => void out.push(s), readStdin: () => Buffer.from(''), isTTY: false };
}
const booted = (snap: StateSnapshot, id = 'boot-1'): StateSnapshot => ({ ...snap, boot_id: `${id}\n` });
const flagsOf = (dir: string): string[] => (existsSync(join(dir, 'flags')) ? readFileSync(join(dir, 'flags'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : []);
const lines = (cs: readonly Change[]): string[] => cs.map((c) => `${c.action} ${c.kind} ${c.key} ${JSON.stringify(c.before ?? null)} ${JSON.stringify(c.after ?? null)}`);

/** Compiles `src` (a folder of YAML + flags) into `dir` and marks it as applied on boot `bootId`. */
async function recordApplied(src: string, dir: string, bootId = 'boot-1'): Promise<void> {
  const o = io();
  const code = await main(['compile', '-f', src, ...flagsOf(src), '-o', dir], o);
  assert.is(code, 0, o.out.join(''));
  writeFileSync(join(dir, 'applied.json'), JSON.stringify({ formatVersion: 1, node: 'node-a', bootId, kernel: '6.1.0-56-amd64', ipvsc: ipvscVersion() }, null, 2) + '\n');
}

/** A plans case's live-src recorded as the last apply, and its live state saved as a directory on boot-1. */
async function appliedAndSaved(c: string, tag: string): Promise<{ rec: string; state: string }> {
  const rec = join(tmp, `rec-${tag}`);
  await recordApplied(join(PLANS, c, 'live-src'), rec);
  const state = join(tmp, `state-${tag}`);
  cpSync(join(PLANS, c, 'live'), state, { recursive: true });
  writeFileSync(join(state, 'boot_id'), 'boot-1\n');
  return { rec, state };
}

async function plan(c: string, host: SimHost, extra: string[], o = io()): Promise<Planned> {
  const p = await computePlan(parseArgs(['plan', '-f', join(PLANS, c, 'input'), ...readFlags(join(PLANS, c)), ...extra]), o, host);
  if (!('plan' in p)) throw new Error(`cannot plan ${c}: ${JSON.stringify(p.diags)}`);
  return p;
}

// --destroy reads the whole node (refused with --refresh=changed: test/unit/cli/destroy.test.ts).
const CASES = listCases(PLANS).filter((c) => existsSync(join(c.dir, 'live-src')) && !readFlags(c.dir).includes('--destroy'));
/** Cases whose input moves ownership itself: only a full refresh can plan them, and does. */
const FULL_REFRESH: Record<string, RegExp> = {
  '13-foreign-state-untouched': /--refresh=changed: the --ipvs-exclude-cidrs changed; reading the whole node/,
  '14-dual-stack-ipv6-part-missing': /--refresh=changed: the address families changed \(IPv4 → IPv4\+IPv6\); reading the whole node/,
};

for (const c of CASES) {
  test(`${c.name}: a plan of the changed keys only finds what the full plan finds${c.name.startsWith('12-') ? ', drift aside' : c.name in FULL_REFRESH ? ' (by a full refresh: ownership moved)' : ''}`, async () => {
    ran++;
    const rec = join(tmp, `rec-${c.name}`);
    await recordApplied(join(c.dir, 'live-src'), rec);
    const live = booted(liveOf(c.name));
    const full = await plan(c.name, new SimHost(() => live), []);
    const host = new SimHost(() => live);
    const o = io();
    const changed = await plan(c.name, host, ['--refresh=changed', '--applied-dir', rec], o);
    assert.equal(host.reads[0]?.files, ['boot_id', 'node.json']);
    const fallback = FULL_REFRESH[c.name];
    if (fallback) {
      assert.match(o.out.join(''), fallback);
      assert.equal(host.reads.slice(1), [undefined]);
    } else {
      // Never a whole-node read: the boot id (and node.json, to compile), then the changed keys.
      assert.ok(host.reads.every((q) => q !== undefined), o.out.join(''));
      assert.match(o.out.join(''), /Refreshed only what changed since the last apply/);
    }
    if (c.name.startsWith('12-')) {
      // Drift made by hand after the last apply (drift.sh) is seen only by a full refresh.
      const all = new Set(lines(full.plan.changes));
      assert.ok(lines(changed.plan.changes).every((l) => all.has(l)));
      assert.ok(changed.plan.changes.length < full.plan.changes.length);
    } else {
      assert.equal(lines(changed.plan.changes), lines(full.plan.changes));
      assert.equal(changed.plan.draining, full.plan.draining);
    }
  });
}

const BEFORE = liveOf('04-service-removed'); // Service default/api present (04's live-src)
const AFTER = liveOf('02-no-changes'); // and removed (04's input)
const applyArgs = (input: string, extra: string[]): string[] => ['apply', '-f', input, ...readFlags(join(PLANS, '04-service-removed')), '--lock-file', join(tmp, 'lock'), ...extra];

test('apply records its success; the next --refresh=changed applies a change from the narrowed reads alone', async () => {
  ran++;
  const rec = join(tmp, 'rec-apply');
  // A full apply from a node with api to the input without it.
  const first = new SimHost((n) => booted(n === 0 ? BEFORE : AFTER));
  let o = io();
  assert.is(await runApply(parseArgs(applyArgs(join(PLANS, '04-service-removed', 'input'), ['--applied-dir', rec])), o, first), 0, o.out.join(''));
  const meta = JSON.parse(readFileSync(join(rec, 'applied.json'), 'utf8')) as { bootId: string; node: string };
  assert.equal([meta.bootId, meta.node], ['boot-1', 'node-a']);
  assert.match(readFileSync(join(rec, 'ipvsadm.restore'), 'utf8'), /-A -t 10\.96\.0\.20:80/);
  assert.not.match(readFileSync(join(rec, 'ipvsadm.restore'), 'utf8'), /10\.96\.0\.30:443/);

  // api comes back: planned and applied from the changed keys alone, and recorded.
  const second = new SimHost((n) => booted(n === 0 ? AFTER : BEFORE));
  o = io();
  assert.is(await runApply(parseArgs(applyArgs(join(PLANS, '04-service-removed', 'live-src'), ['--applied-dir', rec, '--refresh=changed'])), o, second), 0, o.out.join(''));
  const text = o.out.join('');
  assert.match(text, /\+ virtual-server TCP\/10\.96\.0\.30:443/);
  assert.match(text, /Apply complete/);
  assert.ok(second.reads.every((q) => q !== undefined), 'no whole-node read');
  assert.equal(second.reads[1], {
    files: ['sysctl.txt', 'kube-ipvs0.addr', 'ipset.save', 'ipvsadm.list'],
    addresses: ['10.96.0.30/32'],
    ipsets: [],
    ipsetEntries: [{ set: 'KUBE-CLUSTER-IP', entries: ['10.96.0.30,tcp:443'] }, { set: 'KUBE-IPVS-IPS', entries: ['10.96.0.30'] }],
    ipvsServices: [{ protocol: 'TCP', address: '10.96.0.30', port: 443 }],
  });
  assert.ok(second.commands.length <= 5, `${second.commands.length} commands`);
  assert.match(readFileSync(join(rec, 'ipvsadm.restore'), 'utf8'), /10\.96\.0\.30:443/);

  // Nothing changed since: no command at all, and the record stays.
  const third = new SimHost(() => booted(BEFORE));
  o = io();
  assert.is(await runApply(parseArgs(applyArgs(join(PLANS, '04-service-removed', 'live-src'), ['--applied-dir', rec, '--refresh=changed'])), o, third), 0);
  assert.match(o.out.join(''), /No changes\./);
  assert.is(third.commands.length, 0);
  assert.ok(existsSync(join(rec, 'applied.json')));
});

test('after a reboot, without a record, or with another node\'s record: the whole node is read, and says why', async () => {
  ran++;
  const rec = join(tmp, 'rec-reboot');
  await recordApplied(join(PLANS, '04-service-removed', 'live-src'), rec);
  const why = async (dir: string, boot: string): Promise<{ text: string; full: boolean }> => {
    const h = new SimHost(() => booted(BEFORE, boot));
    const o = io();
    await plan('04-service-removed', h, ['--refresh=changed', '--applied-dir', dir], o);
    return { text: o.out.join(''), full: h.reads.includes(undefined) };
  };
  const rebooted = await why(rec, 'boot-2');
  assert.match(rebooted.text, /--refresh=changed: the node rebooted since the last apply; reading the whole node/);
  assert.ok(rebooted.full);
  const none = await why(join(tmp, 'no-such-record'), 'boot-1');
  assert.match(none.text, /no record of a successful apply in .*no-such-record; reading the whole node/);
  assert.ok(none.full);
  const same = await why(rec, 'boot-1');
  assert.not.ok(same.full);
  // A recorded apply of another node (the compile is for node-a): ownership moved.
  writeFileSync(join(rec, 'manifest.json'), readFileSync(join(rec, 'manifest.json'), 'utf8').replace('"name": "node-a"', '"name": "node-b"'));
  const other = await why(rec, 'boot-1');
  assert.match(other.text, /the last apply was for node "node-b"/);
  assert.ok(other.full);
});

test('a failed apply leaves no record, and its rollback reads only the plan\'s keys', async () => {
  ran++;
  const rec = join(tmp, 'rec-fail');
  await recordApplied(join(PLANS, '02-no-changes', 'input'), rec);
  // The kernel ignores the steps: api is still missing when read back, so the apply fails.
  const host = new SimHost(() => booted(AFTER));
  const o = io();
  const code = await runApply(parseArgs(applyArgs(join(PLANS, '04-service-removed', 'live-src'), ['--applied-dir', rec, '--refresh=changed'])), o, host);
  assert.is(code, 3, o.out.join(''));
  assert.match(o.out.join(''), /rollback: succeeded/);
  assert.not.ok(existsSync(join(rec, 'applied.json')));
  assert.ok(host.reads.every((q) => q !== undefined), 'the rollback read the whole node');
});

test('after a prompt, the changed keys are read again: a move there refuses the plan, drift elsewhere does not', async () => {
  ran++;
  const rec = join(tmp, 'rec-prompt');
  await recordApplied(join(PLANS, '04-service-removed', 'live-src'), rec);
  const p = await plan('04-service-removed', new SimHost(() => booted(BEFORE)), ['--refresh=changed', '--applied-dir', rec]);
  assert.ok(p.scope);
  // Drift outside the plan's keys: still the node the plan was made for.
  const drifted = booted({ ...BEFORE, 'ipset.save': BEFORE['ipset.save']! + 'add KUBE-CLUSTER-IP 10.66.66.66,tcp:66\n' });
  const later = new SimHost(() => drifted);
  assert.ok(await unchangedSince({ ...p, host: later }));
  assert.equal(later.reads, [{ files: ['sysctl.txt', 'kube-ipvs0.addr', 'ipset.save', 'ipvsadm.list'], addresses: ['10.96.0.30/32'], ipsets: [], ipsetEntries: [{ set: 'KUBE-CLUSTER-IP', entries: ['10.96.0.30,tcp:443'] }, { set: 'KUBE-IPVS-IPS', entries: ['10.96.0.30'] }], ipvsServices: [{ protocol: 'TCP', address: '10.96.0.30', port: 443 }] }]);
  // One of its keys moved (the service it deletes is gone already): refused.
  const moved = booted({ ...BEFORE, 'ipvsadm.save': BEFORE['ipvsadm.save']!.split('\n').filter((l) => !l.includes('10.96.0.30:443')).join('\n') });
  try {
    await unchangedSince({ ...p, host: new SimHost(() => moved) });
    assert.unreachable('must refuse');
  } catch (e) {
    assert.match((e as Error).message, /changed while the plan waited for approval/);
  }
});

test('plan --json says when it read only the changed keys (refresh), and which; a full plan has no refresh field', async () => {
  ran++;
  const c = '04-service-removed';
  const { rec, state } = await appliedAndSaved(c, 'json');
  const planJson = async (extra: string[]): Promise<Record<string, unknown>> => {
    const out: string[] = [];
    const o = { ...io(), stdout: (x: string) => void out.push(x) };
    const code = await main(['plan', '-f', join(PLANS, c, 'input'), ...readFlags(join(PLANS, c)), '--state', state, '--json', ...extra], o);
    assert.is(code, 0, o.out.join(''));
    return JSON.parse(out.join('')) as Record<string, unknown>;
  };
  const changed = await planJson(['--refresh=changed', '--applied-dir', rec]);
  const full = await planJson([]);
  assert.equal(changed['refresh'], {
    mode: 'changed',
    read: {
      // the sysctls are always read (one cheap `sysctl -e`)
      sysctls: ['net/ipv4/ip_forward', 'net/ipv4/vs/conn_reuse_mode', 'net/ipv4/vs/conntrack', 'net/ipv4/vs/expire_nodest_conn', 'net/ipv4/vs/expire_quiescent_template'],
      ipvs_timeouts: false, kube_ipvs0_link: false,
      kube_ipvs0_addresses: ['10.96.0.30/32'],
      virtual_services: ['TCP/10.96.0.30:443'],
      whole_sets: [],
      set_entries: { 'KUBE-CLUSTER-IP': ['10.96.0.30,tcp:443'], 'KUBE-IPVS-IPS': ['10.96.0.30'] },
      iptables_tables: [],
    },
  });
  assert.not.ok('refresh' in full);
  // The same changes either way (04 has no drift).
  assert.equal(changed['changes'], full['changes']);
  assert.is(changed['format_version'], '1.0');
});

test('-f - with --refresh=changed that falls back to a full refresh plans from the one read of stdin', async () => {
  ran++;
  // 14: the families changed since the last apply, so the changed-keys plan compiles, gives up
  // and the full refresh compiles again; stdin, like a process's, gives its bytes once.
  const c = '14-dual-stack-ipv6-part-missing';
  const { rec, state } = await appliedAndSaved(c, 'stdin');
  const inputDir = join(PLANS, c, 'input');
  const files = readdirSync(inputDir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  assert.ok(files.length > 0);
  let stdin: string | undefined = files.map((f) => readFileSync(join(inputDir, f), 'utf8')).join('\n---\n');
  const planJson = async (input: string, extra: string[], o: Io & { out: string[] }): Promise<Record<string, unknown>> => {
    const out: string[] = [];
    const code = await main(['plan', '-f', input, ...readFlags(join(PLANS, c)), '--state', state, '--json', ...extra], { ...o, stdout: (x: string) => void out.push(x) });
    assert.is(code, 0, o.out.join(''));
    return JSON.parse(out.join('')) as Record<string, unknown>;
  };
  const once = io();
  const viaStdin = await planJson('-', ['--refresh=changed', '--applied-dir', rec], {
    ...once,
    readStdin: () => {
      const s = stdin ?? '';
      stdin = undefined;
      return Buffer.from(s);
    },
  });
  assert.match(once.out.join(''), /--refresh=changed: the address families changed \(IPv4 → IPv4\+IPv6\); reading the whole node/);
  const full = await planJson(inputDir, [], io());
  assert.ok((full['changes'] as unknown[]).length > 0);
  assert.equal(viaStdin['changes'], full['changes']);
});

test('a saved plan cannot be made with --refresh=changed; --refresh takes full or changed', async () => {
  ran++;
  const o = io();
  const code = await main(['plan', '-f', join(PLANS, '02-no-changes', 'input'), '--state', join(PLANS, '02-no-changes', 'live'), '--refresh=changed', '--applied-dir', tmp, '-out', join(tmp, 'p.json')], o);
  assert.is(code, 1, o.out.join(''));
  assert.match(o.out.join(''), /cannot be made with --refresh=changed/);
  const bad = io();
  assert.is(await main(['plan', '-f', join(PLANS, '02-no-changes', 'input'), '--state', join(PLANS, '02-no-changes', 'live'), '--refresh=partial'], bad), 1);
  assert.match(bad.out.join(''), /--refresh must be full or changed/);
  const noDir = io();
  assert.is(await main(['plan', '-f', join(PLANS, '02-no-changes', 'input'), '--state', join(PLANS, '02-no-changes', 'live'), '--refresh=changed'], noDir), 1);
  assert.match(noDir.out.join(''), /with --state, give --applied-dir DIR/);
});

test('ran every case', () => assert.ok(ran >= CASES.length + 6 && CASES.length >= 13, `ran ${ran} of ${CASES.length} cases`));
test.run();
