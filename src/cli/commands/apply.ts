/**
 * `ipvsc apply`: plan, then carry the plan out atomically with rollback (apply/apply.ts).
 * `ipvsc apply PLANFILE` applies a saved plan only if the node has not moved since it was made.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { UsageError } from '../../diag/diagnostic.js';
import type { ParsedArgs } from '../args.js';
import { flagSet, flagValue, flagValues } from '../args.js';
import type { Io } from '../context.js';
import { EXIT } from '../context.js';
import { printDiagnostics } from '../print-diagnostics.js';
import { appliedDirOf, computePlan, hostFor } from './plan.js';
import type { Planned } from './plan.js';
import { writePlanText } from '../../plan/format.js';
import { isEmptyPlan } from '../../plan/types.js';
import { buildSteps } from '../../apply/steps.js';
import { applyPlan } from '../../apply/apply.js';
import type { ApplyResult } from '../../apply/apply.js';
import { commandText } from '../../host/host.js';
import type { Host } from '../../host/host.js';
import { parseDuration } from '../../config/flags.js';
import { acquireLock } from '../lock.js';
import type { Timings } from '../../host/timings.js';
import { timingsFromEnv } from '../../host/timings.js';
import { FaultHost, parseFault } from '../../host/fault-host.js';
import { parseSnapshot } from '../../state/canonical.js';
import { desiredFromArtifacts, destroyDesired } from '../../state/desired.js';
import { makePlan, ownedStateDigest } from '../../plan/make-plan.js';
import type { CanonicalState } from '../../state/canonical.js';
import type { Artifacts } from '../../render/render.js';
import type { Manifest } from '../manifest.js';
import { forgetAppliedRecord, recordsAlready, writeAppliedRecord } from '../applied-record.js';
import type { AppliedMeta } from '../applied-record.js';
import { ipvscVersion } from '../context.js';
import { readBackQuery, restrictReadBack } from '../../plan/scope.js';

export async function runApply(args: ParsedArgs, io: Io, host?: Host): Promise<number> {
  const planFile = args.positionals[0];
  if (planFile && (flagSet(args, 'destroy') || flagValues(args, 'filename').length > 0 || flagValue(args, 'from') !== undefined)) {
    throw new UsageError(`a saved plan carries what it applies: ${planFile} cannot be combined with --destroy, -f or --from`, `apply it as saved (ipvsc apply ${planFile}), or plan again with ipvsc plan … -out FILE`);
  }
  const dryRun = flagSet(args, 'dry-run');
  const timings = timingsFromEnv(io.env, io.stderr);
  timings.note('apply: start (node start-up and module loading)');
  const release = dryRun || flagValue(args, 'state') ? () => undefined : await lock(args, io);
  try {
    const planned = planFile ? await fromSavedPlan(planFile, args, io, host, timings) : await computePlan(args, io, host, timings);
    if (!('plan' in planned)) {
      printDiagnostics(planned.diags, args, io);
      return EXIT.invalid;
    }
    const colour = io.isTTY && !flagSet(args, 'no-color') && io.env['NO_COLOR'] === undefined;
    writePlanText(planned.plan, colour, io.stdout);
    const appliedDir = dryRun ? undefined : appliedDirOf(args, io);
    const destroy = planned.desiredState.destroy === true;
    if (isEmptyPlan(planned.plan)) {
      // After --destroy the node holds nothing a record could describe (--refresh=changed would
      // trust one and read only changed keys): no record.
      if (appliedDir && destroy) forgetAppliedRecord(appliedDir);
      else if (appliedDir) record(appliedDir, planned, io, true);
      return EXIT.ok;
    }
    // An empty or truncated input would delete every Service of the node: refuse unless asked.
    // (With --refresh=changed desiredState holds only the changed keys: ask the artifacts.)
    const desiresNone = planned.scope ? !/^-A /m.test(planned.desired.artifacts['ipvsadm.restore']) : planned.desiredState.ipvs.length === 0;
    const deletesAll = desiresNone && planned.plan.changes.some((c) => c.subsystem === 'ipvs' && c.kind === 'virtual-server' && c.action === 'delete');
    if (deletesAll && !destroy && !flagSet(args, 'allow-empty')) {
      throw new UsageError('refusing to delete every virtual server on the node: the input has no Service', 'check the -f paths; pass --allow-empty if the node really should serve nothing');
    }
    const steps = timings.phaseSync('apply: build the steps', () => buildSteps(planned.plan, planned.desiredState));
    if (dryRun) {
      io.stdout('\nDry run: these commands would run, in this order (payloads on stdin; a step marked "after" waits only for the steps it names, and runs alongside the ones in between):\n');
      steps.forEach((s, i) => {
        const after = s.after.length === 1 && s.after[0] === i - 1 ? '' : s.after.length ? `  (after ${s.after.map((d) => d + 1).join(', ')})` : i > 0 ? '  (waits for no step)' : '';
        io.stdout(`\n# ${i + 1}. ${s.name}${after}\n${commandText(s.command)}${s.command.input !== undefined ? ` <<'EOF'\n${s.command.input}EOF` : ''}\n`);
      });
      return EXIT.ok;
    }
    const prompt = io.isTTY && !flagSet(args, 'auto-approve');
    if (prompt && !(await confirm(io))) {
      io.stderr('Apply cancelled.\n');
      return EXIT.ok;
    }
    // Under the lock, the state the plan was made from is the rollback snapshot. After a prompt
    // (minutes may pass) the node is read again and the plan refused if its owned state moved.
    const before = prompt ? await timings.phase('apply: re-read the node state after the prompt', () => unchangedSince(planned)) : planned.live;
    const fault = parseFault(io.env['IPVSC_TEST_FAULT']);
    const target = fault ? new FaultHost(planned.host, fault, () => process.kill(process.pid, 'SIGKILL')) : planned.host;
    // No record outlives an apply that changes the node: written again only if this one succeeds.
    if (appliedDir) forgetAppliedRecord(appliedDir);
    const result = await applyPlan(planned.plan, planned.desiredState, before, target, (l) => io.stderr(l + '\n'), { timings, steps, ...(planned.scope ? { scope: planned.scope } : {}) });
    if (result.ok && appliedDir && !destroy) timings.phaseSync('apply: record it', () => record(appliedDir, planned, io, false));
    timings.note('apply: done');
    return report(result, steps.length, io);
  } finally {
    release();
  }
}

/**
 * The node's state now (only the plan's keys, when it was made on them), if its owned part is
 * still what the plan was made from (Terraform's stale-plan check).
 */
