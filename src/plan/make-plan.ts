/**
 * Desired versus live, key by key, on the canonical model (never a text diff). Pure.
 *
 * Ownership (what a plan may contain): the 17 KUBE-* / KUBE-6-* sets, kube-proxy's chains of
 * reference §4.2 and their jumps, IPVS virtual services of the active families outside
 * --ipvs-exclude-cidrs (fwmark services are never touched), and the addresses on kube-ipvs0.
 * Everything else in the snapshot is invisible here.
 */
import { createHash } from 'node:crypto';
import type * as Diff from 'diff';
import { lazyRequire } from '../util/lazy-require.js';
import { cidrContains, parseCidr, parseIp } from '../model/net.js';
import { isCanonicalV4, isCanonicalV6 } from '../state/scan.js';
import { JUMP_RULES, KUBE_CHAINS, OWNED_SET_NAMES, jumpRuleSpec } from '../model/names.js';
import { canonicalRule } from '../state/parse-iptables.js';
import type { CanonicalState } from '../state/canonical.js';
import type { DesiredCanonical } from '../state/desired.js';
import type { LiveIpSet, LiveRealServer, LiveVirtualServer } from '../state/types.js';
import { rsKey, vsKey } from '../state/types.js';
import { connKey } from '../state/parse-ipvsadm.js';
import type { Change, Plan } from './types.js';

/** Loaded only when a chain's rules changed (~30 ms of start-up otherwise). */
const diff = lazyRequire<typeof Diff>('diff');

/** Only `get` is needed: a Map works, and plan -f passes one that is filled on first use. */
export type OriginLookup = Pick<ReadonlyMap<string, string>, 'get'>;

const NO_ORIGINS: OriginLookup = new Map<string, string>();

export interface PlanOptions {
  /** Object each VS comes from, by vsKey (from the compiled model). */
  readonly origins?: OriginLookup;
}

/** Which live virtual servers ipvsc owns (kube-proxy's cleanLegacyService rules). */
export function ownsVirtualServer(v: LiveVirtualServer, desired: DesiredCanonical): boolean {
  if (v.fwmark !== undefined) return false;
  return ownsAddress(v.address, desired);
}

/**
 * An address outside --ipvs-exclude-cidrs (VS and kube-ipvs0 addresses), of either family: on a
 * node with ip6tables kube-proxy runs both proxiers, so IPv6 leftovers of a dual-stack past are
 * cleaned up when the IPv6 pass is no longer active (A → B → A returns to A exactly).
 */
export function ownsAddress(address: string, desired: DesiredCanonical): boolean {
  return ownerOf(desired)(address);
}

/** ownsAddress for one desired state, its exclude CIDRs parsed once (called per VS and address). */
const owners = new WeakMap<DesiredCanonical, (address: string) => boolean>();
function ownerOf(desired: DesiredCanonical): (address: string) => boolean {
  let owns = owners.get(desired);
  if (!owns) {
    const excluded = desired.excludeCIDRs.map(parseCidr).filter((c) => c !== null);
    owns = excluded.length === 0
      ? (address) => isCanonicalV4(address) || isCanonicalV6(address) || parseIp(address) !== null
      : (address) => {
        const ip = parseIp(address);
        return ip !== null && !excluded.some((c) => cidrContains(c, ip));
      };
    owners.set(desired, owns);
  }
  return owns;
}

/**
 * A digest of the owned part of the live state: what a saved plan is checked against. Hashes one
 * text built in a single pass, in the parsers' canonical order (services and real servers by
 * address, entries in artifact order; sets by name): values are blank-free tokens, and lists
 * (entries, rules, addresses) one item per line after their count, so equal texts mean equal
 * owned states.
 */
