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
import { desiredFromArtifacts, desiredFromModel } from '../../state/desired.js';
import type { DesiredCanonical } from '../../state/desired.js';
import { makePlan } from '../../plan/make-plan.js';
import type { Plan } from '../../plan/types.js';
import { formatPlanText, planToJson } from '../../plan/format.js';
import { writeFilesAtomically } from '../write-outputs.js';
import { manifestFields } from '../manifest.js';
import { dirname, basename } from 'node:path';

export interface Planned {
  readonly plan: Plan;
  readonly desired: Desired;
  readonly desiredState: DesiredCanonical;
  /** The node's state the plan was computed from (apply's rollback snapshot, under the lock). */
  readonly live: CanonicalState;
  readonly host: Host;
}

export function hostFor(args: ParsedArgs, io: Io, nodeName: string, timings: Timings = NO_TIMINGS): Host {
  const state = flagValue(args, 'state');
  if (state) return RecordedHost.fromDir(resolve(io.cwd, state));
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new UsageError('reading the node\'s kernel state needs root (CAP_NET_ADMIN)', 'run as root, or plan offline against a saved state with --state DIR (ipvsc state save DIR on the node)');
  }
  return deferredLiveHost(nodeName, timings);
}

/**
 * A LiveHost, loaded on first use: its module (execa) costs more to import than a plan of a
 * recorded 10k-Service state takes to compute, and `--state DIR` never needs it.
 */
function deferredLiveHost(nodeName: string, timings: Timings): Host {
  let host: Promise<Host> | undefined;
  const get = (): Promise<Host> => (host ??= import('../../host/live-host.js').then((m) => new m.LiveHost(nodeName, {}, timings)));
  return {
    readState: async (query) => (await get()).readState(query),
    run: async (cmd) => (await get()).run(cmd),
  };
}

/** Reads state, compiles, plans. Returns diagnostics instead when the inputs are invalid. */
export async function computePlan(args: ParsedArgs, io: Io, host?: Host, timings: Timings = NO_TIMINGS): Promise<Planned | { diags: Diagnostic[] }> {
  const nodeName = (args.kubeProxy.find((f) => f.name === 'hostname-override')?.value ?? '').toLowerCase();
  const h = host ?? hostFor(args, io, nodeName, timings);
  const snap = await timings.phase('plan: read the node state', () => h.readState());
  const parsed = timings.phaseSync('plan: parse the node state', () => parseSnapshot(snap));
  if (!parsed.state) return { diags: parsed.diags };
  const live = parsed.state;
  const desired = await timings.phase(flagValue(args, 'from') ? 'plan: read the compiled artifacts (--from)' : 'plan: compile the inputs', () => loadDesired(args, io, live.node));
  if (!('artifacts' in desired)) return { diags: desired.diags };
  const desiredState = desired.model
    ? timings.phaseSync('plan: desired state from the compiled model', () => desiredFromModel(desired.model!, desired.artifacts, manifestFields(desired.model!)))
    : timings.phaseSync('plan: parse the desired artifacts (--from)', () => desiredFromArtifacts(desired.artifacts, desired.manifest));
  const plan = timings.phaseSync('plan: diff (makePlan)', () => makePlan(desiredState, live, { origins: desired.origins }));
  return { plan, desired, desiredState, live, host: h };
}

export async function runPlan(args: ParsedArgs, io: Io): Promise<number> {
  const r = await computePlan(args, io, undefined, timingsFromEnv(io.env, io.stderr));
  if (!('plan' in r)) {
    printDiagnostics(r.diags, args, io);
    return EXIT.invalid;
  }
  printDiagnostics(r.desired.diags, args, io);
  const { plan } = r;
  if (flagSet(args, 'json')) io.stdout(JSON.stringify(planToJson(plan), null, 2) + '\n');
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
  return JSON.stringify({ ...planToJson(r.plan), kind: 'ipvsc-plan', artifacts: r.desired.artifacts, manifest: r.desired.manifest }, null, 2) + '\n';
}
