/**
 * A plan's scope: the keys some changes touch (subsystems, and within them virtual services, set
 * entries, kube-ipvs0 addresses, tables), the narrowest read of the node that covers them, and
 * both sides of a plan cut down to them. Two users:
 * - apply's read-back: both the desired state and what was read back are cut down to what the
 *   steps touched, then planned against each other; an empty plan (drain progress aside) means
 *   every touched key now matches. A one-endpoint change reads back one virtual service
 *   (`ipvsadm -Ln -t VIP:PORT`) and one set entry (`ipset test`), not the whole node;
 * - `--refresh=changed` (plan/changed-keys.ts): a plan of only the keys whose desired state
 *   changed since the last apply, read the same way.
 */
import type { Family } from '../model/net.js';
import type { StateQuery } from '../host/host.js';
import type { Change, Subsystem } from './types.js';
import type { CanonicalState } from '../state/canonical.js';
import { parseSnapshot } from '../state/canonical.js';
import type { DesiredCanonical } from '../state/desired.js';
import type { NodeInfo, StateFile, StateSnapshot } from '../state/snapshot.js';
import type { LiveIpSet, LiveIptables, LiveProtocol, LiveVirtualServer } from '../state/types.js';
import { vsKey } from '../state/types.js';
import { isOneKernelElement } from '../state/parse-ipset.js';

/** Above this many touched virtual services one whole-table dump beats one `ipvsadm -Ln -t` each. */
export const MAX_SERVICES_READ_ONE_BY_ONE = 16;
/** Above this many touched sets one `ipset save` beats one `ipset save NAME` each. */
export const MAX_SETS_READ_ONE_BY_ONE = 4;
/** Above this many touched entries of a set, `ipset save NAME` beats one `ipset test` each. */
export const MAX_ENTRIES_TESTED_ONE_BY_ONE = 16;
/** Above this many touched addresses, one `ip -o addr show dev kube-ipvs0` beats one read each. */
export const MAX_ADDRESSES_READ_ONE_BY_ONE = 16;

type VsRef = Pick<LiveVirtualServer, 'protocol' | 'address' | 'port'>;

/** What a plan's changes touch, by subsystem. */
export interface Touched {
  readonly sysctls: ReadonlySet<string>;
  readonly timeouts: boolean;
  /** The kube-ipvs0 link itself (created or deleted). */
  readonly link: boolean;
  /** kube-ipvs0 addresses (`10.96.0.1/32`). */
  readonly addresses: ReadonlySet<string>;
  /** Every set touched, whole or in some entries. */
  readonly ipsets: ReadonlySet<string>;
  /**
   * Sets touched only in some entries (canonical entry text): set → those entries. A set in
   * `ipsets` and not here is touched whole (created, deleted, its type changed).
   */
  readonly entries: ReadonlyMap<string, ReadonlySet<string>>;
  /** vsKey → the service, for `ipvsadm -Ln -t VIP:PORT`. */
  readonly ipvs: ReadonlyMap<string, VsRef>;
  /** `IPv4 nat`, `IPv6 filter`, … */
  readonly tables: ReadonlySet<string>;
}

/** `TCP/10.0.0.1:80`, `UDP/[2020::1]:53` → the service (fwmark keys are never planned). */
export function vsRefOf(key: string): VsRef | undefined {
  const m = /^(TCP|UDP|SCTP)\/\[?([^\]]+?)\]?:(\d+)$/.exec(key);
  return m ? { protocol: m[1] as LiveProtocol, address: m[2]!, port: Number(m[3]) } : undefined;
}

