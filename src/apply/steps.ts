/**
 * A plan → the ordered kernel commands that carry it out. Pure, so `apply --dry-run` prints
 * exactly what would run and tests can check the order without a kernel.
 *
 * Order never black-holes traffic (issue #4): sysctls (one command) and the kube-ipvs0 link; new
 * sets and entries; IPVS services and real servers added or edited in place (-E/-e, never
 * delete+add); iptables one table per restore (each table commits atomically; the nft backend
 * commits tables separately, so one table per process keeps failures per table); new addresses
 * bound; deletions last: stale rules and jumps, real servers, virtual services, addresses, set
 * entries.
 *
 * That order is a partial one: each step names the earlier steps it waits for (`after`), and
 * apply runs the others alongside. IPVS does not depend on the sets, so `ipvsadm -R` runs while
 * the sets and then the iptables rules that match them load. A large IPVS change is cut into
 * chunks by virtual address, and each chunk's kube-ipvs0 addresses are bound while the next
 * chunk loads: an address still never comes before its services, nor before the iptables rules.
 */
import type { Family } from '../model/net.js';
import { KUBE_CHAINS } from '../model/names.js';
import { joinHostPort } from '../model/net.js';
import type { Command } from '../host/host.js';
import type { Change, Plan } from '../plan/types.js';
import type { DesiredCanonical } from '../state/desired.js';
import type { LiveIpSet, LiveVirtualServer } from '../state/types.js';
import { IPVSADM_SWITCH, ipvsadmRef, vsKey } from '../state/types.js';
import { hostPortEnd } from '../state/scan.js';

export interface Step {
  /** What this step does, for people and for error reports. */
  readonly name: string;
  readonly command: Command;
  /** Plan changes this step carries out (for error reports). */
  readonly changes: readonly Change[];
  /** Indices of the earlier steps that must have finished before this one starts. */
  readonly after: readonly number[];
}

/** From this many IPVS lines on, the IPVS additions are loaded in IPVS_CHUNKS restores. */
export const IPVS_CHUNK_MIN_LINES = 4000;
/**
 * Where each chunk ends, as a share of the IPVS lines. The last chunk is the small one: what waits
 * for it (its kube-ipvs0 addresses, and the IPVS read-back, which reads the whole table) starts
 * sooner, and its addresses, bound while the read-back runs, compete with it less (issue #5).
 */
export const IPVS_CHUNK_ENDS = [0.3, 0.6, 0.9, 1] as const;
export const IPVS_CHUNKS = IPVS_CHUNK_ENDS.length;

const vsOpts = (v: LiveVirtualServer): string => `-s ${v.scheduler}${v.flags.length ? ` -b ${v.flags.join(',')}` : ''}${v.timeout ? ` -p ${v.timeout}` : ''}`;

/** `TCP/10.0.0.1:80 -> 10.1.1.1:8080`, `… -> [fd00::1]:80` → [vsKey, rs address, rs port] */
function splitRsKey(key: string): [string, string, number] {
  const arrow = key.indexOf(' -> ');
  return [key.slice(0, arrow), ...splitHostPort(key, arrow + 4)];
}

/** `key.slice(from)`: `10.1.1.1:8080`, `[fd00::1]:80` → [address, port] */
function splitHostPort(key: string, from: number): [string, number] {
  const colon = key.lastIndexOf(':');
  const bracketed = key.charCodeAt(from) === 91; // '['
  return [key.slice(from + (bracketed ? 1 : 0), bracketed ? colon - 1 : colon), Number(key.slice(colon + 1))];
}

/** Adds n to the count of key. */
function count(m: Map<string, number>, key: string, n: number): void {
  m.set(key, (m.get(key) ?? 0) + n);
}

function setCreate(s: LiveIpSet): string {
  return `create ${s.name} ${s.type} ${s.options}`.trimEnd();
}

type StepSpec = Omit<Step, 'after'>;

