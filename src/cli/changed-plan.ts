/**
 * `plan|apply --refresh=changed`: a plan of only the keys whose desired state changed since the
 * last successful apply on this node (cli/applied-record.ts), made against the node read for
 * those keys only (plan/changed-keys.ts, plan/scope.ts). When the record cannot vouch for the
 * node (none, another boot, another node or version, ownership changed), the caller plans on the
 * whole node instead and says why.
 */
import type { ParsedArgs } from './args.js';
import { flagValue } from './args.js';
import type { Io } from './context.js';
import { ipvscVersion } from './context.js';
import type { Diagnostic } from '../diag/diagnostic.js';
import type { Host } from '../host/host.js';
import type { Timings } from '../host/timings.js';
import { loadDesired } from './desired.js';
import { manifestFields } from './manifest.js';
import { readAppliedRecord } from './applied-record.js';
import { changedKeys, cutToTouched } from '../plan/changed-keys.js';
import { readBackQuery, restrictDesired, restrictReadBack } from '../plan/scope.js';
import { desiredFromArtifacts } from '../state/desired.js';
import { parseSnapshot } from '../state/canonical.js';
import { makePlan } from '../plan/make-plan.js';
import type { NodeInfo } from '../state/snapshot.js';
import type { Planned } from './commands/plan.js';

export type ChangedPlan = Planned | { readonly diags: Diagnostic[] } | { readonly fullRefreshBecause: string };

export async function computeChangedPlan(args: ParsedArgs, io: Io, host: Host, timings: Timings, dir: string, nodeName: string): Promise<ChangedPlan> {
  const rec = timings.phaseSync('plan: read the record of the last apply', () => readAppliedRecord(dir));
  if ('missing' in rec) return { fullRefreshBecause: rec.missing };
  if (rec.meta.ipvsc !== ipvscVersion()) return { fullRefreshBecause: `the last apply was made by ipvsc ${rec.meta.ipvsc}` };
  // With -f the compile needs the node's interfaces (NodePort addresses); with --from only the
  // boot id: the same boot runs the same kernel as the record says.
  const compiles = flagValue(args, 'from') === undefined;
  const first = await timings.phase('plan: read the boot id', () => host.readState({ files: compiles ? ['boot_id', 'node.json'] : ['boot_id'] }));
  const bootId = first['boot_id']?.trim();
  if (!bootId) return { fullRefreshBecause: 'the kernel\'s boot id cannot be read' };
  if (bootId !== rec.meta.bootId) return { fullRefreshBecause: 'the node rebooted since the last apply' };
  const parsedNode = parseSnapshot(first);
  if (!parsedNode.state) return { diags: parsedNode.diags };
  const node: NodeInfo = compiles ? parsedNode.state.node : { name: nodeName, bootId, ...(rec.meta.kernel ? { kernel: rec.meta.kernel } : {}) };

  const desired = await timings.phase(compiles ? 'plan: compile the inputs' : 'plan: read the compiled artifacts (--from)', () => loadDesired(args, io, node));
  if (!('artifacts' in desired)) return { diags: desired.diags };
  const next = { artifacts: desired.artifacts, manifest: desired.model ? manifestFields(desired.model) : desired.manifest };
  const changed = timings.phaseSync('plan: keys changed since the last apply', () => changedKeys(rec, next));
  if ('fullRefreshBecause' in changed) return changed;
  const scope = changed.touched;
  const desiredState = timings.phaseSync('plan: parse the changed keys\' artifact lines', () => {
    const cut = cutToTouched(next, scope);
    return restrictDesired(desiredFromArtifacts(cut.artifacts, cut.manifest), scope);
  });
  let live;
  try {
    const snap = await timings.phase('plan: read the changed keys on the node', () => host.readState(readBackQuery(scope, desiredState)));
    live = timings.phaseSync('plan: parse them', () => restrictReadBack(snap, scope, desiredState, node));
  } catch (e) {
    return { fullRefreshBecause: `reading the changed keys failed (${(e as Error).message})` };
  }
  const plan = timings.phaseSync('plan: diff (makePlan)', () => makePlan(desiredState, live, { origins: desired.origins }));
  return { plan, desired, desiredState, live, host, scope };
}
