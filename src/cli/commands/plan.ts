/** `ipvsc plan`: desired versus the node's state (live, or a saved directory), as a plan. */
import { resolve } from 'node:path';
import { UsageError } from '../../diag/diagnostic.js';
import type { Diagnostic } from '../../diag/diagnostic.js';
import type { ParsedArgs } from '../args.js';
import { flagSet, flagValue } from '../args.js';
import type { Io } from '../context.js';
import { EXIT } from '../context.js';
import { printDiagnostics } from '../print-diagnostics.js';
import { loadDesired } from '../desired.js';
import type { Desired } from '../desired.js';
import type { Host } from '../../host/host.js';
import type { Timings } from '../../host/timings.js';
import { NO_TIMINGS, timingsFromEnv } from '../../host/timings.js';
import { RecordedHost } from '../../host/recorded-host.js';
import { parseSnapshot } from '../../state/canonical.js';
import type { CanonicalState } from '../../state/canonical.js';
import type { NodeInfo } from '../../state/snapshot.js';
import { desiredFromArtifacts, desiredFromModel, destroyDesired } from '../../state/desired.js';
import type { DesiredCanonical } from '../../state/desired.js';
import { makePlan } from '../../plan/make-plan.js';
import type { Plan } from '../../plan/types.js';
import { formatPlanText, planToJson } from '../../plan/format.js';
import { writeFilesAtomically } from '../write-outputs.js';
import { manifestFields } from '../manifest.js';
import { dirname, basename } from 'node:path';
import type { Touched } from '../../plan/scope.js';
import { DEFAULT_APPLIED_DIR, readAppliedRecord } from '../applied-record.js';

export interface Planned {
  readonly plan: Plan;
  readonly desired: Desired;
  readonly desiredState: DesiredCanonical;
  /** The node's state the plan was computed from (apply's rollback snapshot, under the lock). */
  readonly live: CanonicalState;
  readonly host: Host;
  /**
   * With `--refresh=changed`: the keys the plan was made on. `desiredState` and `live` then hold
   * only them; the rest of the node was not read.
   */
  readonly scope?: Touched;
}

export type Refresh = 'full' | 'changed';

export function refreshOf(args: ParsedArgs): Refresh {
  const r = flagValue(args, 'refresh') ?? 'full';
  if (r !== 'full' && r !== 'changed') throw new UsageError(`--refresh must be full or changed, not ${JSON.stringify(r)}`, 'full reads the whole node (drift repair); changed reads only what changed since the last apply');
  return r;
}

/**
 * Where the record of the last apply lives: --applied-dir, else $IPVSC_APPLIED_DIR, else the
 * default on a live node (a recorded node, --state, has none unless given one).
 */
export function appliedDirOf(args: ParsedArgs, io: Io): string | undefined {
  const dir = flagValue(args, 'applied-dir') ?? io.env['IPVSC_APPLIED_DIR'];
  if (dir) return resolve(io.cwd, dir);
  return flagValue(args, 'state') === undefined ? DEFAULT_APPLIED_DIR : undefined;
}

/**
 * The node to read: a recorded one (--state DIR), or the live one. The live host's module is
 * loaded here, before anything is asked of it, so that its first reads start at once, even when
 * the caller goes on with synchronous work (plan --from parses the artifacts meanwhile); and only
 * here: `--state DIR` never loads it.
 */
export async function hostFor(args: ParsedArgs, io: Io, nodeName: string, timings: Timings = NO_TIMINGS): Promise<Host> {
  const state = flagValue(args, 'state');
  if (state) return RecordedHost.fromDir(resolve(io.cwd, state));
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new UsageError('reading the node\'s kernel state needs root (CAP_NET_ADMIN)', 'run as root, or plan offline against a saved state with --state DIR (ipvsc state save DIR on the node)');
  }
  const { LiveHost } = await import('../../host/live-host.js');
  return new LiveHost(nodeName, {}, timings);
}