export function ownedStateDigest(live: CanonicalState, desired: DesiredCanonical): string {
  const owns = ownerOf(desired);
  const h = createHash('sha256');
  // hashed in chunks: one 5 MB string would cost more to build than to hash
  let text = 'ipvsc owned state v2\n';
  const flush = (): void => {
    if (text.length < 65536) return;
    h.update(text);
    text = '';
  };
  for (const v of live.ipvs) {
    if (v.fwmark !== undefined || !owns(v.address)) continue;
    text += `${vsKey(v)} ${v.scheduler} ${v.flags.join(',')} ${v.timeout} ${v.netmask ?? '-'}`;
    for (const r of v.realServers) text += ` ${rsKey(r)}=${r.weight}`;
    text += '\n';
    flush();
  }
  // Not the create options: ipset save prints a random `initval` that differs on every create.
  const sets = live.ipsets.filter((s) => OWNED_SET_NAMES.has(s.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const s of sets) {
    text += `set ${s.name} ${s.type} ${s.family ?? '-'} ${s.entries.length}\n${s.entries.join('\n')}\n`;
    flush();
  }
  for (const fam of ['IPv4', 'IPv6'] as const) {
    for (const table of ['nat', 'filter'] as const) {
      const t = live.iptables[fam][table];
      if (!t) continue;
      for (const name of KUBE_CHAINS[table]) {
        const rules = t.chains.get(name)?.rules;
        text += `${fam}/${table}/${name} ${rules ? rules.length : '-'}\n${rules?.join('\n') ?? ''}\n`;
      }
      for (const j of JUMP_RULES.filter((x) => x.table === table)) {
        const spec = canonicalRule(jumpRuleSpec(j), fam);
        text += `${j.from}:${(t.chains.get(j.from)?.rules ?? []).filter((r) => r === spec).length}\n`;
      }
    }
  }
  const addrs = live.kubeIpvs0.addresses.filter((a) => owns(a.split('/')[0]!));
  text += `kube-ipvs0 ${addrs.length}\n${addrs.join('\n')}\n`;
  // Whether --destroy deletes the link depends on the link and on the addresses it does not own.
  if (desired.destroy) text += `destroy: link ${live.kubeIpvs0.exists} foreign ${addrs.length !== live.kubeIpvs0.addresses.length}\n`;
  return 'sha256:' + h.update(text).digest('hex');
}

export function makePlan(desired: DesiredCanonical, live: CanonicalState, opts: PlanOptions = {}): Plan {
  const creates: Change[] = [];
  const deletes: Change[] = [];
  const draining: string[] = [];
  const push = (c: Change): void => void (c.action === 'delete' ? deletes : creates).push(c);

  planSysctls(desired, live, push);
  planKubeIpvs0(desired, live, push);
  planIpsets(desired, live, push);
  planIpvs(desired, live, push, draining, opts.origins ?? NO_ORIGINS);
  planIptables(desired, live, push);

  const all = creates.concat(deletes);
  let updates = 0;
  for (const c of creates) if (c.action === 'update') updates++;
  let digest: string | undefined;
  return {
    formatVersion: '1.0',
    node: desired.node.name ?? '',
    // Hashed on first read (a saved plan, the stale check after a prompt, --json): apply's
    // read-backs plan too, against a whole 10k node, and never read it.
    get stateDigest(): string {
      return (digest ??= ownedStateDigest(live, desired));
    },
    changes: all,
    draining,
    summary: { add: creates.length - updates, change: updates, destroy: deletes.length },
  };
}

type Push = (c: Change) => void;

function kernelAtLeast(kernel: string | undefined, major: number, minor: number): boolean | undefined {
  const m = kernel ? /^(\d+)\.(\d+)/.exec(kernel) : null;
  if (!m) return undefined;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

function planSysctls(desired: DesiredCanonical, live: CanonicalState, push: Push): void {
  for (const s of desired.sysctlSpecs) {
    if (s.when) {
      // conn_reuse_mode=0 only on 4.1 <= kernel < 5.9 (reference §3.8).
      const lo = kernelAtLeast(live.node.kernel, 4, 1);
      const hi = kernelAtLeast(live.node.kernel, 5, 9);
      if (lo !== true || hi !== false) continue;
    }
    const have = live.sysctls[s.name];
    if (have !== s.value) push({ subsystem: 'sysctl', action: have === undefined ? 'create' : 'update', kind: 'sysctl', key: s.name, ...(have !== undefined ? { before: have } : {}), after: s.value });
  }
  const t = desired.timeouts;
  if (t.tcp > 0 || t.tcpfin > 0 || t.udp > 0) {
    const have = live.ipvsTimeouts;
    const differs = !have || (t.tcp > 0 && have.tcp !== t.tcp) || (t.tcpfin > 0 && have.tcpfin !== t.tcpfin) || (t.udp > 0 && have.udp !== t.udp);
    if (differs) push({ subsystem: 'sysctl', action: 'update', kind: 'timeouts', key: 'ipvs timeouts (tcp tcpfin udp)', ...(have ? { before: have } : {}), after: t });
  }
}

function planKubeIpvs0(desired: DesiredCanonical, live: CanonicalState, push: Push): void {
  if (desired.kubeIpvs0.exists && !live.kubeIpvs0.exists) push({ subsystem: 'kube-ipvs0', action: 'create', kind: 'link', key: 'kube-ipvs0', after: 'dummy' });
  const owns = ownerOf(desired);
  const owned = (cidr: string): boolean => owns(cidr.split('/')[0]!);
  // Only a rollback to a node that had no kube-ipvs0, or --destroy, removes the link; --destroy
  // not while it holds an address ipvsc does not own (inside --ipvs-exclude-cidrs): deleting the
  // link would delete that address with it. Its owned addresses are deleted one by one instead.
  if (!desired.kubeIpvs0.exists && live.kubeIpvs0.exists && (!desired.destroy || live.kubeIpvs0.addresses.every(owned))) {
    push({ subsystem: 'kube-ipvs0', action: 'delete', kind: 'link', key: 'kube-ipvs0', before: 'dummy' });
  }
  if (sameList(live.kubeIpvs0.addresses, desired.kubeIpvs0.addresses)) return;
  const have = new Set(live.kubeIpvs0.addresses);
  const want = new Set(desired.kubeIpvs0.addresses);
  for (const a of desired.kubeIpvs0.addresses) if (!have.has(a)) push({ subsystem: 'kube-ipvs0', action: 'create', kind: 'address', key: a, after: a });
  for (const a of live.kubeIpvs0.addresses) if (!want.has(a) && owned(a)) push({ subsystem: 'kube-ipvs0', action: 'delete', kind: 'address', key: a, before: a });
}

function planIpsets(desired: DesiredCanonical, live: CanonicalState, push: Push): void {
  const liveByName = new Map(live.ipsets.map((s) => [s.name, s]));
  const wanted = new Set<string>();
  for (const d of desired.ipsets) {
    wanted.add(d.name);
    const l = liveByName.get(d.name);
    if (!l) {
      push({ subsystem: 'ipset', action: 'create', kind: 'set', key: d.name, after: `${d.type} ${d.options}` });
      for (const e of d.entries) push({ subsystem: 'ipset', action: 'create', kind: 'entry', key: `${d.name} ${e}`, after: e });
      continue;
    }
    if (l.type !== d.type || (l.family ?? '') !== (d.family ?? '')) {
      // A set's type cannot change in place: apply builds a new one and swaps it in.
      push({ subsystem: 'ipset', action: 'update', kind: 'set', key: d.name, before: `${l.type}`, after: `${d.type}`, detail: ['replaced atomically (create temporary set, fill, ipset swap)'] });
      continue;
    }
    diffEntries(d, l, push);
  }
  for (const l of live.ipsets) {
    if (OWNED_SET_NAMES.has(l.name) && !wanted.has(l.name)) push({ subsystem: 'ipset', action: 'delete', kind: 'set', key: l.name, before: l.type });
  }
}

/** Whether two lists hold the same items in the same order (then no item is added or removed). */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function diffEntries(d: LiveIpSet, l: LiveIpSet, push: Push): void {
  if (sameList(d.entries, l.entries)) return;
  const have = new Set(l.entries);
  const want = new Set(d.entries);
  for (const e of d.entries) if (!have.has(e)) push({ subsystem: 'ipset', action: 'create', kind: 'entry', key: `${d.name} ${e}`, after: e });
  for (const e of l.entries) if (!want.has(e)) push({ subsystem: 'ipset', action: 'delete', kind: 'entry', key: `${d.name} ${e}`, before: e });
}

const vsText = (v: LiveVirtualServer): string =>
  `${v.scheduler}${v.flags.length ? ` -b ${v.flags.join(',')}` : ''}${v.timeout ? ` -p ${v.timeout}` : ''}`;

function planIpvs(desired: DesiredCanonical, live: CanonicalState, push: Push, draining: string[], origins: OriginLookup): void {
  const owns = ownerOf(desired);
  const owned = live.ipvs.filter((v) => v.fwmark === undefined && owns(v.address));
  if (sameServices(owned, desired.ipvs)) {
    // Both sides list the same services in the same (artifact) order: compare them pairwise.
    owned.forEach((l, i) => {
      const d = desired.ipvs[i]!;
      if (!sameVs(l, d) || !sameRealServers(l.realServers, d.realServers)) planService(d, l, live, push, draining, origins);
    });
    return;
  }
  const liveByKey = new Map<string, LiveVirtualServer>();
  for (const v of owned) liveByKey.set(vsKey(v), v);
  const wanted = new Set<string>();
  for (const d of desired.ipvs) {
    const key = vsKey(d);
    wanted.add(key);
    planService(d, liveByKey.get(key), live, push, draining, origins, key);
  }
  for (const [key, l] of liveByKey) if (!wanted.has(key)) push({ subsystem: 'ipvs', action: 'delete', kind: 'virtual-server', key, before: vsText(l) });
}

/** Whether two service lists have the same services (protocol, address, port) at the same places. */
function sameServices(a: readonly LiveVirtualServer[], b: readonly LiveVirtualServer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.protocol !== y.protocol || x.address !== y.address || x.port !== y.port || y.fwmark !== undefined) return false;
  }
  return true;
}

