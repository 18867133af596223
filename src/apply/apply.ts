/**
 * Carries out a plan on a Host, all or nothing: run the steps in order; on any failure, or when
 * the state read back does not match the desired state, restore the snapshot taken before the
 * first step in every subsystem, and report the step, the tool's message, the payload lines and
 * the objects they came from, and whether the rollback worked.
 *
 * Never `ipvsadm -C`, never a whole-table flush, never a foreign set or chain: rollback is itself
 * a plan (snapshot as desired state) restricted to what ipvsc owns.
 */
import type { Host, CommandResult } from '../host/host.js';
import type { Change, Plan } from '../plan/types.js';
import { isEmptyPlan } from '../plan/types.js';
import { makePlan, ownsVirtualServer } from '../plan/make-plan.js';
import type { CanonicalState } from '../state/canonical.js';
import { parseSnapshot } from '../state/canonical.js';
import type { DesiredCanonical, DesiredJump } from '../state/desired.js';
import type { StateSnapshot } from '../state/snapshot.js';
import { JUMP_RULES, KUBE_CHAINS, OWNED_SET_NAMES, jumpRuleSpec } from '../model/names.js';
import { canonicalRule } from '../state/parse-iptables.js';
import { SYSCTL_NAMES } from '../host/read-state.js';
import type { LiveIptables } from '../state/types.js';
import { buildSteps } from './steps.js';
import type { Step } from './steps.js';

export interface StepFailure {
  readonly step: Step;
  readonly result: CommandResult;
}

export interface ApplyResult {
  readonly ok: boolean;
  readonly stepsRun: number;
  readonly failure?: StepFailure | { readonly verify: Plan };
  readonly rollback?: { readonly ok: boolean; readonly remaining: Plan; readonly errors: StepFailure[] };
}

export type Log = (line: string) => void;

export const isDrainProgress = (c: Change): boolean =>
  c.subsystem === 'ipvs' && c.kind === 'real-server' && ((c.action === 'delete' && c.before === 'weight 0') || (c.action === 'update' && c.after === 'weight 0'));

/** ipvsadm -R exits 0 when the kernel refuses a line; only its stderr tells. */
export function stepFailed(step: Step, r: CommandResult): boolean {
  if (r.exitCode !== 0) return true;
  return step.command.tool === 'ipvsadm' && r.stderr.trim() !== '';
}

async function readCanonical(host: Host): Promise<CanonicalState> {
  const parsed = parseSnapshot(await host.readState());
  if (!parsed.state) throw new Error(`cannot parse the node state read back: ${parsed.diags.map((d) => d.summary).join('; ')}`);
  return parsed.state;
}

export async function applyPlan(plan: Plan, desired: DesiredCanonical, snapshot: StateSnapshot, host: Host, log: Log): Promise<ApplyResult> {
  const steps = buildSteps(plan, desired);
  let run = 0;
  let failure: ApplyResult['failure'];
  for (const step of steps) {
    log(`- ${step.name}`);
    const r = await host.run(step.command);
    run++;
    if (stepFailed(step, r)) {
      failure = { step, result: r };
      break;
    }
  }
  if (!failure) {
    const after = await readCanonical(host);
    const verify = makePlan(desired, after);
    // Drains aside: a real server at weight 0 whose connections ended meanwhile (now deletable),
    // or one that gained connections, is graceful termination moving on, not a failed apply.
    const remaining = verify.changes.filter((c) => !isDrainProgress(c));
    if (remaining.length === 0) return { ok: true, stepsRun: run };
    failure = { verify: { ...verify, changes: remaining } };
  }
  log('! apply failed; restoring the state from before the apply');
  const rollback = await restoreSnapshot(snapshot, desired, host, log);
  return { ok: false, stepsRun: run, failure, rollback };
}

/** The snapshot as a desired state, restricted to what ipvsc owns. */
export function snapshotAsDesired(snap: CanonicalState, like: DesiredCanonical): DesiredCanonical {
  const families = ['IPv4', 'IPv6'] as const;
  const probe: DesiredCanonical = { ...like, families: [...families] };
  const iptables = { IPv4: ownedTables(snap.iptables.IPv4), IPv6: ownedTables(snap.iptables.IPv6) };
  const jumps: DesiredJump[] = [];
  for (const fam of families) {
    for (const j of JUMP_RULES) {
      const spec = canonicalRule(jumpRuleSpec(j), fam);
      if ((snap.iptables[fam][j.table]?.chains.get(j.from)?.rules ?? []).includes(spec)) jumps.push({ family: fam, table: j.table, from: j.from, spec, raw: jumpRuleSpec(j) });
    }
  }
  const sysctls = Object.fromEntries(Object.entries(snap.sysctls).filter(([k]) => SYSCTL_NAMES.includes(k)));
  return {
    ...snap,
    ipvs: snap.ipvs.filter((v) => ownsVirtualServer(v, probe)),
    ipsets: snap.ipsets.filter((s) => OWNED_SET_NAMES.has(s.name)),
    iptables,
    families: [...families],
    jumps,
    excludeCIDRs: like.excludeCIDRs,
    sysctlSpecs: Object.entries(sysctls).map(([name, value]) => ({ name, value })),
    sysctls,
    timeouts: snap.ipvsTimeouts ?? { tcp: 0, tcpfin: 0, udp: 0 },
  };
}

function ownedTables(t: LiveIptables): LiveIptables {
  const out: LiveIptables = {};
  for (const table of ['nat', 'filter'] as const) {
    const chains = t[table]?.chains;
    if (!chains) continue;
    out[table] = { chains: new Map([...chains].filter(([n]) => KUBE_CHAINS[table].includes(n))) };
  }
  return out;
}

async function restoreSnapshot(snapshot: StateSnapshot, like: DesiredCanonical, host: Host, log: Log): Promise<NonNullable<ApplyResult['rollback']>> {
  const parsed = parseSnapshot(snapshot);
  const target = snapshotAsDesired(parsed.state!, like);
  const errors: StepFailure[] = [];
  // Two rounds: a step that failed because of another's leftovers usually passes the second time.
  for (let round = 0; round < 2; round++) {
    const now = await readCanonical(host);
    const plan = makePlan(target, now);
    if (isEmptyPlan(plan)) break;
    for (const step of buildSteps(plan, target)) {
      log(`  rollback: ${step.name}`);
      const r = await host.run(step.command);
      if (stepFailed(step, r)) errors.push({ step, result: r });
    }
  }
  const remaining = makePlan(target, await readCanonical(host));
  return { ok: isEmptyPlan(remaining), remaining, errors };
}