export function buildSteps(plan: Plan, desired: DesiredCanonical): Step[] {
  const steps: Step[] = [];
  /** Adds a step that waits for `after` (default: the step before it); returns its index. */
  const add = (step: StepSpec, after?: readonly (number | undefined)[]): number => {
    const deps = after ? after.filter((i): i is number => i !== undefined) : steps.length ? [steps.length - 1] : [];
    steps.push({ ...step, after: [...new Set(deps)].sort((a, b) => a - b) });
    return steps.length - 1;
  };
  const lastIndex = (): number | undefined => (steps.length ? steps.length - 1 : undefined);
  // One pass to bucket by subsystem and action (plan order kept): a full apply has ~10^5
  // changes, and each step would otherwise filter them all.
  // (Property lookups on constant names: no key string per change.)
  const buckets = {} as Record<Change['subsystem'], Record<Change['action'], Change[]>>;
  for (const sub of ['sysctl', 'kube-ipvs0', 'ipset', 'ipvs', 'iptables'] as const) buckets[sub] = { create: [], update: [], delete: [] };
  for (const c of plan.changes) buckets[c.subsystem][c.action].push(c);
  const by = (sub: Change['subsystem'], act?: Change['action'], kind?: string): Change[] => {
    const b = buckets[sub];
    const list = act ? b[act] : [...b.create, ...b.update, ...b.delete];
    return kind ? list.filter((c) => c.kind === kind) : list;
  };
  const iptables = by('iptables');
  const desiredVs = new Map(desired.ipvs.map((v) => [vsKey(v), v]));
  const desiredSets = new Map(desired.ipsets.map((s) => [s.name, s]));

  // 1. sysctls (one sysctl -w for all) and IPVS timeouts.
  const sysctls = by('sysctl', undefined, 'sysctl').filter((c) => c.action !== 'delete');
  if (sysctls.length) {
    add({ name: `sysctl ${sysctls.map((c) => c.key).join(' ')}`, command: { tool: 'sysctl', args: ['-w', ...sysctls.map((c) => `${c.key.replace(/\//g, '.')}=${String(c.after)}`)], mutating: true }, changes: sysctls });
  }
  for (const c of by('sysctl', undefined, 'timeouts')) {
    const t = desired.timeouts;
    add({ name: 'set IPVS timeouts', command: { tool: 'ipvsadm', args: ['--set', String(t.tcp), String(t.tcpfin), String(t.udp)], mutating: true }, changes: [c] });
  }
  // 2. the dummy link (kube-proxy leaves it DOWN: addresses on it are local, never announced).
  for (const c of by('kube-ipvs0', 'create', 'link')) add({ name: 'create kube-ipvs0', command: { tool: 'ip', args: ['link', 'add', 'kube-ipvs0', 'type', 'dummy'], mutating: true }, changes: [c] });

  const prefix = lastIndex(); // sysctls and the link: everything else starts after them

  // 3. sets: new sets and entries in one restore; a set whose type changed is rebuilt and swapped.
  const setLines: string[] = [];
  const setChanges: Change[] = [];
  for (const c of [...by('ipset', 'create'), ...by('ipset', 'update')]) {
    setChanges.push(c);
    if (c.kind === 'set' && c.action === 'create') setLines.push(setCreate(desiredSets.get(c.key)!));
    else if (c.kind === 'entry') setLines.push(`add ${c.key}`); // key: `SET ENTRY`
    else if (c.kind === 'set' && c.action === 'update') {
      const s = desiredSets.get(c.key)!;
      const tmp = `ipvsc-swap-${steps.length}`.slice(0, 31);
      setLines.push(`create ${tmp} ${s.type} ${s.options}`.trimEnd(), ...s.entries.map((e) => `add ${tmp} ${e}`), `swap ${tmp} ${s.name}`, `destroy ${tmp}`);
    }
  }
  const setsStep = setLines.length ? add({ name: 'ipset: create sets and add entries', command: { tool: 'ipset', args: ['restore', '-exist'], input: setLines.join('\n') + '\n', mutating: true }, changes: setChanges }, [prefix]) : prefix;

  // 4. IPVS additions and in-place edits, alongside the sets (one chunk, or IPVS_CHUNKS by address).
  const ipvsAddChanges = [...by('ipvs', 'create'), ...by('ipvs', 'update')];
  // Each change's line and virtual address, in one pass (a full 10k apply has 77k such changes).
  const ipvsLines = new IpvsLines(desiredVs);
  const lineOfChange = new Array<string>(ipvsAddChanges.length);
  const vipOfChange = new Array<string>(ipvsAddChanges.length);
  const linesOfVip = new Map<string, number>();
  // (counted by runs of one address: one map update per run, not per line)
  let run = 0;
  for (let i = 0; i < ipvsAddChanges.length; i++) {
    lineOfChange[i] = ipvsLines.add(ipvsAddChanges[i]!);
    const vip = (vipOfChange[i] = ipvsLines.vip);
    if (i > 0 && vip !== vipOfChange[i - 1]) {
      count(linesOfVip, vipOfChange[i - 1]!, run);
      run = 0;
    }
    run++;
  }
  if (run) count(linesOfVip, vipOfChange[ipvsAddChanges.length - 1]!, run);
  const want = ipvsAddChanges.length >= IPVS_CHUNK_MIN_LINES ? IPVS_CHUNKS : 1;
  // Chunks by line counts, IPVS_CHUNK_ENDS (a node IP carries every NodePort: thousands of lines),
  // numbered without gaps (one address's lines may fill more than one share).
  const chunkOfVip = new Map<string, number>();
  let seen = 0;
  let chunks = 0;
  let lastShare = -1;
  for (const [a, n] of linesOfVip) {
    const share = want === 1 ? 0 : IPVS_CHUNK_ENDS.findIndex((end) => seen < end * ipvsAddChanges.length);
    if (share !== lastShare) [chunks, lastShare] = [chunks + 1, share];
    chunkOfVip.set(a, chunks - 1);
    seen += n;
  }
  const byChunk: Change[][] = Array.from({ length: chunks }, () => []);
  const linesByChunk: string[][] = Array.from({ length: chunks }, () => []);
  for (let i = 0, k = 0; i < ipvsAddChanges.length; i++) {
    // plan order kept: -A before its -a
    if (i === 0 || vipOfChange[i] !== vipOfChange[i - 1]) k = chunkOfVip.get(vipOfChange[i]!)!;
    byChunk[k]!.push(ipvsAddChanges[i]!);
    linesByChunk[k]!.push(lineOfChange[i]!);
  }
  const ipvsSteps: number[] = [];
  for (let k = 0; k < chunks && ipvsAddChanges.length; k++) {
    const name = `ipvs: add and edit virtual and real servers${chunks > 1 ? ` (part ${k + 1} of ${chunks})` : ''}`;
    ipvsSteps.push(add({ name, command: { tool: 'ipvsadm', args: ['-R'], input: linesByChunk[k]!.join('\n') + '\n', mutating: true }, changes: byChunk[k]! }, [k ? ipvsSteps[k - 1] : prefix]));
  }

  // 5. iptables: one restore per family and table; declared chains are rewritten whole. Before the
  // new addresses: the kernel checks each `-m ipvs` rule (KUBE-IPVS-OUT-FILTER) in time that grows
  // with the node's local addresses (10k Services: 784 such rules load in ~2 s on an empty
  // kube-ipvs0, ~60 s once its 12k addresses are bound); the rules only match through sets and
  // IPVS, so a VIP bound after them is filtered from its first packet.
  // The sets' rules wait for the sets only (one table after the other).
  let lastRules = setsStep;
  for (const fam of ['IPv4', 'IPv6'] as const) {
    for (const table of ['nat', 'filter'] as const) {
      const step = iptablesStep(iptables, desired, fam, table);
      if (step) lastRules = add(step, [lastRules]);
    }
  }

  // 6. new addresses on kube-ipvs0: each after its own services exist (so traffic to it is
  // handled) and after the rules; with chunked IPVS, while the next chunk loads. An address
  // with no IPVS change waits for every chunk.
  const addAddr = by('kube-ipvs0', 'create', 'address');
  const addrChunks = Math.max(1, ipvsSteps.length);
  const addrByChunk: Change[][] = Array.from({ length: addrChunks }, () => []);
  for (const c of addAddr) addrByChunk[chunkOfVip.get(c.key.slice(0, c.key.lastIndexOf('/'))) ?? addrChunks - 1]!.push(c);
  let lastAddr: number | undefined;
  for (let k = 0; k < addrChunks; k++) {
    const mine = addrByChunk[k]!;
    if (!mine.length) continue;
    const name = `kube-ipvs0: add addresses${ipvsSteps.length > 1 ? ` (part ${k + 1} of ${ipvsSteps.length})` : ''}`;
    lastAddr = add({ name, command: { tool: 'ip', args: ['-batch', '-'], input: mine.map((c) => `addr add ${c.key} dev kube-ipvs0`).join('\n') + '\n', mutating: true }, changes: mine }, [ipvsSteps[k] ?? prefix, lastRules, lastAddr]);
  }

  // 7. deletions, last (after every step above): rules first (they reference sets), then IPVS,
  // addresses, set entries.
  const beforeDeletions = steps.map((_, i) => i);
  let first = true;
  const addDeletion = (step: StepSpec): number => {
    const i = add(step, first ? beforeDeletions : undefined);
    first = false;
    return i;
  };
  for (const fam of ['IPv4', 'IPv6'] as const) {
    for (const table of ['nat', 'filter'] as const) {
      const step = iptablesDeleteStep(iptables, fam, table);
      if (step) addDeletion(step);
    }
  }
  const ipvsDel: string[] = [];
  const ipvsDelChanges = [...by('ipvs', 'delete', 'real-server'), ...by('ipvs', 'delete', 'virtual-server')];
  for (const c of ipvsDelChanges) {
    if (c.kind === 'real-server') {
      const [vk, addr, port] = splitRsKey(c.key);
      ipvsDel.push(`-d ${vsRefFromKey(vk)} -r ${joinHostPort(addr, port)}`);
    } else ipvsDel.push(`-D ${vsRefFromKey(c.key)}`);
  }
  if (ipvsDel.length) addDeletion({ name: 'ipvs: delete stale real and virtual servers', command: { tool: 'ipvsadm', args: ['-R'], input: ipvsDel.join('\n') + '\n', mutating: true }, changes: ipvsDelChanges });
  const delAddr = by('kube-ipvs0', 'delete', 'address');
  // Deleting the link deletes its addresses: one command instead of one per address.
  const delLink = by('kube-ipvs0', 'delete', 'link');
  if (delAddr.length && !delLink.length) addDeletion({ name: 'kube-ipvs0: delete stale addresses', command: { tool: 'ip', args: ['-batch', '-'], input: delAddr.map((c) => `addr del ${c.key} dev kube-ipvs0`).join('\n') + '\n', mutating: true }, changes: delAddr });
  const setDel = [...by('ipset', 'delete', 'entry'), ...by('ipset', 'delete', 'set')];
  if (setDel.length) {
    const lines = setDel.map((c) => (c.kind === 'entry' ? `del ${c.key}` : `destroy ${c.key}`));
    addDeletion({ name: 'ipset: delete stale entries and sets', command: { tool: 'ipset', args: ['restore', '-exist'], input: lines.join('\n') + '\n', mutating: true }, changes: setDel });
  }
  for (const c of delLink) addDeletion({ name: 'delete kube-ipvs0 (and its addresses)', command: { tool: 'ip', args: ['link', 'del', 'kube-ipvs0'], mutating: true }, changes: [c, ...delAddr] });
  return steps;
}