/** Reads state, compiles, plans. Returns diagnostics instead when the inputs are invalid. */
export async function computePlan(args: ParsedArgs, io: Io, host?: Host, timings: Timings = NO_TIMINGS): Promise<Planned | { diags: Diagnostic[] }> {
  const nodeName = (args.kubeProxy.find((f) => f.name === 'hostname-override')?.value ?? '').toLowerCase();
  const destroy = flagSet(args, 'destroy');
  if (destroy && refreshOf(args) === 'changed') {
    throw new UsageError('--destroy reads the whole node: it cannot be combined with --refresh=changed', 'drop --refresh=changed');
  }
  const h = host ?? (await hostFor(args, io, nodeName, timings));
  if (refreshOf(args) === 'changed') {
    const dir = appliedDirOf(args, io);
    if (!dir) throw new UsageError('--refresh=changed needs the record of the last apply: with --state, give --applied-dir DIR');
    const { computeChangedPlan } = await import('../changed-plan.js');
    const r = await computeChangedPlan(args, io, h, timings, dir, nodeName);
    if (!('fullRefreshBecause' in r)) {
      if ('plan' in r) io.stderr(`Refreshed only what changed since the last apply (--refresh=changed): ${describeScope(r.scope!)}; drift elsewhere is not read (a full refresh repairs it).\n`);
      return r;
    }
    io.stderr(`--refresh=changed: ${r.fullRefreshBecause}; reading the whole node.\n`);
  }
  const reading = timings.phase('plan: read the node state', () => h.readState());
  // Awaited below; a usage error thrown before that (a bad --from) must not leave it unhandled.
  reading.catch(() => undefined);
  // --from: compiled artifacts do not depend on the node (a compile learns NodePort addresses from
  // its interfaces), so they are read and parsed while the node's tools run: at 10k Services in
  // the VM, ~1 s of reads behind ~3 s of parsing.
  const early = flagValue(args, 'from') ? await desiredOf(args, io, undefined, timings) : undefined; // (as loadDesired tells)
  const snap = await reading;
  const parsed = timings.phaseSync('plan: parse the node state', () => parseSnapshot(snap));
  if (!parsed.state) return { diags: parsed.diags };
  const live = parsed.state;
  const d = early ?? (await desiredOf(args, io, live.node, timings));
  if ('diags' in d) return { diags: d.diags };
  const { desired, desiredState } = d;
  if (destroy) {
    refuseOtherOwnership(args, io, desiredState);
    io.stderr(`--destroy: planning the removal of everything ipvsc owns on this node${desiredState.excludeCIDRs.length ? ` (kept: what --ipvs-exclude-cidrs ${desiredState.excludeCIDRs.join(',')} covers)` : ''}; fwmark services and foreign chains and sets are never touched.\n`);
  }
  const plan = timings.phaseSync('plan: diff (makePlan)', () => makePlan(desiredState, live, { origins: desired.origins }));
  return { plan, desired, desiredState, live, host: h };
}

/** The inputs compiled (for this node), or the artifacts of --from read, and the state they describe. */
async function desiredOf(args: ParsedArgs, io: Io, node: NodeInfo | undefined, timings: Timings): Promise<{ desired: Desired; desiredState: DesiredCanonical } | { diags: Diagnostic[] }> {
  const desired = await timings.phase(node ? 'plan: compile the inputs' : 'plan: read the compiled artifacts (--from)', () => loadDesired(args, io, node ?? { name: '' })); // (--from reads no node)
  if (!('artifacts' in desired)) return { diags: desired.diags };
  if (flagSet(args, 'destroy')) return destroying(desired);
  const desiredState = desired.model
    ? timings.phaseSync('plan: desired state from the compiled model', () => desiredFromModel(desired.model!, desired.artifacts, manifestFields(desired.model!)))
    : timings.phaseSync('plan: parse the desired artifacts (--from)', () => desiredFromArtifacts(desired.artifacts, desired.manifest));
  return { desired, desiredState };
}

/**
 * --destroy needs no input, so forgetting `--ipvs-exclude-cidrs` (or the --config that sets it)
 * is easy, and would destroy what the last apply left alone, keepalived's VIPs say. When the
 * record of the last apply says it ran with other exclude CIDRs, refuse.
 */
