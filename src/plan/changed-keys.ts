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
import { IPVSADM_SWITCH } from '../state/types.js';
import type { Touched } from './scope.js';
import { vsRefOf } from './scope.js';

/** Artifacts and manifest: what an apply applied, or what is desired now. */
export interface ArtifactSet {
  readonly artifacts: Artifacts;
  readonly manifest: ManifestFields;
}

export type ChangedKeys = { readonly touched: Touched } | { readonly fullRefreshBecause: string };

/** `-t` → TCP, …: state/types.ts's one table, turned around. */
const PROTOCOL_OF_SWITCH = new Map(Object.entries(IPVSADM_SWITCH).map(([p, sw]) => [sw, p as LiveProtocol]));

const lines = (text: string | undefined): string[] => (text ? text.split('\n').filter((l) => l !== '') : []);

/** How far ahead changedLines looks for the two files to line up again after a difference. */
const RESYNC_WINDOW = 64;

/**
 * The lines of `a` and `b` that do not line up with an equal line of the other file: a superset
 * of the lines that are in one and not in the other. Both files are rendered in one
 * deterministic order, so they are walked side by side and only a few lines around each edit
 * are looked at (10k Services: 77k + 51k lines; building Sets of them took 3 s under the VM's
 * TCG). Where they do not line up again within the window, the rest is compared as sets.
 */
export function changedLines(a: string | undefined, b: string | undefined): string[] {
  if (a === b) return [];
  const ta = a ?? '';
  const tb = b ?? '';
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < ta.length && j < tb.length) {
    // Equal stretches are skipped a block at a time (native string compares), then the walk
    // backs up to the start of the line the first difference is in (equal text before it).
    const skip = equalPrefix(ta, i, tb, j);
    const back = skip > 0 ? ta.lastIndexOf('\n', i + skip - 1) + 1 : i;
    const k = Math.max(back, i);
    j += k - i;
    i = k;
    if (i >= ta.length || j >= tb.length) break;
    // From here, line by line until the two line up again.
    const r = resync(ta, i, tb, j, out);
    if (!r) return finishAsSets(ta, i, tb, j, out);
    [i, j] = r;
  }
  if (i < ta.length || j < tb.length) return finishAsSets(ta, i, tb, j, out);
  return out.filter((l) => l !== '');
}

const BLOCK = 4096;

/** How many characters from a[i] and b[j] on are equal (block by block, then character by character). */
function equalPrefix(a: string, i: number, b: string, j: number): number {
  let n = 0;
  while (i + n + BLOCK <= a.length && j + n + BLOCK <= b.length && a.slice(i + n, i + n + BLOCK) === b.slice(j + n, j + n + BLOCK)) n += BLOCK;
  while (i + n < a.length && j + n < b.length && a.charCodeAt(i + n) === b.charCodeAt(j + n)) n++;
  return n;
}

/** The line of `t` that starts at `at`, and where the next one starts. */
function lineAt(t: string, at: number): [string, number] {
  const end = t.indexOf('\n', at);
  return end < 0 ? [t.slice(at), t.length] : [t.slice(at, end), end + 1];
}

/**
 * From two line starts that differ: the nearest pair of equal lines (d lines on in a, e in b,
 * d + e smallest, up to RESYNC_WINDOW); the lines before them go to `out`. Undefined when none.
 */
function resync(a: string, i: number, b: string, j: number, out: string[]): [number, number] | undefined {
  const la: [string, number][] = [];
  const lb: [string, number][] = [];
  const get = (list: [string, number][], t: string, start: number, k: number): string | undefined => {
    while (list.length <= k) {
      const from = list.length ? list[list.length - 1]![1] : start;
      if (from >= t.length) return undefined;
      list.push(lineAt(t, from));
    }
    return list[k]![0];
  };
  for (let n = 1; n <= RESYNC_WINDOW; n++) {
    for (let d = 0; d <= n; d++) {
      const e = n - d;
      const x = get(la, a, i, d);
      if (x === undefined || x !== get(lb, b, j, e)) continue;
      for (let k = 0; k < d; k++) out.push(la[k]![0]);
      for (let k = 0; k < e; k++) out.push(lb[k]![0]);
      return [d ? la[d - 1]![1] : i, e ? lb[e - 1]![1] : j];
    }
  }
  return undefined;
}