/** One desired service against its live one (if any). */
function planService(d: LiveVirtualServer, l: LiveVirtualServer | undefined, live: CanonicalState, push: Push, draining: string[], origins: OriginLookup, key = vsKey(d)): void {
  const origin = origins.get(key);
  const o = origin ? { origin } : {};
  if (!l) {
    push({ subsystem: 'ipvs', action: 'create', kind: 'virtual-server', key, after: vsText(d), ...o });
    for (const r of d.realServers) push({ subsystem: 'ipvs', action: 'create', kind: 'real-server', key: `${key} -> ${rsKey(r)}`, after: `weight ${r.weight}`, ...o });
    return;
  }
  if (!sameVs(l, d) && vsText(l) !== vsText(d)) push({ subsystem: 'ipvs', action: 'update', kind: 'virtual-server', key, before: vsText(l), after: vsText(d), ...o });
  if (sameRealServers(l.realServers, d.realServers)) return;
  const liveRs = new Map(l.realServers.map((r) => [rsKey(r), r]));
  const wantRs = new Set(d.realServers.map(rsKey));
  for (const r of d.realServers) {
    const lr = liveRs.get(rsKey(r));
    if (!lr) push({ subsystem: 'ipvs', action: 'create', kind: 'real-server', key: `${key} -> ${rsKey(r)}`, after: `weight ${r.weight}`, ...o });
    else if (lr.weight !== r.weight || lr.method !== r.method) push({ subsystem: 'ipvs', action: 'update', kind: 'real-server', key: `${key} -> ${rsKey(r)}`, before: `weight ${lr.weight}`, after: `weight ${r.weight}`, ...o });
  }
  for (const lr of l.realServers) {
    if (wantRs.has(rsKey(lr))) continue;
    planStaleRealServer(key, l, lr, live, push, draining, origin);
  }
}