export async function unchangedSince(planned: Planned): Promise<CanonicalState> {
  let now: CanonicalState;
  if (planned.scope) {
    now = restrictReadBack(await planned.host.readState(readBackQuery(planned.scope, planned.desiredState)), planned.scope, planned.desiredState, planned.live.node);
  } else {
    const parsed = parseSnapshot(await planned.host.readState());
    if (!parsed.state) throw new UsageError(`cannot read the node's state again: ${parsed.diags.map((d) => d.summary).join('; ')}`);
    now = parsed.state;
  }
  if (ownedStateDigest(now, planned.desiredState) !== planned.plan.stateDigest) {
    throw new UsageError('the node\'s state changed while the plan waited for approval; nothing was applied', 'run ipvsc apply again and review the new plan');
  }
  return now;
}

/**
 * Records what the node now holds (cli/applied-record.ts): after a successful apply, or a plan
 * with no change (unless the record says so already). Not without the kernel's boot id: a record
 * that cannot be tied to a boot is never trusted.
 */
function record(dir: string, planned: Planned, io: Io, onlyIfNew: boolean): void {
  const bootId = planned.live.node.bootId;
  if (!bootId) return;
  const meta: AppliedMeta = { formatVersion: 1, node: planned.desired.manifest.node.name, bootId, ...(planned.live.node.kernel ? { kernel: planned.live.node.kernel } : {}), ipvsc: ipvscVersion() };
  if (onlyIfNew && recordsAlready(dir, meta, planned.desired.manifest)) return;
  writeAppliedRecord(dir, { meta, artifacts: planned.desired.artifacts, manifest: planned.desired.manifest }, (l) => io.stderr(l + '\n'));
}

async function lock(args: ParsedArgs, io: Io): Promise<() => void> {
  const timeout = parseDuration(flagValue(args, 'lock-timeout') ?? '60s');
  if (timeout === null || timeout < 0) throw new UsageError('--lock-timeout must be a duration like 30s');
  return acquireLock(flagValue(args, 'lock-file') ?? '/run/ipvsc.lock', timeout * 1000, (holder) => io.stderr(`waiting for another ipvsc apply (pid ${holder}) to finish...\n`));
}

