/** manifest.json: what `apply` needs besides the three restore files (docs/artifacts.md). */
import { createHash } from 'node:crypto';
import type { SourceFile } from '../load/source.js';
import type { DesiredState } from '../model/types.js';
import type { Artifacts } from '../render/render.js';

export const sha256 = (s: string): string => 'sha256:' + createHash('sha256').update(s).digest('hex');

export function inputsDigest(files: readonly SourceFile[], argv: readonly string[]): string {
  const h = createHash('sha256');
  // Per file: the digest of its bytes, as read (read-inputs.ts), else of its text.
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    h.update(f.path).update('\0').update(f.sha256 ?? createHash('sha256').update(f.text).digest('hex')).update('\0');
  }
  h.update(JSON.stringify(argv));
  return 'sha256:' + h.digest('hex');
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
