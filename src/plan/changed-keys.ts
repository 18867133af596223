/**
 * `--refresh=changed`: which keys' desired state changed since the last apply, found by comparing
 * the artifacts then applied with the ones now desired, line by line (Terraform's
 * `-refresh=false`, narrowed: the node is still read, but only where the desired state moved).
 * Pure.
 *
 * Every artifact line names its key, so a line that is in one file and not in the other is a
 * touched key: `-A -t 10.96.0.10:53 -s rr` and `-a -t 10.96.0.10:53 -r …` name the virtual
 * service `TCP/10.96.0.10:53`; `add KUBE-LOOP-BACK 10.244.1.5,tcp:53,10.244.1.5` one set entry,
 * `create KUBE-LOOP-BACK …` the set; a changed iptables table is touched whole (its rules are
 * ordered; there are ~40 of them besides the OUT-FILTER drops). The plan is then made on those
 * keys only (plan/scope.ts), against the node read for those keys only: one changed endpoint on a
 * 10k-Service node reads one virtual service and a few set entries, not 40k services and 50k
 * entries. What changed on the node elsewhere (drift) is not seen: a full refresh (the default)
 * repairs it.
 */
import type { Artifacts } from '../render/render.js';
import type { ManifestFields } from '../cli/manifest.js';
import type { LiveProtocol } from '../state/types.js';
import type { Touched } from './scope.js';

/** Artifacts and manifest: what an apply applied, or what is desired now. */
export interface ArtifactSet {
  readonly artifacts: Artifacts;
  readonly manifest: ManifestFields;
}

export type ChangedKeys = { readonly touched: Touched } | { readonly fullRefreshBecause: string };

const PROTOCOL_OF_SWITCH: Readonly<Record<string, LiveProtocol>> = { '-t': 'TCP', '-u': 'UDP', '--sctp-service': 'SCTP' };

const lines = (text: string | undefined): string[] => (text ? text.split('\n').filter((l) => l !== '') : []);

/** Lines of `a` that are not in `b`, and of `b` not in `a` (order and repeats aside). */
function changedLines(a: string | undefined, b: string | undefined): string[] {
  if (a === b) return [];
  const la = lines(a);
  const lb = lines(b);
  const sa = new Set(la);
  const sb = new Set(lb);
  const out: string[] = [];
  for (const l of la) if (!sb.has(l)) out.push(l);
  for (const l of lb) if (!sa.has(l)) out.push(l);
  return out;
}

/**
 * The virtual service an ipvsadm.restore line names (`-A -t 10.96.0.10:53 -s rr`,
 * `-a -u [fd00::10]:53 -r …`) as its vsKey, null for a fwmark service (never planned) or a
 * `--set` (timeouts, which the manifest carries); undefined for a line ipvsc never writes.
 */
export function vsKeyOfLine(line: string): string | null | undefined {
  if (line.startsWith('--set')) return null;
  const t = line.split(' ');
  if ((t[0] !== '-A' && t[0] !== '-a') || t.length < 3) return undefined;
  if (t[1] === '-f') return null;
  const protocol = PROTOCOL_OF_SWITCH[t[1]!];
  return protocol ? `${protocol}/${t[2]}` : undefined;
}

/** `create NAME …` → [NAME]; `add NAME ENTRY` → [NAME, ENTRY]; anything else undefined. */
function ipsetLine(line: string): [string] | [string, string] | undefined {
  const a = line.indexOf(' ');
  const b = a < 0 ? -1 : line.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const verb = line.slice(0, a);
  const name = line.slice(a + 1, b);
  if (verb === 'create') return [name];
  if (verb === 'add') return [name, line.slice(b + 1)];
  return undefined;
}