export function touchedBy(changes: readonly Change[]): Touched {
  const sysctls = new Set<string>();
  const ipsets = new Set<string>();
  const wholeSets = new Set<string>();
  const entries = new Map<string, Set<string>>();
  const ipvs = new Map<string, VsRef>();
  const tables = new Set<string>();
  const addresses = new Set<string>();
  let timeouts = false;
  let link = false;
  let lastVs = '';
  for (const c of changes) {
    switch (c.subsystem) {
      case 'sysctl':
        if (c.kind === 'timeouts') timeouts = true;
        else sysctls.add(c.key);
        break;
      case 'kube-ipvs0':
        if (c.kind === 'link') link = true;
        else addresses.add(c.key);
        break;
      case 'ipset': {
        // `NAME` (kind set) or `NAME ENTRY` (kind entry)
        const space = c.key.indexOf(' ');
        const name = space < 0 ? c.key : c.key.slice(0, space);
        ipsets.add(name);
        if (c.kind !== 'entry' || space < 0) wholeSets.add(name);
        else if (!wholeSets.has(name)) {
          // (the entries of a set touched whole are not kept: a full apply adds 51k of them
          // right after creating their sets)
          let es = entries.get(name);
          if (!es) entries.set(name, (es = new Set()));
          es.add(c.key.slice(space + 1));
        }
        break;
      }
      case 'ipvs': {
        // a full apply names each service, then each of its real servers: no slice for those
        if (lastVs !== '' && c.key.length > lastVs.length && c.key.startsWith(lastVs) && c.key.startsWith(' -> ', lastVs.length)) break;
        const arrow = c.key.indexOf(' -> ');
        const key = arrow < 0 ? c.key : c.key.slice(0, arrow);
        if (ipvs.has(key)) break; // a full apply names each service with every real server
        const ref = vsRefOf(key);
        if (!ref) throw new Error(`cannot read back virtual service ${key}`);
        ipvs.set(key, ref);
        lastVs = key;
        break;
      }
      case 'iptables':
        tables.add(c.key.split(' ').slice(0, 2).join(' '));
        break;
    }
  }
  for (const name of wholeSets) entries.delete(name);
  return { sysctls, timeouts, link, addresses, ipsets, entries, ipvs, tables };
}

const NONE: Touched = { sysctls: new Set(), timeouts: false, link: false, addresses: new Set(), ipsets: new Set(), entries: new Map(), ipvs: new Map(), tables: new Set() };


/** The touched keys of each subsystem on their own (subsystems with nothing touched left out). */
export function bySubsystem(t: Touched): Map<Subsystem, Touched> {
  const out = new Map<Subsystem, Touched>();
  if (t.sysctls.size || t.timeouts) out.set('sysctl', { ...NONE, sysctls: t.sysctls, timeouts: t.timeouts });
  if (t.link || t.addresses.size) out.set('kube-ipvs0', { ...NONE, link: t.link, addresses: t.addresses });
  if (t.ipsets.size) out.set('ipset', { ...NONE, ipsets: t.ipsets, entries: t.entries });
  if (t.ipvs.size) out.set('ipvs', { ...NONE, ipvs: t.ipvs });
  if (t.tables.size) out.set('iptables', { ...NONE, tables: t.tables });
  return out;
}

/**
 * The narrowest read that covers every touched key. A whole-table IPVS read-back goes through
 * /proc/net/ip_vs when none of the touched desired services has scheduler flags (which that file
 * does not show): at 40k services it is one read instead of 40k netlink requests. A few entries
 * of a set are tested one by one (`ipset test`), a few addresses read one by one (`ip addr show
 * to`): KUBE-LOOP-BACK alone holds an entry per endpoint, kube-ipvs0 an address per Service IP.
 */