/** Same scheduler, flags and timeout (then vsText is the same). */
const sameVs = (a: LiveVirtualServer, b: LiveVirtualServer): boolean =>
  a.scheduler === b.scheduler && a.timeout === b.timeout && sameList(a.flags, b.flags);

/**
 * The same real servers in the same order, none changed and none twice (then there is nothing to
 * plan for them). The parsers sort real servers by address and port, so a duplicate is adjacent.
 */
function sameRealServers(a: readonly LiveRealServer[], b: readonly LiveRealServer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.address !== y.address || x.port !== y.port || x.weight !== y.weight || x.method !== y.method) return false;
    if (i > 0 && x.address === a[i - 1]!.address && x.port === a[i - 1]!.port) return false;
  }
  return true;
}

/**
 * Graceful termination as kube-proxy does it (reference §3.4): a TCP real server with
 * connections goes to weight 0 and is deleted by a later apply once drained; UDP/SCTP at once.
 */
function planStaleRealServer(key: string, vs: LiveVirtualServer, rs: LiveRealServer, live: CanonicalState, push: Push, draining: string[], origin?: string): void {
  const k = `${key} -> ${rsKey(rs)}`;
  const o = origin ? { origin } : {};
  const c = rs.activeConns !== undefined ? { active: rs.activeConns, inactive: rs.inactiveConns ?? 0 } : live.conns?.conns.get(connKey(vs, rs));
  const conns = c ? c.active + c.inactive : 0;
  if (vs.protocol === 'TCP' && conns > 0) {
    if (rs.weight !== 0) push({ subsystem: 'ipvs', action: 'update', kind: 'real-server', key: k, before: `weight ${rs.weight}`, after: 'weight 0', ...o, detail: [`draining: ${conns} connection(s); deleted by a later apply once drained`] });
    else draining.push(`${k} (${conns} connection(s))`);
    return;
  }
  push({ subsystem: 'ipvs', action: 'delete', kind: 'real-server', key: k, before: `weight ${rs.weight}`, ...o });
}

