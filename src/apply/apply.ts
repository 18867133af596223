/**
 * Carries out a plan on a Host, all or nothing: run the steps (each once the steps it waits for
 * have finished, apply/steps.ts); on any failure, or when
 * what the steps touched, read back, does not match the desired state (plan/scope.ts), restore
 * the state the plan was made from in every subsystem, and report the step, the tool's message,
 * the payload lines and the objects they came from, and whether the rollback worked.
 *
 * Never `ipvsadm -C`, never a whole-table flush, never a foreign set or chain: rollback is itself
 * a plan (snapshot as desired state) restricted to what ipvsc owns.
 */
import type { Host, CommandResult } from '../host/host.js';
import type { Change, Plan, Subsystem } from '../plan/types.js';
import { isEmptyPlan } from '../plan/types.js';
import { makePlan, ownsVirtualServer } from '../plan/make-plan.js';
import type { CanonicalState } from '../state/canonical.js';
import { parseSnapshot } from '../state/canonical.js';
import type { DesiredCanonical, DesiredJump } from '../state/desired.js';
import { JUMP_RULES, KUBE_CHAINS, OWNED_SET_NAMES, jumpRuleSpec } from '../model/names.js';
import { canonicalRule } from '../state/parse-iptables.js';
import { SYSCTL_NAMES } from '../host/read-state.js';
import type { LiveIptables } from '../state/types.js';
import { buildSteps } from './steps.js';
import { ipvsReadBackMatches } from '../plan/ipvs-exact.js';
import { bySubsystem, readBackQuery, restrictDesired, restrictReadBack, touchedBy } from '../plan/scope.js';
import type { Touched } from '../plan/scope.js';
import type { Timings } from '../host/timings.js';
import { NO_TIMINGS } from '../host/timings.js';
import type { Step } from './steps.js';
import type { NodeInfo } from '../state/snapshot.js';

export interface StepFailure {
  readonly step: Step;
  readonly result: CommandResult;
  /** The step's position in the list (0-based; rollback steps leave it out). */
  readonly index?: number;
}

export interface ApplyResult {
  readonly ok: boolean;
  readonly stepsRun: number;
  /** A step that failed, a read-back that differs (`verify`), or one that could not be read (`readBack`). */
  readonly failure?: StepFailure | { readonly verify: Plan } | { readonly readBack: string };
  readonly rollback?: { readonly ok: boolean; readonly remaining: Plan; readonly errors: StepFailure[] };
}

export type Log = (line: string) => void;

export interface ApplyOptions {
  readonly timings?: Timings;
  /** buildSteps(plan, desired), when the caller has them already. */
  readonly steps?: readonly Step[];
  /**
   * The keys the plan was made on, when it was not made on the whole node (`--refresh=changed`):
   * `before` and `desired` hold only them, so the rollback reads and restores only them too
   * (restoring a partial snapshot node-wide would delete everything outside it).
   */
  readonly scope?: Touched;
}

export const isDrainProgress = (c: Change): boolean =>
  c.subsystem === 'ipvs' && c.kind === 'real-server' && ((c.action === 'delete' && c.before === 'weight 0') || (c.action === 'update' && c.after === 'weight 0'));

/** ipvsadm -R exits 0 when the kernel refuses a line; only its stderr tells. */
export function stepFailed(step: Step, r: CommandResult): boolean {
  if (r.exitCode !== 0) return true;
  return step.command.tool === 'ipvsadm' && r.stderr.trim() !== '';
}

/** The node's state: whole, or only the scope's keys (then `like` decides what a missing link means). */
async function readCanonical(host: Host, timings: Timings, what: string, scope?: { readonly touched: Touched; readonly like: DesiredCanonical; readonly node: NodeInfo }): Promise<CanonicalState> {
  if (scope) {
    const snap = await timings.phase(`${what}: read the node state (the plan's keys)`, () => host.readState(readBackQuery(scope.touched, scope.like)));
    return timings.phaseSync(`${what}: parse the node state`, () => restrictReadBack(snap, scope.touched, scope.like, scope.node));
  }
  const snap = await timings.phase(`${what}: read the node state`, () => host.readState());
  const parsed = timings.phaseSync(`${what}: parse the node state`, () => parseSnapshot(snap));
  if (!parsed.state) throw new Error(`cannot parse the node state read back: ${parsed.diags.map((d) => d.summary).join('; ')}`);
  return parsed.state;
}

/**
 * Runs the plan's steps and reads back what they touched. `before` is the state the plan was made
 * from (read under the apply lock, or re-read and checked after a prompt): on failure it is what
 * the rollback restores.
 *
 * Each subsystem is read back as soon as its last step has run, while the next steps run (a set
 * read-back overlaps `ipvsadm -R`, the IPVS one the address and iptables steps): nothing after
 * that step changes it, so the read-back is exact, and it costs no time of its own when other
 * steps are still to run.
 */
