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
import { IPVSADM_SWITCH, vsKey } from '../state/types.js';

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
export const IPVS_CHUNKS = 4;

/** The virtual address of an IPVS change key: `TCP/10.0.0.1:80 -> …` → `10.0.0.1`, `[fd00::1]` → `fd00::1`. */
function vipOf(key: string): string {
  const arrow = key.indexOf(' -> ');
  const colon = key.lastIndexOf(':', (arrow < 0 ? key.length : arrow) - 1);
  const slash = key.indexOf('/');
  return key.charCodeAt(slash + 1) === 91 ? key.slice(slash + 2, colon - 1) : key.slice(slash + 1, colon); // 91: '['
}

const vsRef = (v: Pick<LiveVirtualServer, 'protocol' | 'address' | 'port'>): string => `${IPVSADM_SWITCH[v.protocol]} ${joinHostPort(v.address, v.port)}`;
const vsOpts = (v: LiveVirtualServer): string => `-s ${v.scheduler}${v.flags.length ? ` -b ${v.flags.join(',')}` : ''}${v.timeout ? ` -p ${v.timeout}` : ''}`;

/** `TCP/10.0.0.1:80 -> 10.1.1.1:8080`, `… -> [fd00::1]:80` → [vsKey, rs address, rs port] */
function splitRsKey(key: string): [string, string, number] {
  const arrow = key.indexOf(' -> ');
  const colon = key.lastIndexOf(':');
  const bracketed = key.charCodeAt(arrow + 4) === 91; // '['
  return [key.slice(0, arrow), key.slice(arrow + (bracketed ? 5 : 4), bracketed ? colon - 1 : colon), Number(key.slice(colon + 1))];
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
  const buckets = new Map<string, Change[]>();
  for (const c of plan.changes) {
    const k = `${c.subsystem} ${c.action}`;
    const list = buckets.get(k);
    if (list) list.push(c);
    else buckets.set(k, [c]);
  }
  const by = (sub: Change['subsystem'], act?: Change['action'], kind?: string): Change[] => {
    const list = act ? (buckets.get(`${sub} ${act}`) ?? []) : (['create', 'update', 'delete'] as const).flatMap((a) => buckets.get(`${sub} ${a}`) ?? []);
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
  const vipOfChange = ipvsAddChanges.map((c) => vipOf(c.key));
  const linesOfVip = new Map<string, number>();
  for (const a of vipOfChange) linesOfVip.set(a, (linesOfVip.get(a) ?? 0) + 1);
  const want = ipvsAddChanges.length >= IPVS_CHUNK_MIN_LINES ? IPVS_CHUNKS : 1;
  // Chunks of about equal line counts (a node IP carries every NodePort: thousands of lines),
  // numbered without gaps (one address's lines may fill more than one share).
  const chunkOfVip = new Map<string, number>();
  let seen = 0;
  let chunks = 0;
  let lastShare = -1;
  for (const [a, n] of linesOfVip) {
    const share = Math.floor((seen * want) / ipvsAddChanges.length);
    if (share !== lastShare) [chunks, lastShare] = [chunks + 1, share];
    chunkOfVip.set(a, chunks - 1);
    seen += n;
  }
  const byChunk: Change[][] = Array.from({ length: chunks }, () => []);
  ipvsAddChanges.forEach((c, i) => byChunk[chunkOfVip.get(vipOfChange[i]!)!]!.push(c)); // plan order kept: -A before its -a
  const ipvsSteps: number[] = [];
  for (let k = 0; k < chunks && ipvsAddChanges.length; k++) {
    const mine = byChunk[k]!;
    const lines = mine.map((c) => ipvsAddLine(c, desiredVs));
    const name = `ipvs: add and edit virtual and real servers${chunks > 1 ? ` (part ${k + 1} of ${chunks})` : ''}`;
    ipvsSteps.push(add({ name, command: { tool: 'ipvsadm', args: ['-R'], input: lines.join('\n') + '\n', mutating: true }, changes: mine }, [k ? ipvsSteps[k - 1] : prefix]));
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
  let lastAddr: number | undefined;
  for (let k = 0; k < Math.max(1, ipvsSteps.length); k++) {
    const last = k === ipvsSteps.length - 1 || ipvsSteps.length === 0;
    const mine = addAddr.filter((c) => {
      const chunk = chunkOfVip.get(c.key.slice(0, c.key.lastIndexOf('/')));
      return chunk === undefined ? last : chunk === k;
    });
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
  if (delAddr.length) addDeletion({ name: 'kube-ipvs0: delete stale addresses', command: { tool: 'ip', args: ['-batch', '-'], input: delAddr.map((c) => `addr del ${c.key} dev kube-ipvs0`).join('\n') + '\n', mutating: true }, changes: delAddr });
  const setDel = [...by('ipset', 'delete', 'entry'), ...by('ipset', 'delete', 'set')];
  if (setDel.length) {
    const lines = setDel.map((c) => (c.kind === 'entry' ? `del ${c.key}` : `destroy ${c.key}`));
    addDeletion({ name: 'ipset: delete stale entries and sets', command: { tool: 'ipset', args: ['restore', '-exist'], input: lines.join('\n') + '\n', mutating: true }, changes: setDel });
  }
  for (const c of by('kube-ipvs0', 'delete', 'link')) addDeletion({ name: 'delete kube-ipvs0', command: { tool: 'ip', args: ['link', 'del', 'kube-ipvs0'], mutating: true }, changes: [c] });
  return steps;
}

/** One `ipvsadm -R` line adding or editing a virtual or real server. */
function ipvsAddLine(c: Change, desiredVs: ReadonlyMap<string, LiveVirtualServer>): string {
  if (c.kind === 'virtual-server') {
    const v = desiredVs.get(c.key)!;
    return `${c.action === 'create' ? '-A' : '-E'} ${vsRef(v)} ${vsOpts(v)}`;
  }
  const [vk, addr, port] = splitRsKey(c.key);
  const v = desiredVs.get(vk)!;
  const rs = v.realServers.find((r) => r.address === addr && r.port === port);
  const weight = rs ? rs.weight : 0; // not desired any more: draining at weight 0
  return `${c.action === 'create' ? '-a' : '-e'} ${vsRef(v)} -r ${joinHostPort(addr, port)} -m -w ${weight}`;
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