function refuseOtherOwnership(args: ParsedArgs, io: Io, desired: DesiredCanonical): void {
  const dir = appliedDirOf(args, io);
  const rec = dir === undefined ? undefined : readAppliedRecord(dir);
  if (!rec || 'missing' in rec) return;
  const norm = (xs: readonly string[]): string => [...xs].sort().join(',');
  const was = norm(rec.manifest.excludeCIDRs ?? []);
  if (was === norm(desired.excludeCIDRs)) return;
  throw new UsageError(
    `the last apply on this node ran with --ipvs-exclude-cidrs ${JSON.stringify(was)}, this --destroy with ${JSON.stringify(norm(desired.excludeCIDRs))}: it would remove what that apply left alone, or keep what it owned`,
    'give --destroy the same configuration as the applies (--config FILE, or the same --ipvs-exclude-cidrs)',
  );
}

/**
 * --destroy: the inputs (if any) were read and checked, and give the node's name and the
 * ownership settings; their Services are not wanted. A node without Services is what --destroy
 * asks for, so the warning about one is dropped.
 */
function destroying(d: Desired): { desired: Desired; desiredState: DesiredCanonical } {
  const desired: Desired = {
    artifacts: d.artifacts,
    get manifest() { return d.manifest; },
    ...(d.model ? { model: d.model } : {}),
    origins: d.origins,
    diags: d.diags.filter((x) => x.code !== 'INPUT_NO_OBJECTS'),
  };
  return { desired, desiredState: destroyDesired(d.model ? manifestFields(d.model) : d.manifest) };
}

/** `2 virtual service(s), 3 set entries, 1 address, 1 table` */
function describeScope(t: Touched): string {
  let entries = 0;
  for (const name of t.ipsets) entries += t.entries.get(name)?.size ?? 0;
  const whole = [...t.ipsets].filter((n) => !t.entries.has(n)).length;
  const parts = [`${t.ipvs.size} virtual service(s)`, `${entries} set entr${entries === 1 ? 'y' : 'ies'}`, whole ? `${whole} whole set(s)` : '', `${t.addresses.size} address(es) on kube-ipvs0`, t.tables.size ? `${t.tables.size} iptables table(s)` : ''];
  return parts.filter((p) => p !== '').join(', ');
}

export async function runPlan(args: ParsedArgs, io: Io): Promise<number> {
  if (flagValue(args, 'out') !== undefined && refreshOf(args) === 'changed') {
    throw new UsageError('a saved plan (-out) is checked against the whole node when applied: it cannot be made with --refresh=changed', 'drop --refresh=changed, or apply directly with ipvsc apply --refresh=changed');
  }
  const r = await computePlan(args, io, undefined, timingsFromEnv(io.env, io.stderr));
  if (!('plan' in r)) {
    printDiagnostics(r.diags, args, io);
    return EXIT.invalid;
  }
  printDiagnostics(r.desired.diags, args, io);
  const { plan } = r;
  if (flagSet(args, 'json')) io.stdout(JSON.stringify(planToJson(plan, r.scope), null, 2) + '\n');
  else io.stdout(formatPlanText(plan, io.isTTY && !flagSet(args, 'no-color') && io.env['NO_COLOR'] === undefined));
  const out = flagValue(args, 'out');
  if (out) {
    const path = resolve(io.cwd, out);
    writeFilesAtomically(dirname(path), { [basename(path)]: savedPlanText(r) }, [], 0o600);
    io.stderr(`saved the plan to ${out}; apply it with: ipvsc apply ${out}\n`);
  }
  if (flagSet(args, 'detailed-exitcode') && plan.changes.length > 0) return EXIT.changes;
  return EXIT.ok;
}

/** A saved plan carries the artifacts and the digest of the state it was made against. */
export function savedPlanText(r: Planned): string {
  return JSON.stringify({ ...planToJson(r.plan), kind: 'ipvsc-plan', ...(r.desiredState.destroy ? { destroy: true } : {}), artifacts: r.desired.artifacts, manifest: r.desired.manifest }, null, 2) + '\n';
}
