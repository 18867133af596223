/**
 * ipvsc's own artifacts → the canonical state they describe, parsed with the same parsers as the
 * kernel's output. Pure. Used by plan both for a fresh compile (desiredFromModel) and for
 * `--from DIR` and saved plans (desiredFromArtifacts).
 */
import type { Family } from '../model/net.js';
import type { Manifest, ManifestFields } from '../cli/manifest.js';
import type { Artifacts } from '../render/render.js';
import type { DesiredState } from '../model/types.js';
import { parseIpvsadmSave, servicesFromModel } from './parse-ipvsadm.js';
import { parseIpsetSave, setsFromModel } from './parse-ipset.js';
import { canonicalRule, splitRuleLine } from './parse-iptables.js';
import type { LiveChain, LiveIptables } from './types.js';
import type { CanonicalState } from './canonical.js';
import { sortByAddress } from './canonical.js';

export interface DesiredJump {
  readonly family: Family;
  readonly table: string;
  readonly from: string;
  /** canonicalRule() of the jump's spec. */
  readonly spec: string;
  readonly raw: string;
}

export interface DesiredCanonical extends CanonicalState {
  readonly families: readonly Family[];
  readonly jumps: readonly DesiredJump[];
  readonly excludeCIDRs: readonly string[];
  /** Sysctls with their kernel conditions. */
  readonly sysctlSpecs: Manifest['sysctls'];
  readonly timeouts: Manifest['ipvsTimeouts'];
  /**
   * --destroy (destroyDesired): kube-ipvs0 is kept while it holds an address ipvsc does not own.
   * Not for a rollback, which restores exactly, even a link that only ipvsc's own excluded
   * addresses were bound to.
   */
  readonly destroy?: boolean;
}

export function parseRestoreFile(text: string, family: Family): { tables: LiveIptables; jumps: DesiredJump[] } {
  const tables: LiveIptables = {};
  const jumps: DesiredJump[] = [];
  let table = '';
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      table = line.slice(1);
      tables[table] ??= { chains: new Map() };
      continue;
    }
    const t = tables[table]!;
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0]!;
      t.chains.set(name, { name, rules: [], raw: [] });
      continue;
    }
    const r = splitRuleLine(line);
    if (r.op === 'I') {
      jumps.push({ family, table, from: r.chain, spec: canonicalRule(r.spec, family), raw: r.spec });
      continue;
    }
    let chain = t.chains.get(r.chain);
    if (!chain) t.chains.set(r.chain, (chain = { name: r.chain, rules: [], raw: [] } as LiveChain));
    chain.rules.push(canonicalRule(r.spec, family));
    chain.raw!.push(r.spec);
  }
  return { tables, jumps };
}

/** ipvsadm.restore without its `--set` (timeouts) lines, which the manifest carries. */
function withoutSetLines(text: string): string {
  if (!text.startsWith('--set') && !text.includes('\n--set')) return text;
  return text.split('\n').filter((l) => !l.startsWith('--set')).join('\n');
}

export function desiredFromArtifacts(artifacts: Artifacts, manifest: ManifestFields): DesiredCanonical {
  return desiredState(artifacts, manifest, null);
}

/**
 * desiredFromArtifacts for artifacts rendered from `model` in this process (plan -f): the IPVS
 * services and the ipsets, nine tenths of the text, are taken from the model in the form the
 * parsers would read them back (servicesFromModel, setsFromModel); the iptables rules are
 * parsed as always. The same result (test/unit/state/desired.test.ts); a saved plan and
 * `--from DIR` still read everything from the artifacts.
 */
export function desiredFromModel(model: DesiredState, artifacts: Artifacts, manifest: ManifestFields): DesiredCanonical {
  return desiredState(artifacts, manifest, model);
}

function desiredState(artifacts: Artifacts, manifest: ManifestFields, model: DesiredState | null): DesiredCanonical {
  const v4 = parseRestoreFile(artifacts['iptables.restore'], 'IPv4');
  const v6 = artifacts['ip6tables.restore'] !== undefined ? parseRestoreFile(artifacts['ip6tables.restore'], 'IPv6') : { tables: {}, jumps: [] };
  const sysctls: Record<string, string> = {};
  for (const s of manifest.sysctls) sysctls[s.name] = s.value;
  return {
    ipvs: (model && servicesFromModel(model.virtualServers)) ?? parseIpvsadmSave(withoutSetLines(artifacts['ipvsadm.restore'])),
    ipvsTimeouts: manifest.ipvsTimeouts,
    ipsets: (model && setsFromModel(model.passes.flatMap((p) => p.sets))) ?? parseIpsetSave(artifacts['ipset.restore']),
    iptables: { IPv4: v4.tables, IPv6: v6.tables },
    kubeIpvs0: { exists: true, addresses: sortByAddress([...manifest.kubeIpvs0]) },
    sysctls,
    node: { name: manifest.node.name },
    families: manifest.families as Family[],
    jumps: [...v4.jumps, ...v6.jumps],
    excludeCIDRs: manifest.excludeCIDRs,
    sysctlSpecs: manifest.sysctls,
    timeouts: manifest.ipvsTimeouts,
  };
}

/**
 * `--destroy`: a desired state that owns nothing, so the plan deletes everything ipvsc owns on
 * the node (what kube-proxy --cleanup removes: virtual services, the jumps, the chains, the sets,
 * kube-ipvs0), within the same ownership as any plan: the virtual services and kube-ipvs0
 * addresses inside --ipvs-exclude-cidrs, fwmark services and foreign chains and sets are kept
 * (kube-proxy --cleanup flushes all of IPVS). Sysctls and IPVS timeouts are left as they are, as
 * kube-proxy leaves them.
 */
export function destroyDesired(fields: Pick<ManifestFields, 'node' | 'excludeCIDRs'>): DesiredCanonical {
  const timeouts = { tcp: 0, tcpfin: 0, udp: 0 };
  return {
    ipvs: [],
    ipvsTimeouts: timeouts,
    ipsets: [],
    iptables: { IPv4: {}, IPv6: {} },
    kubeIpvs0: { exists: false, addresses: [] },
    sysctls: {},
    node: { name: fields.node.name },
    families: [],
    jumps: [],
    excludeCIDRs: fields.excludeCIDRs,
    sysctlSpecs: [],
    timeouts,
    destroy: true,
  };
}