export function readBackQuery(t: Touched, desired?: DesiredCanonical, opts: { readonly afterSteps?: boolean } = {}): StateQuery {
  const files: StateFile[] = [];
  const q: { ipvsServices?: VsRef[]; ipsets?: string[]; ipsetEntries?: { set: string; entries: string[] }[]; ipsetsFilled?: { set: string; entries: readonly string[] }[]; addresses?: string[]; tables?: string[]; ipvsFromProc?: boolean } = {};
  if (t.sysctls.size) files.push('sysctl.txt');
  if (t.timeouts) files.push('ipvsadm.timeout');
  // `ip -o addr show dev kube-ipvs0` answers both: the file is absent when the link is.
  if (t.link || t.addresses.size) {
    files.push('kube-ipvs0.addr');
    if (!t.link && t.addresses.size <= MAX_ADDRESSES_READ_ONE_BY_ONE) q.addresses = [...t.addresses].sort();
  }
  if (t.ipsets.size) {
    files.push('ipset.save');
    const whole: string[] = [];
    const some: { set: string; entries: string[] }[] = [];
    // `ipset test` of a host net (`…,10.1.2.3/32`) in a net set matches any net that holds it
    // (test/fixtures/tool-output/ipset/test-net-host.txt): only sets of a known type without
    // nets are tested entry by entry.
    const testable = new Set(desired?.ipsets.filter((x) => !x.type.includes('net')).map((x) => x.name));
    // After the steps, a set touched whole that is to exist was created, or rebuilt and swapped
    // in, by an `ipset restore` that exited 0 with all its desired entries: when each entry is
    // one element, printed back as written, its entry count shows its content (read-state.ts
    // readFilledSets). Not for plans: nothing was added yet.
    // Only the sets touched whole are looked up and checked: a one-entry change of a 10k-Service
    // node must not scan the desired state's 51k entries.
    const desiredSets = opts.afterSteps ? new Map(desired?.ipsets.map((x) => [x.name, x])) : undefined;
    const filledBy = (name: string): readonly string[] | undefined => {
      const x = desiredSets?.get(name);
      return x && x.entries.every((e) => isOneKernelElement(e, x.type, x.family)) ? x.entries : undefined;
    };
    const filled: { set: string; entries: readonly string[] }[] = [];
    for (const name of [...t.ipsets].sort()) {
      const es = t.entries.get(name);
      const fill = es ? undefined : filledBy(name);
      if (fill) filled.push({ set: name, entries: fill });
      else if (es && es.size <= MAX_ENTRIES_TESTED_ONE_BY_ONE && testable.has(name)) some.push({ set: name, entries: [...es].sort() });
      else whole.push(name);
    }
    if (whole.length <= MAX_SETS_READ_ONE_BY_ONE) {
      q.ipsets = whole;
      if (some.length) q.ipsetEntries = some;
      if (filled.length) q.ipsetsFilled = filled;
    }
  }
  if (t.ipvs.size) {
    // Many services: one dump of the whole table (ipvsadm -Ln, as a plan reads it).
    files.push('ipvsadm.list');
    if (t.ipvs.size <= MAX_SERVICES_READ_ONE_BY_ONE) q.ipvsServices = [...t.ipvs.values()];
    else if (desired && !desired.ipvs.some((v) => v.flags.length > 0 && t.ipvs.has(vsKey(v)))) q.ipvsFromProc = true;
  }
  const tables = new Set<string>();
  for (const fam of ['IPv4', 'IPv6'] as const) {
    const mine = [...t.tables].filter((x) => x.startsWith(`${fam} `));
    if (!mine.length) continue;
    files.push(fam === 'IPv4' ? 'iptables.save' : 'ip6tables.save');
    for (const x of mine) tables.add(x.split(' ')[1]!);
  }
  if (tables.size) q.tables = [...tables].sort();
  return { files, ...q };
}

const NO_TIMEOUTS = { tcp: 0, tcpfin: 0, udp: 0 };

function pickTables(t: LiveIptables, fam: Family, touched: Touched): LiveIptables {
  const out: LiveIptables = {};
  for (const [name, table] of Object.entries(t)) if (table && touched.tables.has(`${fam} ${name}`)) out[name] = table;
  return out;
}

