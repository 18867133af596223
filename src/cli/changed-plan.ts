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
  // With -f the compile needs the node's interfaces (NodePort addresses); with --from only the
  // boot id: the same boot runs the same kernel as the record says. The read starts now and runs
  // while the record is read and compared (a process start costs ~0.5 s under the VM's TCG).
  const compiles = flagValue(args, 'from') === undefined;
  const first = timings.phase('plan: read the boot id', () => host.readState({ files: compiles ? ['boot_id', 'node.json'] : ['boot_id'] }));
  first.catch(() => undefined); // awaited below unless the record is unusable: never unhandled
  const rec = timings.phaseSync('plan: read the record of the last apply', () => readAppliedRecord(dir));
  if ('missing' in rec) return { fullRefreshBecause: rec.missing };
  if (rec.meta.ipvsc !== ipvscVersion()) return { fullRefreshBecause: `the last apply was made by ipvsc ${rec.meta.ipvsc}` };
  const sameBoot = async (): Promise<{ node: NodeInfo } | { fullRefreshBecause: string } | { diags: Diagnostic[] }> => {
    const snap = await first;
    const bootId = snap['boot_id']?.trim();
    if (!bootId) return { fullRefreshBecause: 'the kernel\'s boot id cannot be read' };
    if (bootId !== rec.meta.bootId) return { fullRefreshBecause: 'the node rebooted since the last apply' };
    if (!compiles) return { node: { name: nodeName, bootId, ...(rec.meta.kernel ? { kernel: rec.meta.kernel } : {}) } };
    const parsed = parseSnapshot(snap);
    return parsed.state ? { node: parsed.state.node } : { diags: parsed.diags };
  };
  // -f: the compile needs the node first. --from: the node is checked once the keys are known.
  let checked = compiles ? await sameBoot() : undefined;
  if (checked && !('node' in checked)) return checked;

  const desired = await timings.phase(compiles ? 'plan: compile the inputs' : 'plan: read the compiled artifacts (--from)', () => loadDesired(args, io, checked && 'node' in checked ? checked.node : { name: nodeName }));
  if (!('artifacts' in desired)) return { diags: desired.diags };
  const next = { artifacts: desired.artifacts, manifest: desired.model ? manifestFields(desired.model) : desired.manifest };
  const changed = timings.phaseSync('plan: keys changed since the last apply', () => changedKeys(rec, next));
  if ('fullRefreshBecause' in changed) return changed;
  const scope = changed.touched;
  const desiredState = timings.phaseSync('plan: parse the changed keys\' artifact lines', () => {
    const cut = cutToTouched(next, scope);
    return restrictDesired(desiredFromArtifacts(cut.artifacts, cut.manifest), scope);
  });
  // The changed keys are read while the boot id is checked: a read of a node that rebooted is
  // thrown away, never planned from.
  const reading = timings.phase('plan: read the changed keys on the node', () => host.readState(readBackQuery(scope, desiredState)));
  reading.catch(() => undefined);
  checked ??= await sameBoot();
  if (!('node' in checked)) return checked;
  const nodeInfo = checked.node;
  let live;
  try {
    const snap = await reading;
    live = timings.phaseSync('plan: parse them', () => restrictReadBack(snap, scope, desiredState, nodeInfo));
  } catch (e) {
    return { fullRefreshBecause: `reading the changed keys failed (${(e as Error).message})` };
  }
  const plan = timings.phaseSync('plan: diff (makePlan)', () => makePlan(desiredState, live, { origins: desired.origins }));
  return { plan, desired, desiredState, live, host, scope };
}
