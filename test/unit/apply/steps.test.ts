/** The order of apply's commands (apply/steps.ts), checked without a kernel. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { parseArgs } from '../../../src/cli/args.js';
import { computePlan } from '../../../src/cli/commands/plan.js';
import { buildSteps } from '../../../src/apply/steps.js';
import { readFlags } from '../../helpers/cases.js';
import { PLANS, SimHost } from '../../helpers/sim-host.js';

const io = { cwd: PLANS, env: {}, stdout: () => undefined, stderr: () => undefined, readStdin: () => Buffer.from(''), isTTY: false };

test('an empty node: one sysctl command, the link, sets, IPVS, iptables, and only then the addresses', async () => {
  const c = '01-empty-node';
  const p = await computePlan(parseArgs(['plan', '-f', join(PLANS, c, 'input'), ...readFlags(join(PLANS, c))]), io, new SimHost(() => ({})));
  if (!('plan' in p)) throw new Error('cannot plan');
  const steps = buildSteps(p.plan, p.desiredState);
  assert.equal(steps.map((s) => `${s.command.tool} ${s.command.args[0] ?? ''}`), [
    'sysctl -w', 'ip link', 'ipset restore', 'ipvsadm -R', 'iptables-restore -w', 'iptables-restore -w', 'ip -batch',
  ]);
  const sysctl = steps[0]!;
  assert.equal(sysctl.command.args, ['-w', 'net.ipv4.vs.conntrack=1', 'net.ipv4.vs.expire_nodest_conn=1', 'net.ipv4.vs.expire_quiescent_template=1', 'net.ipv4.ip_forward=1']);
  assert.is(sysctl.changes.length, 4);
  // Every change is carried out by exactly one step.
  assert.is(steps.reduce((n, s) => n + s.changes.length, 0), p.plan.changes.length);
});

test.run();