/** `*nat` … `COMMIT` sections of an iptables-restore file, by table. */
function tableSections(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  let table = '';
  for (const l of lines(text)) {
    if (l.startsWith('*')) table = l.slice(1);
    else if (!l.startsWith('#')) out.set(table, (out.get(table) ?? '') + l + '\n');
  }
  return out;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The keys whose desired state differs between `prev` (what the last apply applied) and `next`,
 * or why only a full refresh can plan `next` (the node, its families or its excluded CIDRs
 * changed: ownership itself moved).
 */
export function changedKeys(prev: ArtifactSet, next: ArtifactSet): ChangedKeys {
  const p = prev.manifest;
  const n = next.manifest;
  if (p.node.name !== n.node.name) return { fullRefreshBecause: `the last apply was for node ${JSON.stringify(p.node.name)}, this one is for ${JSON.stringify(n.node.name)}` };
  if (!sameJson(p.families, n.families)) return { fullRefreshBecause: `the address families changed (${p.families.join('+')} → ${n.families.join('+')})` };
  if (!sameJson(p.excludeCIDRs, n.excludeCIDRs)) return { fullRefreshBecause: 'the --ipvs-exclude-cidrs changed' };

  const ipvs = new Map<string, { protocol: LiveProtocol; address: string; port: number }>();
  for (const line of changedLines(prev.artifacts['ipvsadm.restore'], next.artifacts['ipvsadm.restore'])) {
    const key = vsKeyOfLine(line);
    if (key === undefined) return { fullRefreshBecause: `an ipvsadm.restore line ipvsc does not write: ${line}` };
    if (key === null || ipvs.has(key)) continue;
    const m = /^(TCP|UDP|SCTP)\/\[?([^\]]+?)\]?:(\d+)$/.exec(key);
    if (!m) return { fullRefreshBecause: `an ipvsadm.restore line ipvsc does not write: ${line}` };
    ipvs.set(key, { protocol: m[1] as LiveProtocol, address: m[2]!, port: Number(m[3]) });
  }

  const ipsets = new Set<string>();
  const whole = new Set<string>();
  const entries = new Map<string, Set<string>>();
  for (const line of changedLines(prev.artifacts['ipset.restore'], next.artifacts['ipset.restore'])) {
    const l = ipsetLine(line);
    if (!l) return { fullRefreshBecause: `an ipset.restore line ipvsc does not write: ${line}` };
    ipsets.add(l[0]);
    if (l.length === 1) whole.add(l[0]);
    else {
      let es = entries.get(l[0]);
      if (!es) entries.set(l[0], (es = new Set()));
      es.add(l[1]);
    }
  }
  for (const name of whole) entries.delete(name);

  const tables = new Set<string>();
  for (const [fam, file] of [['IPv4', 'iptables.restore'], ['IPv6', 'ip6tables.restore']] as const) {
    const a = tableSections(prev.artifacts[file]);
    const b = tableSections(next.artifacts[file]);
    for (const table of new Set([...a.keys(), ...b.keys()])) if (a.get(table) !== b.get(table)) tables.add(`${fam} ${table}`);
  }

  const was = new Set(p.kubeIpvs0);
  const now = new Set(n.kubeIpvs0);
  const addresses = new Set<string>();
  for (const a of n.kubeIpvs0) if (!was.has(a)) addresses.add(a);
  for (const a of p.kubeIpvs0) if (!now.has(a)) addresses.add(a);

  return {
    touched: {
      // One `sysctl -e` reads them all: always checked, drifted or not.
      sysctls: new Set(n.sysctls.map((s) => s.name)),
      timeouts: !sameJson(p.ipvsTimeouts, n.ipvsTimeouts),
      link: false,
      addresses,
      ipsets,
      entries,
      ipvs,
      tables,
    },
  };
}

/**
 * Artifacts cut down to the touched keys' lines (and the manifest's addresses to the touched
 * ones), so that only they are parsed: at 10k Services the whole files are 6 MB.
 */
export function cutToTouched(set: ArtifactSet, t: Touched): ArtifactSet {
  const ipvs = lines(set.artifacts['ipvsadm.restore']).filter((l) => {
    const key = vsKeyOfLine(l);
    return key !== null && key !== undefined && t.ipvs.has(key);
  });
  const sets = lines(set.artifacts['ipset.restore']).filter((l) => {
    const x = ipsetLine(l);
    if (!x || !t.ipsets.has(x[0])) return false;
    const es = t.entries.get(x[0]);
    return x.length === 1 || !es || es.has(x[1]);
  });
  const text = (ls: string[]): string => (ls.length ? ls.join('\n') + '\n' : '');
  const want = t.addresses;
  const addresses = want === true ? set.manifest.kubeIpvs0 : want === false ? [] : set.manifest.kubeIpvs0.filter((a) => want.has(a));
  return {
    artifacts: { ...set.artifacts, 'ipvsadm.restore': text(ipvs), 'ipset.restore': text(sets) },
    manifest: { ...set.manifest, kubeIpvs0: addresses },
  };
}