export async function applyPlan(plan: Plan, desired: DesiredCanonical, before: CanonicalState, host: Host, log: Log, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const timings = opts.timings ?? NO_TIMINGS;
  const steps = opts.steps ?? timings.phaseSync('apply: build the steps', () => buildSteps(plan, desired));
  const parts = bySubsystem(touchedBy(plan.changes));
  /** Per subsystem, how many of its steps are still to finish. */
  const pending = new Map<Subsystem, number>();
  // (no intermediate array: a full 10k apply's IPVS steps carry 140k changes)
  const subsystemsOf = steps.map((s) => {
    const subs = new Set<Subsystem>();
    for (const c of s.changes) subs.add(c.subsystem);
    return subs;
  });
  for (const subs of subsystemsOf) for (const sub of subs) pending.set(sub, (pending.get(sub) ?? 0) + 1);
  const readBacks: Promise<ReadBack>[] = [];
  const readBack = (sub: Subsystem): void => {
    const t = parts.get(sub);
    // Settled at once (never rejects): a later failing step must not leave a rejection unhandled.
    if (t) readBacks.push(readBackPart(sub, t, desired, before, host, timings).then((changes) => ({ changes }), (e: unknown) => ({ error: (e as Error).message })));
  };
  let run = 0;
  let failure: ApplyResult['failure'];
  // Each step starts once the steps it waits for have finished (steps.ts: IPVS alongside the
  // sets and rules, addresses alongside the next IPVS chunk); after a failure none starts, and
  // the running ones are waited for before the rollback.
  const finished = new Set<number>();
  const running = new Map<number, Promise<void>>();
  let next = 0;
  const start = (i: number): void => {
    const step = steps[i]!;
    log(`- ${step.name}`);
    // A host that throws (a wrapper's bug, not a tool's failure) fails the step like a tool
    // would, so the steps running alongside are waited for and the rollback still runs.
    const ran = timings.phase(`apply: step ${i + 1}: ${step.name}`, () => host.run(step.command))
      .catch((e: unknown): CommandResult => ({ exitCode: 127, stdout: '', stderr: `cannot run the step: ${(e as Error).message}` }));
    running.set(i, ran.then((r) => {
      running.delete(i);
      finished.add(i);
      run++;
      if (stepFailed(step, r)) {
        failure ??= { step, result: r, index: i };
        return;
      }
      for (const sub of subsystemsOf[i]!) {
        const left = pending.get(sub)! - 1;
        pending.set(sub, left);
        if (left === 0 && !failure) readBack(sub);
      }
    }));
  };
  for (;;) {
    if (!failure) {
      // In step order: a step whose dependencies are done, and every later one that is ready too.
      for (let i = next; i < steps.length; i++) {
        if (running.has(i) || finished.has(i) || !steps[i]!.after.every((d) => finished.has(d))) continue;
        start(i);
      }
      while (next < steps.length && (running.has(next) || finished.has(next))) next++;
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (!failure && finished.size < steps.length) throw new Error('apply: steps left that wait for steps that never run');
  if (!failure) {
    // Touched subsystems no step changed (nothing to wait for) are read back now.
    for (const sub of parts.keys()) if (!pending.has(sub)) readBack(sub);
    const results = await timings.phase('verify: wait for the read-backs', () => Promise.all(readBacks));
    const error = results.find((x): x is { error: string } => 'error' in x);
    // Drains aside: a real server at weight 0 whose connections ended meanwhile (now deletable),
    // or one that gained connections, is graceful termination moving on, not a failed apply.
    const remaining = results.flatMap((x) => ('changes' in x ? x.changes : [])).filter((c) => !isDrainProgress(c));
    if (error) failure = { readBack: error.error };
    else if (remaining.length === 0) return { ok: true, stepsRun: run };
    else failure = { verify: { ...plan, changes: remaining, draining: [], summary: summaryOf(remaining) } };
  } else {
    await Promise.all(readBacks); // the rollback reads the node after them, not during
  }
  log('! apply failed; restoring the state from before the apply');
  const rollback = await timings.phase('rollback', () => restoreSnapshot(before, desired, host, log, timings, opts.scope));
  return { ok: false, stepsRun: run, failure, rollback };
}

type ReadBack = { readonly changes: readonly Change[] } | { readonly error: string };

/** What still differs among one subsystem's touched keys, read back from the node. */
async function readBackPart(sub: Subsystem, t: Touched, desired: DesiredCanonical, before: CanonicalState, host: Host, timings: Timings): Promise<readonly Change[]> {
  const snap = await timings.phase(`verify ${sub}: read back`, () => host.readState(readBackQuery(t, desired, { afterSteps: true })));
  const want = restrictDesired(desired, t);
  // A whole-table IPVS read-back (through /proc/net/ip_vs) that holds the services line for line
  // needs no parse and diff (plan/ipvs-exact.ts); any other answer gets them.
  const save = sub === 'ipvs' && snap['ipvsadm.list'] === undefined ? snap['ipvsadm.save'] : undefined;
  if (save !== undefined && timings.phaseSync('verify ipvs: compare line for line', () => ipvsReadBackMatches(save, want.ipvs, t.ipvs.values()))) return [];
  return timings.phaseSync(`verify ${sub}: parse and compare`, () => makePlan(want, restrictReadBack(snap, t, desired, before.node)).changes);
}

const summaryOf = (changes: readonly Change[]): Plan['summary'] => ({
  add: changes.filter((c) => c.action === 'create').length,
  change: changes.filter((c) => c.action === 'update').length,
  destroy: changes.filter((c) => c.action === 'delete').length,
});

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

async function restoreSnapshot(before: CanonicalState, like: DesiredCanonical, host: Host, log: Log, timings: Timings, touched?: Touched): Promise<NonNullable<ApplyResult['rollback']>> {
  const target = snapshotAsDesired(before, like);
  const scope = touched && { touched, like: target, node: before.node };
  const errors: StepFailure[] = [];
  // Two rounds: a step that failed because of another's leftovers usually passes the second time.
  for (let round = 0; round < 2; round++) {
    const now = await readCanonical(host, timings, 'rollback', scope);
    const plan = makePlan(target, now);
    if (isEmptyPlan(plan)) break;
    for (const step of buildSteps(plan, target)) {
      log(`  rollback: ${step.name}`);
      const r = await host.run(step.command);
      if (stepFailed(step, r)) errors.push({ step, result: r });
    }
  }
  const remaining = makePlan(target, await readCanonical(host, timings, 'rollback check', scope));
  return { ok: isEmptyPlan(remaining), remaining, errors };
}
