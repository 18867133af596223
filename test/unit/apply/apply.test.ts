/**
 * apply without a kernel (issue #5): the state read for the plan is the rollback snapshot, the
 * read-back after the steps covers only what they touched, and every failure still rolls back.
 * The node is simulated from the golden plan cases: 04's live state (Service default/api
 * present) planned against 02's input (api removed) must end as 02's live state.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../../../src/cli/args.js';
import type { Io } from '../../../src/cli/context.js';
import { computePlan } from '../../../src/cli/commands/plan.js';
import type { Planned } from '../../../src/cli/commands/plan.js';
import { runApply, unchangedSince } from '../../../src/cli/commands/apply.js';
import { applyPlan } from '../../../src/apply/apply.js';
import { buildSteps } from '../../../src/apply/steps.js';
import { UsageError } from '../../../src/diag/diagnostic.js';
import { readFlags } from '../../helpers/cases.js';
import { PLANS, SimHost, liveOf } from '../../helpers/sim-host.js';
import type { Command, CommandResult } from '../../../src/host/host.js';
import type { StateSnapshot } from '../../../src/state/snapshot.js';

const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-apply-'));
const BEFORE = liveOf('04-service-removed');
const AFTER = liveOf('02-no-changes');
const argv = (cmd: string, c: string): string[] => [cmd, '-f', join(PLANS, c, 'input'), ...readFlags(join(PLANS, c))];
let ran = 0;

function io(): Io & { out: string[] } {
  const out: string[] = [];
  return { out, cwd: tmp, env: {}, stdout: (s) => void out.push(s), stderr: (s) => void out.push(s), readStdin: () => Buffer.from(''), isTTY: false };
}

async function planOn(host: SimHost, c = '04-service-removed'): Promise<Planned> {
  const p = await computePlan(parseArgs(argv('plan', c)), io(), host);
  if (!('plan' in p)) throw new Error(`cannot plan ${c}`);
  return p;
}

test('apply reads the node once in full (the plan is also the rollback snapshot), then reads back only what the steps touched', async () => {
  ran++;
  const host = new SimHost((n) => (n === 0 ? BEFORE : AFTER));
  const o = io();
  const code = await runApply(parseArgs([...argv('apply', '04-service-removed'), '--lock-file', join(tmp, 'lock')]), o, host);
  assert.is(code, 0, o.out.join(''));
  // Steps: delete the virtual service, the address, the set entries; each subsystem is read
  // back right after its last step.
  assert.equal(host.events, ['read *', 'run ipvsadm', 'read ipvsadm.list', 'run ip', 'read kube-ipvs0.addr', 'run ipset', 'read ipset.save']);
  assert.equal(host.reads, [
    undefined,
    { files: ['ipvsadm.list'], ipvsServices: [{ protocol: 'TCP', address: '10.96.0.30', port: 443 }] },
    // one address and one entry per set: read one by one (ip addr show to, ipset test)
    { files: ['kube-ipvs0.addr'], addresses: ['10.96.0.30/32'] },
    { files: ['ipset.save'], ipsets: [], ipsetEntries: [{ set: 'KUBE-CLUSTER-IP', entries: ['10.96.0.30,tcp:443'] }, { set: 'KUBE-IPVS-IPS', entries: ['10.96.0.30'] }] },
  ]);
  assert.ok(host.commands.every((c) => c.mutating));
});

test('a read-back that still differs rolls back to the state the plan was made from', async () => {
  ran++;
  // The kernel ignores the steps: api is still there when read back.
  const host = new SimHost(() => BEFORE);
  const p = await planOn(host);
  const r = await applyPlan(p.plan, p.desiredState, p.live, host, () => undefined);
  assert.is(r.ok, false);
  assert.ok(r.failure && 'verify' in r.failure);
  assert.equal(r.failure.verify.changes.map((c) => `${c.action} ${c.kind} ${c.key}`), [
    'delete virtual-server TCP/10.96.0.30:443',
    'delete address 10.96.0.30/32',
    'delete entry KUBE-CLUSTER-IP 10.96.0.30,tcp:443',
    'delete entry KUBE-IPVS-IPS 10.96.0.30',
  ]);
  assert.is(r.rollback?.ok, true);
});

test('sets the steps created are read back by their entry counts (ipsetsFilled); plans and rollbacks never use them', async () => {
  ran++;
  // The kernel ignores the steps: the node stays empty, so the read-back differs and rolls back.
  const empty = liveOf('01-empty-node');
  const host = new SimHost(() => empty);
  const p = await planOn(host, '01-empty-node');
  const r = await applyPlan(p.plan, p.desiredState, p.live, host, () => undefined);
  assert.is(r.ok, false);
  const setReads = host.reads.filter((q) => q?.files.includes('ipset.save'));
  const filled = setReads.filter((q) => q?.ipsetsFilled !== undefined);
  assert.is(filled.length, 1, JSON.stringify(host.reads));
  const sets = p.desiredState.ipsets;
  assert.is(sets.length, 17);
  assert.equal(filled[0]!.ipsetsFilled!.map((x) => x.set), sets.map((x) => x.name).sort());
  assert.equal(filled[0]!.ipsets, []);
  // The sets read back as missing: the verification names them (count path, set absent).
  assert.ok(r.failure && 'verify' in r.failure);
  assert.ok(r.failure.verify.changes.some((c) => c.subsystem === 'ipset' && c.kind === 'set' && c.action === 'create'));
  // The plan's read (first) and the rollback's reads (after the read-backs) are whole reads.
  assert.is(host.reads[0], undefined);
  assert.ok(host.reads.every((q) => q === undefined || q === filled[0] || q.ipsetsFilled === undefined));
  assert.is(r.rollback?.ok, true);
});

test('a read-back that fails rolls back; the rollback reads the whole node', async () => {
  ran++;
  const planHost = new SimHost(() => BEFORE);
  const p = await planOn(planHost);
  const n = buildSteps(p.plan, p.desiredState).length;
  // Steps take effect; the rollback's commands restore the old state.
  const host = new SimHost((k) => (k === 0 || k > n ? BEFORE : AFTER), { failNarrowReads: true });
  const r = await applyPlan(p.plan, p.desiredState, p.live, host, () => undefined);
  assert.is(r.ok, false);
  assert.ok(r.failure && 'readBack' in r.failure);
  assert.match(r.failure.readBack, /injected/);
  assert.is(r.rollback?.ok, true);
  assert.ok(host.commands.length > n, 'the rollback ran commands');
  // The plan's read came before; three narrowed read-backs failed; then only full reads.
  assert.is(host.reads.filter((q) => q !== undefined).length, 3);
  assert.ok(host.reads.slice(3).every((q) => q === undefined), 'rollback reads are full reads');
});

test('a failing step rolls back', async () => {
  ran++;
  const planHost = new SimHost(() => BEFORE);
  const p = await planOn(planHost);
  const host = new SimHost((k) => (k === 0 || k > 1 ? BEFORE : AFTER));
  const failing = { ...host, run: (c: Parameters<SimHost['run']>[0]) => host.run(c).then((r) => (host.commands.length === 1 ? { ...r, exitCode: 1, stderr: 'injected' } : r)), readState: host.readState.bind(host) };
  const r = await applyPlan(p.plan, p.desiredState, p.live, failing, () => undefined);
  assert.is(r.ok, false);
  assert.is(r.stepsRun, 1);
  assert.ok(r.failure && 'step' in r.failure);
  assert.is(r.rollback?.ok, true);
});

test('one endpoint added: the read-back is that one virtual service, nothing else', async () => {
  ran++;
  const host = new SimHost((n) => (n === 0 ? liveOf('06-endpoint-added') : liveOf('02-no-changes')));
  const p = await planOn(host, '06-endpoint-added');
  const r = await applyPlan(p.plan, p.desiredState, p.live, host, () => undefined);
  // 02's live state lacks the endpoint: the read-back finds exactly that real server missing.
  assert.ok(r.failure && 'verify' in r.failure);
  assert.equal(r.failure.verify.changes.map((c) => c.key), ['TCP/10.96.0.20:80 -> 10.244.3.8:8080']);
  assert.equal(host.reads.filter((q) => q !== undefined), [{ files: ['ipvsadm.list'], ipvsServices: [{ protocol: 'TCP', address: '10.96.0.20', port: 80 }] }]);
});

test('after a prompt, a node whose owned state moved is refused; an unmoved one is re-read', async () => {
  ran++;
  const p = await planOn(new SimHost(() => BEFORE));
  const same = await unchangedSince({ ...p, host: new SimHost(() => BEFORE) });
  assert.equal(same.ipvs, p.live.ipvs);
  try {
    await unchangedSince({ ...p, host: new SimHost(() => AFTER) });
    assert.unreachable('a moved node must be refused');
  } catch (e) {
    assert.instance(e, UsageError);
    assert.match((e as Error).message, /changed while the plan waited for approval/);
  }
});

/** A SimHost whose commands take a few ms, logging when each starts and ends; `failTool` fails. */
class SlowHost extends SimHost {
  readonly log: string[] = [];
  constructor(states: (n: number) => StateSnapshot, private readonly failTool?: string) { super(states); }
  override async run(cmd: Command): Promise<CommandResult> {
    const name = `${cmd.tool} ${cmd.args[0] ?? ''}`.trim();
    this.log.push(`start ${name}`);
    await new Promise((r) => setTimeout(r, 5));
    const r = await super.run(cmd);
    this.log.push(`end ${name}`);
    return cmd.mutating && cmd.tool === this.failTool ? { exitCode: 1, stdout: '', stderr: 'injected' } : r;
  }
}