/** The rest of both texts compared as sets of lines. */
function finishAsSets(a: string, i: number, b: string, j: number, out: string[]): string[] {
  const ra = a.slice(i).split('\n');
  const rb = b.slice(j).split('\n');
  const sa = new Set(ra);
  const sb = new Set(rb);
  for (const l of ra) if (!sb.has(l)) out.push(l);
  for (const l of rb) if (!sa.has(l)) out.push(l);
  return out.filter((l) => l !== '');
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
  const protocol = PROTOCOL_OF_SWITCH.get(t[1]!);
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

  const ipvs: Map<string, NonNullable<ReturnType<typeof vsRefOf>>> = new Map();
  for (const line of changedLines(prev.artifacts['ipvsadm.restore'], next.artifacts['ipvsadm.restore'])) {
    const key = vsKeyOfLine(line);
    if (key === undefined) return { fullRefreshBecause: `an ipvsadm.restore line ipvsc does not write: ${line}` };
    if (key === null || ipvs.has(key)) continue;
    const ref = vsRefOf(key);
    if (!ref) return { fullRefreshBecause: `an ipvsadm.restore line ipvsc does not write: ${line}` };
    ipvs.set(key, ref);
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

/** The lines of `text` that start with `prefix`, in order (native indexOf over the 4 MB text). */
function linesStartingWith(text: string, prefix: string): string[] {
  const out: string[] = [];
  const take = (at: number): number => {
    const end = text.indexOf('\n', at);
    out.push(text.slice(at, end < 0 ? text.length : end));
    return end < 0 ? text.length : end;
  };
  let pos = text.startsWith(prefix) ? take(0) : 0;
  for (;;) {
    const hit = text.indexOf('\n' + prefix, pos);
    if (hit < 0) return out;
    pos = take(hit + 1);
  }
}

/**
 * Artifacts cut down to the touched keys' lines (and the manifest's addresses to the touched
 * ones), so that only they are parsed: at 10k Services the whole files are 6 MB. Each key's lines
 * are found by searching for them, not by reading every line.
 */
export function cutToTouched(set: ArtifactSet, t: Touched): ArtifactSet {
  const ipvsText = set.artifacts['ipvsadm.restore'];
  const ipvs: string[] = [];
  for (const [key, v] of t.ipvs) {
    const service = ` ${IPVSADM_SWITCH[v.protocol]} ${key.slice(key.indexOf('/') + 1)} `;
    ipvs.push(...linesStartingWith(ipvsText, `-A${service}`), ...linesStartingWith(ipvsText, `-a${service}`));
  }
  const setText = set.artifacts['ipset.restore'];
  const sets: string[] = [];
  for (const name of t.ipsets) {
    const create = linesStartingWith(setText, `create ${name} `);
    if (!create.length) continue;
    sets.push(...create);
    const es = t.entries.get(name);
    if (!es) sets.push(...linesStartingWith(setText, `add ${name} `));
    else for (const e of es) if (setText.includes(`\nadd ${name} ${e}\n`)) sets.push(`add ${name} ${e}`);
  }
  const text = (ls: string[]): string => (ls.length ? ls.join('\n') + '\n' : '');
  // Only the touched tables: parsing the others (~840 rules at 10k Services) would be thrown away.
  const tables = (file: 'iptables.restore' | 'ip6tables.restore', fam: string): string => {
    let keep = false;
    return lines(set.artifacts[file]).filter((l) => {
      if (l.startsWith('*')) keep = t.tables.has(`${fam} ${l.slice(1)}`);
      return keep;
    }).map((l) => l + '\n').join('');
  };
  const v6 = set.artifacts['ip6tables.restore'];
  const addresses = set.manifest.kubeIpvs0.filter((a) => t.addresses.has(a));
  return {
    artifacts: { 'ipvsadm.restore': text(ipvs), 'ipset.restore': text(sets), 'iptables.restore': tables('iptables.restore', 'IPv4'), ...(v6 !== undefined ? { 'ip6tables.restore': tables('ip6tables.restore', 'IPv6') } : {}) },
    manifest: { ...set.manifest, kubeIpvs0: addresses },
  };
}