/**
 * The `ipvsadm -R` lines adding or editing virtual and real servers, one per plan change. A real
 * server's change follows its service's (plan order), and in a full apply its real servers come
 * in the service's order: the service, the start of its lines and the position of the last real
 * server are kept, so the next line is the kept start, the address from the key, and the weight.
 */
class IpvsLines {
  /** The virtual address of the last change (`10.0.0.1`, `fd00::1`). */
  vip = '';
  private key = '';
  private vs: LiveVirtualServer | undefined;
  private ref = '';
  private addRs = '';
  private editRs = '';
  /** Index in vs.realServers after the last real server found. */
  private next = 0;
  private readonly weights = new Map<number, string>();

  constructor(private readonly desiredVs: ReadonlyMap<string, LiveVirtualServer>) {}

  add(c: Change): string {
    const key = c.key;
    if (c.kind === 'virtual-server') {
      const v = this.service(key);
      return `${c.action === 'create' ? '-A' : '-E'} ${this.ref} ${vsOpts(v)}`;
    }
    const arrow = key.indexOf(' -> ');
    const v = this.key.length === arrow && key.startsWith(this.key) ? this.vs! : this.service(key.slice(0, arrow));
    const start = c.action === 'create' ? this.addRs : this.editRs;
    const rs = v.realServers;
    const i = this.next;
    // The next real server, when the key names it (and it is the first at that address: the
    // parsers sort real servers by address and port, so a duplicate is the one before).
    if (i < rs.length && hostPortEnd(key, arrow + 4, rs[i]!.address, rs[i]!.port) === key.length && !(i > 0 && rs[i - 1]!.address === rs[i]!.address && rs[i - 1]!.port === rs[i]!.port)) {
      this.next = i + 1;
      return start + key.slice(arrow + 4) + this.weight(rs[i]!.weight);
    }
    const [addr, port] = splitHostPort(key, arrow + 4);
    const hit = rs.findIndex((r) => r.address === addr && r.port === port);
    if (hit >= 0) this.next = hit + 1;
    // not desired any more: draining at weight 0
    return start + joinHostPort(addr, port) + this.weight(hit >= 0 ? rs[hit]!.weight : 0);
  }