function planIptables(desired: DesiredCanonical, live: CanonicalState, push: Push): void {
  // Both families: an inactive family's chains and jumps are removed (its desired tables are empty).
  for (const fam of ['IPv4', 'IPv6'] as const) {
    const want = desired.iptables[fam];
    const have = live.iptables[fam];
    for (const table of ['nat', 'filter'] as const) {
      for (const chain of KUBE_CHAINS[table]) {
        const d = want[table]?.chains.get(chain);
        if (!d) continue;
        const l = have[table]?.chains.get(chain);
        const key = `${fam} ${table} ${chain}`;
        if (!l) {
          push({ subsystem: 'iptables', action: 'create', kind: 'chain', key, after: `${d.rules.length} rule(s)`, detail: (d.raw ?? d.rules).map((r) => `+ -A ${chain} ${r}`) });
        } else if (l.rules.join('\n') !== d.rules.join('\n')) {
          push({ subsystem: 'iptables', action: 'update', kind: 'chain', key, before: `${l.rules.length} rule(s)`, after: `${d.rules.length} rule(s)`, detail: ruleDiff(chain, l.rules, d.rules) });
        }
      }
      // Owned chains the desired state does not declare (a rollback to a node without them).
      for (const chain of KUBE_CHAINS[table]) {
        if (want[table]?.chains.has(chain) || !have[table]?.chains.has(chain)) continue;
        push({ subsystem: 'iptables', action: 'delete', kind: 'chain', key: `${fam} ${table} ${chain}`, before: `${have[table].chains.get(chain)!.rules.length} rule(s)` });
      }
      // Owned jumps present but not desired.
      const wantedJumps = new Set(desired.jumps.filter((x) => x.family === fam && x.table === table).map((x) => `${x.from} ${x.spec}`));
      for (const j of JUMP_RULES.filter((x) => x.table === table)) {
        const spec = canonicalRule(jumpRuleSpec(j), fam);
        if (wantedJumps.has(`${j.from} ${spec}`)) continue;
        const n = (have[table]?.chains.get(j.from)?.rules ?? []).filter((r) => r === spec).length;
        if (n > 0) push({ subsystem: 'iptables', action: 'delete', kind: 'jump', key: `${fam} ${table} ${j.from} -> ${j.to} (${j.comment})`, before: `${n} copies`, detail: [`-D ${j.from} ${jumpRuleSpec(j)}`] });
      }
      for (const j of desired.jumps.filter((x) => x.family === fam && x.table === table)) {
        const rules = have[table]?.chains.get(j.from)?.rules ?? [];
        const n = rules.filter((r) => r === j.spec).length;
        const key = `${fam} ${table} ${j.from} -> ${j.raw.split(' -j ')[1] ?? ''} (${/--comment "([^"]*)"/.exec(j.raw)?.[1] ?? ''})`;
        if (n === 0) push({ subsystem: 'iptables', action: 'create', kind: 'jump', key, after: `-I ${j.from} 1 ${j.raw}` });
        else if (n > 1) push({ subsystem: 'iptables', action: 'update', kind: 'jump', key, before: `${n} copies`, after: '1 copy', detail: [`- ${n - 1} duplicate(s) of -A ${j.from} ${j.raw}`] });
      }
    }
  }
}

function ruleDiff(chain: string, before: readonly string[], after: readonly string[]): string[] {
  const text = (rs: readonly string[]): string => rs.map((r) => `-A ${chain} ${r}\n`).join('');
  const patch = diff().createPatch(chain, text(before), text(after), '', '', { context: 1 });
  return patch.split('\n').slice(4).filter((l) => l !== '' && !l.startsWith('\\'));
}