function pickSysctls(s: Readonly<Record<string, string>>, touched: Touched): Record<string, string> {
  return Object.fromEntries(Object.entries(s).filter(([k]) => touched.sysctls.has(k)));
}

/** The touched sets, those touched in some entries cut down to them. */
function pickSets(sets: readonly LiveIpSet[], t: Touched): LiveIpSet[] {
  const out: LiveIpSet[] = [];
  for (const s of sets) {
    if (!t.ipsets.has(s.name)) continue;
    const es = t.entries.get(s.name);
    out.push(es ? { ...s, entries: s.entries.filter((e) => es.has(e)) } : s);
  }
  return out;
}

function pickAddresses(addresses: readonly string[], t: Touched): readonly string[] {
  return t.addresses.size ? addresses.filter((a) => t.addresses.has(a)) : [];
}

/** The desired state cut down to the touched keys. */
export function restrictDesired(d: DesiredCanonical, t: Touched): DesiredCanonical {
  return {
    ...d,
    ipvs: d.ipvs.filter((v) => t.ipvs.has(vsKey(v))),
    ipsets: pickSets(d.ipsets, t),
    iptables: { IPv4: pickTables(d.iptables.IPv4, 'IPv4', t), IPv6: pickTables(d.iptables.IPv6, 'IPv6', t) },
    jumps: d.jumps.filter((j) => t.tables.has(`${j.family} ${j.table}`)),
    kubeIpvs0: { exists: d.kubeIpvs0.exists, addresses: pickAddresses(d.kubeIpvs0.addresses, t) },
    sysctlSpecs: d.sysctlSpecs.filter((s) => t.sysctls.has(s.name)),
    sysctls: pickSysctls(d.sysctls, t),
    timeouts: t.timeouts ? d.timeouts : NO_TIMEOUTS,
  };
}

/**
 * What was read back (a narrowed snapshot), cut down to the touched keys. `node` is the node the
 * plan was made on (kernel version for the conditional sysctls). Throws when the text does not
 * parse.
 */
export function restrictReadBack(snap: StateSnapshot, t: Touched, desired: DesiredCanonical, node: NodeInfo): CanonicalState {
  const parsed = parseSnapshot(snap);
  if (!parsed.state) throw new Error(`cannot parse the node state read back: ${parsed.diags.map((d) => d.summary).join('; ')}`);
  return restrictState(parsed.state, snap['kube-ipvs0.addr'] !== undefined, t, desired, node);
}

/** A parsed state cut down to the touched keys (`linkSeen`: whether kube-ipvs0 was read as present). */
export function restrictState(s: CanonicalState, linkSeen: boolean, t: Touched, desired: DesiredCanonical, node: NodeInfo): CanonicalState {
  // With touched addresses a link that is not a touched key is judged too (a vanished link shows,
  // and is created again; a rollback deletes a link its apply created). Not for --destroy: it
  // kept the link because it holds an address ipvsc does not own, which this cut does not show,
  // so the link reads as desired and only the touched addresses are compared.
  const kubeLink = t.link || (t.addresses.size && !desired.destroy) ? linkSeen : desired.kubeIpvs0.exists;
  return {
    ipvs: s.ipvs.filter((v) => v.fwmark === undefined && t.ipvs.has(vsKey(v))),
    ...(t.timeouts && s.ipvsTimeouts ? { ipvsTimeouts: s.ipvsTimeouts } : {}),
    // connection counters: whether a removed TCP real server drains (plan) or is gone
    ...(s.conns ? { conns: s.conns } : {}),
    ipsets: pickSets(s.ipsets, t),
    iptables: { IPv4: pickTables(s.iptables.IPv4, 'IPv4', t), IPv6: pickTables(s.iptables.IPv6, 'IPv6', t) },
    kubeIpvs0: { exists: kubeLink, addresses: pickAddresses(s.kubeIpvs0.addresses, t) },
    sysctls: pickSysctls(s.sysctls, t),
    node,
  };
}
