/** manifest.json: what `apply` needs besides the three restore files (docs/artifacts.md). */
import { createHash } from 'node:crypto';
import type { SourceFile } from '../load/source.js';
import type { DesiredState, InterfaceAddress, ProxyConfig } from '../model/types.js';
import type { Artifacts } from '../render/render.js';

export const sha256 = (s: string): string => 'sha256:' + createHash('sha256').update(s).digest('hex');

/** What decides a compile's result besides the input files' bytes. */
export interface DigestOptions {
  /** kube-proxy's configuration as resolved from the flags and the --config file. */
  readonly config: ProxyConfig;
  readonly nodeIPs: readonly string[];
  readonly nodePortRange: readonly [number, number];
  /** The live node's addresses (plan, apply); absent for compile, which uses --node-ip or the Node. */
  readonly interfaces?: readonly InterfaceAddress[];
}

/**
 * The digest of what the artifacts are compiled from: each input's bytes, and the resolved
 * configuration. Not the paths, the working directory, `-o` or `--check`, the order of the
 * inputs, nor how a flag is spelled, nor whether kube-proxy's configuration came with --config or
 * -f (the same objects either way): the same inputs compiled anywhere give the same manifest.json,
 * so `compile --check` can compare it byte for byte (it holds the sysctls and exclude CIDRs apply
 * acts on). ipvsc itself is named by the manifest's version field, not digested.
 */
export function inputsDigest(files: readonly SourceFile[], opts: DigestOptions): string {
  const h = createHash('sha256');
  // Per file: the digest of its bytes, as read (read-inputs.ts), else of its text.
  const parts = files.map((f) => f.sha256 ?? createHash('sha256').update(f.text).digest('hex'));
  for (const p of parts.sort()) h.update(p).update('\0');
  h.update(stableJson({
    config: opts.config,
    nodeIPs: opts.nodeIPs,
    nodePortRange: opts.nodePortRange,
    // None (compile: --node-ip or the Node's addresses) is not an empty list (a node with none).
    interfaces: opts.interfaces ? opts.interfaces.map((a) => `${a.iface} ${a.ip.text}`).sort() : null,
  }));
  return 'sha256:' + h.digest('hex');
}

/** JSON with every object's keys sorted: feature gates given in another order digest the same. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export interface Manifest {
  readonly formatVersion: 1;
  readonly ipvsc: string;
  readonly node: { readonly name: string; readonly ips: readonly string[] };
  readonly families: readonly string[];
  readonly kubeIpvs0: readonly string[];
  readonly sysctls: DesiredState['sysctls'];
  readonly ipvsTimeouts: DesiredState['timeouts'];
  readonly excludeCIDRs: readonly string[];
  readonly inputsDigest: string;
  readonly artifacts: Readonly<Record<string, string>>;
}

/** The manifest's fields taken from the model alone: cheap, with no artifact to render or hash. */
export type ManifestFields = Pick<Manifest, 'node' | 'families' | 'kubeIpvs0' | 'sysctls' | 'ipvsTimeouts' | 'excludeCIDRs'>;

export function manifestFields(state: DesiredState): ManifestFields {
  return {
    node: { name: state.node.name, ips: state.node.addresses.map((a) => a.ip.text) },
    families: state.passes.map((p) => p.family),
    kubeIpvs0: state.kubeIpvs0,
    sysctls: state.sysctls,
    ipvsTimeouts: state.timeouts,
    excludeCIDRs: state.excludeCIDRs.map((c) => c.text),
  };
}

export function buildManifest(state: DesiredState, artifacts: Artifacts, version: string, digest: string): Manifest {
  return {
    formatVersion: 1,
    ipvsc: version,
    ...manifestFields(state),
    inputsDigest: digest,
    artifacts: Object.fromEntries(Object.entries(artifacts).map(([k, v]) => [k, sha256(v as string)])),
  };
}

export const manifestText = (m: Manifest): string => JSON.stringify(m, null, 2) + '\n';