function confirm(io: Io): Promise<boolean> {
  io.stdout('\nDo you want to perform these actions? Only "yes" will be accepted: ');
  const rl = createInterface({ input: process.stdin });
  return new Promise((res) => rl.once('line', (l) => { rl.close(); res(l.trim() === 'yes'); }));
}

function report(r: ApplyResult, total: number, io: Io): number {
  if (r.ok) {
    io.stdout(`Apply complete: ${r.stepsRun} step(s) run; the node matches the desired state.\n`);
    return EXIT.ok;
  }
  const f = r.failure!;
  if ('step' in f) {
    io.stderr(`\nerror[APPLY_STEP_FAILED] step ${(f.index ?? r.stepsRun - 1) + 1} of ${total} failed: ${f.step.name}\n  command: ${commandText(f.step.command)}\n  exit ${f.result.exitCode}: ${f.result.stderr.trim() || f.result.stdout.trim()}\n`);
    const line = /line:? (\d+)/i.exec(f.result.stderr)?.[1];
    const payload = f.step.command.input?.split('\n') ?? [];
    if (line && payload[Number(line) - 1]) io.stderr(`  failing line ${line}: ${payload[Number(line) - 1]}\n`);
    const origins = [...new Set(f.step.changes.map((c) => c.origin).filter((o): o is string => !!o))].slice(0, 5);
    if (origins.length) io.stderr(`  from: ${origins.join(', ')}\n`);
  } else if ('readBack' in f) {
    io.stderr(`\nerror[APPLY_VERIFY_FAILED] the state could not be read back: ${f.readBack}\n`);
  } else {
    io.stderr(`\nerror[APPLY_VERIFY_FAILED] the state read back differs from the desired state in ${f.verify.changes.length} place(s), e.g. ${f.verify.changes.slice(0, 3).map((c) => `${c.action} ${c.kind} ${c.key}`).join('; ')}\n`);
  }
  const rb = r.rollback!;
  if (rb.ok) io.stderr('rollback: succeeded; the owned state is as it was before the apply.\n');
  else io.stderr(`rollback: INCOMPLETE; ${rb.remaining.changes.length} difference(s) remain:\n${rb.remaining.changes.slice(0, 20).map((c) => `  ${c.action} ${c.kind} ${c.key}`).join('\n')}\n${rb.errors.map((e) => `  ${e.step.name}: ${e.result.stderr.trim()}`).join('\n')}\n`);
  return EXIT.applyFailed;
}

interface SavedPlan {
  readonly kind?: string;
  readonly destroy?: boolean;
  readonly state_digest?: string;
  readonly node?: string;
  readonly artifacts?: Artifacts;
  readonly manifest?: Manifest;
}

async function fromSavedPlan(file: string, args: ParsedArgs, io: Io, host: Host | undefined, timings: Timings): Promise<Planned | { diags: [] }> {
  let saved: SavedPlan;
  try {
    saved = JSON.parse(readFileSync(resolve(io.cwd, file), 'utf8')) as SavedPlan;
  } catch (e) {
    throw new UsageError(`cannot read the saved plan ${file}: ${(e as Error).message}`);
  }
  if (saved.kind !== 'ipvsc-plan' || !saved.artifacts || !saved.manifest || !saved.state_digest) throw new UsageError(`${file} is not a plan saved by ipvsc plan -out`);
  const h = host ?? (await hostFor(args, io, saved.node ?? '', timings));
  const snap = await h.readState();
  const parsed = parseSnapshot(snap);
  if (!parsed.state) return { diags: [] };
  const desiredState = saved.destroy === true ? destroyDesired(saved.manifest) : desiredFromArtifacts(saved.artifacts, saved.manifest);
  const plan = makePlan(desiredState, parsed.state);
  if (plan.stateDigest !== saved.state_digest) {
    throw new UsageError(`the saved plan ${file} is stale: the node's state changed since it was made`, 'run ipvsc plan -out again and review the new plan');
  }
  return { plan, desired: { artifacts: saved.artifacts, manifest: saved.manifest, origins: new Map(), diags: [] }, desiredState, live: parsed.state, host: h };
}