test('steps that do not wait for each other run alongside: IPVS with the sets and their rules; addresses after both', async () => {
  ran++;
  const host = new SlowHost(() => ({}));
  const p = await planOn(host, '01-empty-node');
  await applyPlan(p.plan, p.desiredState, p.live, host, () => undefined);
  const at = (e: string): number => host.log.indexOf(e);
  assert.ok(at('start ipvsadm -R') < at('end ipset restore'), host.log.join(', '));
  assert.ok(at('start iptables-restore -w') > at('end ipset restore'), 'the rules wait for the sets');
  assert.ok(at('start ip -batch') > Math.max(at('end ipvsadm -R'), host.log.lastIndexOf('end iptables-restore -w')), 'the addresses wait for IPVS and the rules');
});

test('after a failed step no other starts; the ones running finish before the rollback reads the node', async () => {
  ran++;
  const host = new SlowHost(() => ({}), 'ipset');
  const p = await planOn(host, '01-empty-node');
  const r = await applyPlan(p.plan, p.desiredState, p.live, host, () => undefined);
  assert.is(r.ok, false);
  assert.match((r.failure as { step: { name: string } }).step.name, /^ipset/);
  const forward = host.log.slice(0, host.log.indexOf('end ipvsadm -R') + 1);
  assert.not.ok(forward.some((e) => /iptables|ip -batch/.test(e)), forward.join(', '));
  assert.ok(forward.includes('end ipset restore'), 'ipvsadm -R, started alongside, ran to its end');
  assert.is(r.stepsRun, 4); // sysctl, link, ipset, ipvsadm
  assert.is((r.failure as { index: number }).index, 2); // the third step, whatever finished after it
});

test('a host that throws fails its step like a tool: the running steps finish, then the rollback runs', async () => {
  ran++;
  class ThrowingHost extends SlowHost {
    override async run(cmd: Command): Promise<CommandResult> {
      if (cmd.tool === 'ipset' && cmd.mutating && !this.log.includes('threw')) {
        this.log.push('threw');
        throw new Error('wrapper bug');
      }
      return super.run(cmd);
    }
  }
  const host = new ThrowingHost(() => ({}));
  const p = await planOn(host, '01-empty-node');
  const lines: string[] = [];
  const r = await applyPlan(p.plan, p.desiredState, p.live, host, (l) => lines.push(l));
  assert.is(r.ok, false);
  assert.match((r.failure as { result: CommandResult }).result.stderr, 'cannot run the step: wrapper bug');
  assert.ok(r.rollback, 'rolled back');
  assert.ok(host.log.includes('end ipvsadm -R'), 'the IPVS step running alongside ran to its end');
  assert.not.ok(host.log.some((e) => /iptables|ip -batch/.test(e)), 'nothing started after the failure');
  assert.ok(lines.some((l) => l.startsWith('! apply failed; restoring')), lines.join('\n'));
});

test('ran every case', () => assert.ok(ran >= 10, `ran ${ran}`));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
