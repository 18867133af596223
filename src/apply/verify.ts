/**
 * Apply's read-back, limited to what the plan touched: the subsystems its steps changed, and
 * within them the virtual services, sets and tables they named. Both the desired state and what
 * was read back are cut down to those keys, then planned against each other: an empty plan
 * (drain progress aside) means every touched key now matches. A one-endpoint change reads back
 * one virtual service (`ipvsadm -Ln -t VIP:PORT`), not the whole IPVS table, ipset and iptables.
 */
import type { Family } from '../model/net.js';
import type { StateQuery } from '../host/host.js';
import type { Change, Subsystem } from '../plan/types.js';
import type { CanonicalState } from '../state/canonical.js';
import { parseSnapshot } from '../state/canonical.js';
import type { DesiredCanonical } from '../state/desired.js';
import type { NodeInfo, StateFile, StateSnapshot } from '../state/snapshot.js';
import type { LiveIptables, LiveProtocol, LiveVirtualServer } from '../state/types.js';
import { vsKey } from '../state/types.js';

/** Above this many touched virtual services one whole-table dump beats one `ipvsadm -Ln -t` each. */
export const MAX_SERVICES_READ_ONE_BY_ONE = 16;
/** Above this many touched sets one `ipset save` beats one `ipset save NAME` each. */
export const MAX_SETS_READ_ONE_BY_ONE = 4;

type VsRef = Pick<LiveVirtualServer, 'protocol' | 'address' | 'port'>;

/** What a plan's changes touch, by subsystem. */
export interface Touched {
  readonly sysctls: ReadonlySet<string>;
  readonly timeouts: boolean;
  /** The kube-ipvs0 link itself (created or deleted). */
  readonly link: boolean;
  readonly addresses: boolean;
  readonly ipsets: ReadonlySet<string>;
  /** vsKey → the service, for `ipvsadm -Ln -t VIP:PORT`. */
  readonly ipvs: ReadonlyMap<string, VsRef>;
  /** `IPv4 nat`, `IPv6 filter`, … */
  readonly tables: ReadonlySet<string>;
}

/** `TCP/10.0.0.1:80`, `UDP/[2020::1]:53` → the service (fwmark keys are never planned). */
function vsRefOf(key: string): VsRef | undefined {
  const m = /^(TCP|UDP|SCTP)\/\[?([^\]]+?)\]?:(\d+)$/.exec(key);
  return m ? { protocol: m[1] as LiveProtocol, address: m[2]!, port: Number(m[3]) } : undefined;
}

export function touchedBy(changes: readonly Change[]): Touched {
  const sysctls = new Set<string>();
  const ipsets = new Set<string>();
  const ipvs = new Map<string, VsRef>();
  const tables = new Set<string>();
  let timeouts = false;
  let link = false;
  let addresses = false;
  let lastVs = '';
  for (const c of changes) {
    switch (c.subsystem) {
      case 'sysctl':
        if (c.kind === 'timeouts') timeouts = true;
        else sysctls.add(c.key);
        break;
      case 'kube-ipvs0':
        if (c.kind === 'link') link = true;
        else addresses = true;
        break;
      case 'ipset': {
        const space = c.key.indexOf(' ');
        ipsets.add(space < 0 ? c.key : c.key.slice(0, space));
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
  return { sysctls, timeouts, link, addresses, ipsets, ipvs, tables };
}

const NONE: Touched = { sysctls: new Set(), timeouts: false, link: false, addresses: false, ipsets: new Set(), ipvs: new Map(), tables: new Set() };

/** The touched keys of each subsystem on their own (subsystems with nothing touched left out). */
export function bySubsystem(t: Touched): Map<Subsystem, Touched> {
  const out = new Map<Subsystem, Touched>();
  if (t.sysctls.size || t.timeouts) out.set('sysctl', { ...NONE, sysctls: t.sysctls, timeouts: t.timeouts });
  if (t.link || t.addresses) out.set('kube-ipvs0', { ...NONE, link: t.link, addresses: t.addresses });
  if (t.ipsets.size) out.set('ipset', { ...NONE, ipsets: t.ipsets });
  if (t.ipvs.size) out.set('ipvs', { ...NONE, ipvs: t.ipvs });
  if (t.tables.size) out.set('iptables', { ...NONE, tables: t.tables });
  return out;
}

/**
 * The narrowest read that covers every touched key. A whole-table IPVS read-back goes through
 * /proc/net/ip_vs when none of the touched desired services has scheduler flags (which that file
 * does not show): at 40k services it is one read instead of 40k netlink requests.
 */
export function readBackQuery(t: Touched, desired?: DesiredCanonical): StateQuery {
  const files: StateFile[] = [];
  const q: { ipvsServices?: VsRef[]; ipsets?: string[]; tables?: string[]; ipvsFromProc?: boolean } = {};
  if (t.sysctls.size) files.push('sysctl.txt');
  if (t.timeouts) files.push('ipvsadm.timeout');
  // `ip -o addr show dev kube-ipvs0` answers both: the file is absent when the link is.
  if (t.link || t.addresses) files.push('kube-ipvs0.addr');
  if (t.ipsets.size) {
    files.push('ipset.save');
    if (t.ipsets.size <= MAX_SETS_READ_ONE_BY_ONE) q.ipsets = [...t.ipsets].sort();
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

/** The desired state cut down to the touched keys. */
export function restrictDesired(d: DesiredCanonical, t: Touched): DesiredCanonical {
  return {
    ...d,
    ipvs: d.ipvs.filter((v) => t.ipvs.has(vsKey(v))),
    ipsets: d.ipsets.filter((s) => t.ipsets.has(s.name)),
    iptables: { IPv4: pickTables(d.iptables.IPv4, 'IPv4', t), IPv6: pickTables(d.iptables.IPv6, 'IPv6', t) },
    jumps: d.jumps.filter((j) => t.tables.has(`${j.family} ${j.table}`)),
    kubeIpvs0: { exists: d.kubeIpvs0.exists, addresses: t.addresses ? d.kubeIpvs0.addresses : [] },
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
  const s = parsed.state;
  const kubeLink = t.link || t.addresses ? snap['kube-ipvs0.addr'] !== undefined : desired.kubeIpvs0.exists;
  return {
    ipvs: s.ipvs.filter((v) => v.fwmark === undefined && t.ipvs.has(vsKey(v))),
    ...(t.timeouts && s.ipvsTimeouts ? { ipvsTimeouts: s.ipvsTimeouts } : {}),
    ipsets: s.ipsets.filter((x) => t.ipsets.has(x.name)),
    iptables: { IPv4: pickTables(s.iptables.IPv4, 'IPv4', t), IPv6: pickTables(s.iptables.IPv6, 'IPv6', t) },
    kubeIpvs0: { exists: kubeLink, addresses: t.addresses ? s.kubeIpvs0.addresses : [] },
    sysctls: pickSysctls(s.sysctls, t),
    node,
  };
}