  private service(key: string): LiveVirtualServer {
    const v = this.desiredVs.get(key)!;
    this.key = key;
    this.vs = v;
    this.vip = v.address;
    this.ref = ipvsadmRef(v);
    this.addRs = `-a ${this.ref} -r `;
    this.editRs = `-e ${this.ref} -r `;
    this.next = 0;
    return v;
  }

  /** ` -m -w 1`: one string per weight. */
  private weight(w: number): string {
    let s = this.weights.get(w);
    if (s === undefined) this.weights.set(w, (s = ` -m -w ${w}`));
    return s;
  }
}

/** `TCP/10.0.0.1:80` → `-t 10.0.0.1:80` */
function vsRefFromKey(key: string): string {
  const [proto, rest] = key.split('/') as [string, string];
  return `${IPVSADM_SWITCH[proto as LiveVirtualServer['protocol']]} ${rest}`;
}

const restoreTool = (fam: Family): Command['tool'] => (fam === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore');

/** `changes`: the plan's iptables changes. */
function iptablesStep(changes: readonly Change[], desired: DesiredCanonical, fam: Family, table: 'nat' | 'filter'): StepSpec | null {
  const prefix = `${fam} ${table} `;
  const chainChanges = changes.filter((c) => c.kind === 'chain' && c.action !== 'delete' && c.key.startsWith(prefix));
  const jumpCreates = changes.filter((c) => c.kind === 'jump' && c.action === 'create' && c.key.startsWith(prefix));
  const jumpDups = changes.filter((c) => c.kind === 'jump' && c.action === 'update' && c.key.startsWith(prefix));
  if (!chainChanges.length && !jumpCreates.length && !jumpDups.length) return null;
  const want = desired.iptables[fam][table];
  const lines = [`*${table}`];
  // Declaring a chain under --noflush flushes just that chain; the rules below rebuild it.
  const changed = new Set(chainChanges.map((c) => c.key.slice(prefix.length)));
  const chains = KUBE_CHAINS[table].filter((ch) => changed.has(ch) && want?.chains.has(ch));
  for (const ch of chains) lines.push(`:${ch} - [0:0]`);
  for (const ch of chains) for (const r of want!.chains.get(ch)!.raw ?? want!.chains.get(ch)!.rules) lines.push(`-A ${ch} ${r}`);
  for (const c of jumpDups) for (const d of c.detail ?? []) lines.push(d.replace(/^- \d+ duplicate\(s\) of -A /, '-D '));
  for (const c of jumpCreates) lines.push(String(c.after));
  lines.push('COMMIT');
  return { name: `${fam === 'IPv4' ? 'iptables' : 'ip6tables'} ${table}: rewrite kube-proxy chains and ensure jumps`, command: { tool: restoreTool(fam), args: ['-w', '--noflush'], input: lines.join('\n') + '\n', mutating: true }, changes: [...chainChanges, ...jumpCreates, ...jumpDups] };
}

function iptablesDeleteStep(changes: readonly Change[], fam: Family, table: 'nat' | 'filter'): StepSpec | null {
  const prefix = `${fam} ${table} `;
  const dels = changes.filter((c) => c.action === 'delete' && c.key.startsWith(prefix));
  if (!dels.length) return null;
  const lines = [`*${table}`];
  for (const c of dels.filter((x) => x.kind === 'jump')) for (const d of c.detail ?? []) lines.push(d);
  const chains = dels.filter((x) => x.kind === 'chain').map((x) => x.key.slice(prefix.length));
  // Flush first (declaring flushes under --noflush), then delete: a chain must be empty to go.
  for (const ch of chains) lines.push(`:${ch} - [0:0]`);
  for (const ch of chains) lines.push(`-X ${ch}`);
  lines.push('COMMIT');
  return { name: `${fam === 'IPv4' ? 'iptables' : 'ip6tables'} ${table}: delete stale jumps and chains`, command: { tool: restoreTool(fam), args: ['-w', '--noflush'], input: lines.join('\n') + '\n', mutating: true }, changes: dels };
}

