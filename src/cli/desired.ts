/**
 * The desired state for plan and apply: compiled now from -f inputs, or read back from a
 * directory written by `ipvsc compile` (--from DIR).
 */
import { join, resolve } from 'node:path';
import { hasErrors, UsageError } from '../diag/diagnostic.js';
import type { Diagnostic } from '../diag/diagnostic.js';
import type { Artifacts } from '../render/render.js';
import type { Manifest } from './manifest.js';
import { readIfExists } from './write-outputs.js';
import type { ParsedArgs } from './args.js';
import { flagValue, flagValues } from './args.js';
import type { Io } from './context.js';
import type { DesiredState, InterfaceAddress } from '../model/types.js';
import { parseIp } from '../model/net.js';
import type { NodeInfo } from '../state/snapshot.js';
import { vsKey } from '../state/types.js';
import type { OriginLookup } from '../plan/make-plan.js';

export interface Desired {
  readonly artifacts: Artifacts;
  readonly manifest: Manifest;
  /** The compiled model the artifacts were rendered from (absent with --from). */
  readonly model?: DesiredState;
  /** Virtual server key (vsKey) → `Service ns/name port p`, for the plan's change lines. */
  readonly origins: OriginLookup;
  readonly diags: Diagnostic[];
}

/** Interface addresses of the node the state was read from (NodePort addresses, reference §3.2). */
export function interfacesOf(node: NodeInfo): InterfaceAddress[] | undefined {
  if (!node.interfaces) return undefined;
  return node.interfaces.flatMap((i) => i.addresses.flatMap((a) => {
    const ip = parseIp(a.split('/')[0]!);
    return ip ? [{ iface: i.name, ip }] : [];
  }));
}

/** Async only to load the compiler on demand: plan and apply --from never pay for it. */
export async function loadDesired(args: ParsedArgs, io: Io, node: NodeInfo): Promise<Desired | { diags: Diagnostic[] }> {
  const from = flagValue(args, 'from');
  if (from) {
    const dir = resolve(io.cwd, from);
    const read = (n: string): string => {
      const t = readIfExists(join(dir, n));
      if (t === undefined) throw new UsageError(`${join(from, n)} is missing`, 'point --from at a directory written by ipvsc compile');
      return t;
    };
    let manifest: Manifest;
    try {
      manifest = JSON.parse(read('manifest.json')) as Manifest;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${join(from, 'manifest.json')} is not valid JSON`);
    }
    const v6 = readIfExists(join(dir, 'ip6tables.restore'));
    const artifacts: Artifacts = {
      'ipvsadm.restore': read('ipvsadm.restore'),
      'ipset.restore': read('ipset.restore'),
      'iptables.restore': read('iptables.restore'),
      ...(v6 !== undefined ? { 'ip6tables.restore': v6 } : {}),
    };
    return { artifacts, manifest, origins: new Map(), diags: [] };
  }
  // On a live node (or a recorded one) NodePort addresses come from its interfaces, unless given.
  const interfaces = flagValues(args, 'node-ip').length === 0 ? interfacesOf(node) : undefined;
  // The compile pipeline is loaded only here: `--from DIR` never pays for it.
  const [{ compileFromArgs }, { buildManifest, inputsDigest }, { ipvscVersion }] = await Promise.all([import('./inputs.js'), import('./manifest.js'), import('./context.js')]);
  const res = compileFromArgs(args, io, interfaces);
  if (hasErrors(res.diags) || !res.artifacts || !res.state) return { diags: res.diags };
  const { state, artifacts, files, opts, inputs } = res;
  // Looked up only for changed virtual servers: built on the first lookup, so a plan with no
  // IPVS change never keys its ~40k virtual servers (10k Services, issue #5).
  let byKey: Map<string, string> | undefined;
  const origins: OriginLookup = {
    get: (key) => {
      if (!byKey) {
        byKey = new Map();
        for (const v of state.virtualServers) {
          byKey.set(vsKey({ protocol: v.protocol, address: v.address.text, port: v.port }), `${v.origin.object}${v.origin.port ? ` port ${v.origin.port}` : ''}`);
        }
      }
      return byKey.get(key);
    },
  };
  // The manifest hashes every artifact: made on first read (apply, plan --out), not for a plan
  // that only prints its diff (renderArtifacts renders each file on first read, too).
  let manifest: Manifest | undefined;
  return {
    artifacts,
    get manifest(): Manifest {
      return (manifest ??= buildManifest(state, artifacts, ipvscVersion(), inputsDigest(files, { ...opts, config: inputs!.config })));
    },
    model: state,
    origins,
    diags: res.diags,
  };
}
