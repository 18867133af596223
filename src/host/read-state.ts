/**
 * Reads a node's state through a Host's command runner: the same tool outputs a state directory
 * holds (state/snapshot.ts). Missing tools or objects read as empty, as kube-proxy would find them.
 *
 * A query narrows the read to what apply's verification needs: some files, some virtual
 * services, some sets, some tables. Narrowed reads of named objects fail loudly (an Error) on
 * anything but the object's absence, so a read-back never passes by accident.
 */
import type { Command, CommandResult, StateQuery, Tool } from './host.js';
import type { NodeInfo, StateFile, StateSnapshot } from '../state/snapshot.js';
import { STATE_FILES } from '../state/snapshot.js';
import { joinHostPort } from '../model/net.js';
import { parseIpAddrOneline } from '../state/parse-ip-addr.js';
import { parseIpvsadmList } from '../state/parse-ipvsadm.js';
import { firstPersistentService, KERNEL_HZ, procIpVsToSave } from '../state/proc-ip-vs.js';
import { IPVSADM_SWITCH, StateParseError } from '../state/types.js';

type Run = (c: Command) => Promise<CommandResult>;

/** The sysctls ipvsc manages, read in one `sysctl -e` (sysctl -a is slow and noisy). */
export const SYSCTL_NAMES = [
  'net/ipv4/vs/conntrack', 'net/ipv4/vs/conn_reuse_mode', 'net/ipv4/vs/expire_nodest_conn',
  'net/ipv4/vs/expire_quiescent_template', 'net/ipv4/ip_forward', 'net/ipv4/conf/all/arp_ignore', 'net/ipv4/conf/all/arp_announce',
];

const ALL_FILES = Object.keys(STATE_FILES) as StateFile[];
/**
 * What a plan reads when no query names files: everything but `ipvsadm -Sn`. `ipvsadm -Ln` lists
 * the same services and real servers (and the connection counters draining needs), so one dump
 * of the IPVS table is enough; at 10k Services each dump costs tens of seconds on a slow node.
 * `ipvsc state save` names every file, ipvsadm.save included.
 */
export const PLAN_FILES: readonly StateFile[] = ALL_FILES.filter((f) => f !== 'ipvsadm.save');
export const EVERY_FILE: readonly StateFile[] = ALL_FILES;

/** `ip -o addr show` lines of kube-ipvs0: the same lines `ip -o addr show dev kube-ipvs0` prints. */
const KUBE_IPVS0_LINE = /^\d+:\s+kube-ipvs0\s/;


export async function readStateWith(run: Run, nodeName: string, query?: StateQuery): Promise<StateSnapshot> {
  const want = new Set<StateFile>(query?.files ?? PLAN_FILES);
  const read = async (tool: Tool, args: string[]): Promise<string | undefined> => {
    const r = await run({ tool, args, mutating: false });
    return r.exitCode === 0 ? r.stdout : undefined;
  };
  /** Several reads of named objects, concatenated; `absent` tells a missing object from a failure. */
  const readEach = async (tool: Tool, argvs: string[][], absent: RegExp): Promise<string> => {
    const outs = await pool(argvs, 4, async (args) => {
      const r = await run({ tool, args, mutating: false });
      if (r.exitCode === 0) return r.stdout;
      if (absent.test(r.stderr)) return '';
      return readFailed(tool, args, r);
    });
    return outs.join('');
  };

  const snap: StateSnapshot = {};
  const jobs: Promise<void>[] = [];
  const job = (file: StateFile, p: Promise<string | undefined>): void => {
    jobs.push(p.then((v) => {
      if (v !== undefined) snap[file] = v;
    }));
  };
  if (want.has('ipvsadm.save')) job('ipvsadm.save', read('ipvsadm', ['-Sn']));
  if (want.has('ipvsadm.list')) {
    const services = query?.ipvsServices;
    if (services) job('ipvsadm.list', readEach('ipvsadm', services.map((v) => ['-Ln', IPVSADM_SWITCH[v.protocol], joinHostPort(v.address, v.port)]), /No such service/i));
    else if (query?.ipvsFromProc) {
      // Through /proc when it can be read and its timeouts converted; else the ipvsadm dump.
      const viaProc = readIpvsFromProc(read);
      job('ipvsadm.save', viaProc);
      job('ipvsadm.list', viaProc.then((t) => (t === undefined ? read('ipvsadm', ['-Ln']) : undefined)));
    } else job('ipvsadm.list', read('ipvsadm', ['-Ln']));
  }
  if (want.has('ipvsadm.timeout')) job('ipvsadm.timeout', read('ipvsadm', ['-L', '--timeout']));
  if (want.has('ipset.save')) {
    const sets = query?.ipsets;
    const some = query?.ipsetEntries;
    const filled = query?.ipsetsFilled;
    job('ipset.save', sets
      ? Promise.all([readEach('ipset', sets.map((s) => ['save', s]), /does not exist/i), some ? readSetEntries(run, some) : '', filled ? readFilledSets(run, filled) : '']).then((parts) => parts.join(''))
      : read('ipset', ['save']));
  }
  for (const [file, tool] of [['iptables.save', 'iptables-save'], ['ip6tables.save', 'ip6tables-save']] as const) {
    if (!want.has(file)) continue;
    const tables = query?.tables;
    // A table never loaded in this family reads as empty, as an unnarrowed iptables-save shows it.
    job(file, tables ? readEach(tool, tables.map((t) => ['-t', t]), /does not exist|can't initialize|table .* not found|Table does not exist/i) : read(tool, []));
  }
  if (want.has('sysctl.txt')) job('sysctl.txt', readSysctls(run));
  if (want.has('boot_id')) job('boot_id', read('cat', ['/proc/sys/kernel/random/boot_id']));
  // node.json needs every interface's addresses; kube-ipvs0's are among them (one read, not two).
  const needNode = want.has('node.json');
  const all = needNode ? read('ip', ['-o', 'addr', 'show']) : undefined;
  const link = needNode ? read('ip', ['-o', 'link', 'show', 'dev', 'kube-ipvs0']) : undefined;
  const kernel = needNode ? read('uname', ['-r']) : undefined;
  if (want.has('kube-ipvs0.addr') && query?.addresses?.length) {
    job('kube-ipvs0.addr', readAddresses(run, query.addresses));
  } else if (want.has('kube-ipvs0.addr')) {
    job('kube-ipvs0.addr', needNode
      // `ip -o addr show dev kube-ipvs0` exits 1 when the link does not exist: the file is then absent.
      ? Promise.all([all, link]).then(([a, l]) => (l !== undefined && l.trim() !== '' && a !== undefined ? linesOf(a, KUBE_IPVS0_LINE) : undefined))
      : read('ip', ['-o', 'addr', 'show', 'dev', 'kube-ipvs0']));
  }
  if (needNode) {
    job('node.json', Promise.all([all, link, kernel]).then(([a, l, k]) => nodeJson(nodeName, a, l, k)));
  }
  await Promise.all(jobs);
  return orderedSnapshot(snap);
}

/**
 * The IPVS table from `/proc/net/ip_vs`, as `ipvsadm -Sn` text; undefined when the file cannot be
 * read or the kernel's HZ cannot be learned. The file prints persistence timeouts in jiffies:
 * one `ipvsadm -Ln -t VIP:PORT` of a persistent service gives the same timeout in seconds, and
 * their ratio must be one of Linux's HZ values (else a service changed in between: not guessed).
 */
async function readIpvsFromProc(read: (tool: Tool, args: string[]) => Promise<string | undefined>): Promise<string | undefined> {
  const text = await read('cat', ['/proc/net/ip_vs']);
  if (text === undefined || !text.startsWith('IP Virtual Server')) return undefined;
  let hz: number | undefined;
  try {
    const p = firstPersistentService(text);
    if (p) {
      const one = await read('ipvsadm', ['-Ln', p.switch, p.service]);
      const seconds = one === undefined ? undefined : parseIpvsadmList(one).services[0]?.timeout;
      hz = seconds ? p.jiffies / seconds : undefined;
      if (!KERNEL_HZ.some((x) => x === hz)) return undefined;
    }
    return procIpVsToSave(text, hz);
  } catch (e) {
    if (e instanceof StateParseError) return undefined; // an unexpected line: the ipvsadm dump decides
    throw e;
  }
}

/** A narrowed read that failed for another reason than the object's absence: never passes silently. */
function readFailed(tool: Tool, args: readonly string[], r: CommandResult): never {
  throw new Error(`cannot read the node state: ${tool} ${args.join(' ')} exited ${r.exitCode}: ${r.stderr.trim()}`);
}

/**
 * Some entries of some sets, as `ipset save` prints them: `create NAME TYPE HEADER` from
 * `ipset list -t NAME`, then `add NAME ENTRY` for each entry `ipset test` finds. The entries are
 * canonical artifact text, which `ipset test` takes as `add` does. Not for net sets: there a host
 * entry, even written `/32`, matches any net that holds it (plan/scope.ts reads those whole).
 *
 *   $ ipset list -t KUBE-LOOP-BACK
 *   Name: KUBE-LOOP-BACK
 *   Type: hash:ip,port,ip
 *   Revision: 5
 *   Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x8b2c5d7e
 *   Size in memory: 520
 *   References: 1
 *   Number of entries: 3
 *   $ ipset test KUBE-LOOP-BACK 10.244.1.5,tcp:8080,10.244.1.5     exit 0, stderr: Warning: … is in set KUBE-LOOP-BACK.
 *   $ ipset test KUBE-LOOP-BACK 10.244.1.6,tcp:8080,10.244.1.6     exit 1, stderr: … is NOT in set KUBE-LOOP-BACK.
 *   $ ipset list -t NOPE                                           exit 1, stderr: ipset v7.17: The set with the given name does not exist
 */
async function readSetEntries(run: Run, sets: readonly { readonly set: string; readonly entries: readonly string[] }[]): Promise<string> {
  const fail = (args: string[], r: CommandResult): never => readFailed('ipset', args, r);
  const texts = await pool(sets, 4, async ({ set, entries }) => {
    const headArgs = ['list', '-t', set];
    // The header and the tests at once (one round of processes, not two): a test of a set that
    // does not exist fails with the same message as its header, which then decides.
    const [head, found] = await Promise.all([
      run({ tool: 'ipset', args: headArgs, mutating: false }),
      pool(entries, 4, async (e) => {
        const args = ['test', set, e];
        const r = await run({ tool: 'ipset', args, mutating: false });
        if (r.exitCode === 0) return `add ${set} ${e}\n`;
        return /is NOT in set|does not exist/i.test(r.stderr) ? '' : fail(args, r);
      }),
    ]);
    const h = setHeader(set, headArgs, head);
    return h === undefined ? '' : `${h.create}\n${found.join('')}`;
  });
  return texts.join('');
}

/** `ipset list -t NAME`'s answer as a `create` line and the entry count; undefined when the set does not exist. */
function setHeader(set: string, args: string[], head: CommandResult): SetHeader | undefined {
  if (head.exitCode !== 0) return /does not exist/i.test(head.stderr) ? undefined : readFailed('ipset', args, head);
  return headerOf(set, args, head.stdout);
}

interface SetHeader {
  readonly create: string;
  readonly count: number | undefined;
}

/** One set's block of `ipset list -t` (`args`: the command that printed it) as a `create` line and the entry count. */
function headerOf(set: string, args: string[], block: string): SetHeader {
  const type = /^Type:\s*(\S+)/m.exec(block)?.[1];
  const header = /^Header:\s*(.*)$/m.exec(block)?.[1];
  if (!type || header === undefined) return readFailed('ipset', args, { exitCode: 0, stdout: block, stderr: `no Type/Header line in: ${block.trim()}` });
  const count = /^Number of entries:\s*(\d+)\s*$/m.exec(block)?.[1];
  return { create: `create ${set} ${type} ${header.trim()}`, count: count === undefined ? undefined : Number(count) };
}

/**
 * Sets apply's steps have just filled (StateQuery.ipsetsFilled), as `ipset save` would print them.
 * `ipset restore` exited 0, so each listed entry was added (`-exist` also passes one that was
 * there already); each is one element printed as listed (the caller's promise: scope.ts only
 * lists sets whose entries pass isOneKernelElement), so if the kernel then counts exactly that
 * many entries there is no other, and the set holds the listed entries. One `ipset list -t` shows
 * what an `ipset save` of 51k entries would (at 10k Services, 15 s of a vCPU under TCG, competing
 * with the `ipvsadm -R` chunks: issue #5). Any other count, or an ipset too old to print one,
 * reads the set whole.
 */
async function readFilledSets(run: Run, sets: readonly { readonly set: string; readonly entries: readonly string[] }[]): Promise<string> {
  // One `ipset list -t` of every set (one process, not one per set: a full apply fills ~34 sets,
  // and each process costs ~0.2-0.3 s of a vCPU under TCG while the IPVS chunks load); one set by name.
  // (A listing that fails, say on a foreign set of a newer ipset revision: one set at a time.)
  const listArgs = ['list', '-t'];
  const all = sets.length > 1 ? await run({ tool: 'ipset', args: listArgs, mutating: false }) : undefined;
  const headers = all?.exitCode === 0 ? splitSetList(all.stdout) : undefined;
  const texts = await pool(sets, 4, async ({ set, entries }) => {
    let h: SetHeader | undefined;
    if (headers) {
      const block = headers.get(set);
      h = block === undefined ? undefined : headerOf(set, listArgs, block); // (not listed: it does not exist)
    } else {
      const args = ['list', '-t', set];
      h = setHeader(set, args, await run({ tool: 'ipset', args, mutating: false }));
    }
    if (h === undefined) return '';
    if (h.count === entries.length) return `${h.create}\n${entries.map((e) => `add ${set} ${e}\n`).join('')}`;
    const args = ['save', set];
    const r = await run({ tool: 'ipset', args, mutating: false });
    if (r.exitCode === 0) return r.stdout;
    return /does not exist/i.test(r.stderr) ? '' : readFailed('ipset', args, r);
  });
  return texts.join('');
}

/**
 * `ipset list -t` (every set) → each set's block, as `ipset list -t NAME` prints it, by name. Blocks start
 * with `Name:` and are separated by an empty line (test/fixtures/tool-output/ipset/list-terse.txt):
 *
 *   Name: KUBE-LOOP-BACK
 *   Type: hash:ip,port,ip
 *   Revision: 6
 *   Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x4e337cfe
 *   Size in memory: 320
 *   References: 0
 *   Number of entries: 2
 *
 *   Name: KUBE-CLUSTER-IP
 *   …
 */
function splitSetList(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of text.split(/^(?=Name: )/m)) {
    const name = /^Name: (\S+)\s*$/m.exec(block)?.[1];
    if (name !== undefined) out.set(name, block);
  }
  return out;
}

/**
 * Some kube-ipvs0 addresses, as `ip -o addr show dev kube-ipvs0` prints them; undefined when the
 * link does not exist (exit 1, `Device "kube-ipvs0" does not exist.`). `to ADDR/32` matches that
 * address whatever prefix length it was bound with, so a wrong prefix still shows.
 */
async function readAddresses(run: Run, addresses: readonly string[]): Promise<string | undefined> {
  let missing = false;
  const outs = await pool(addresses, 4, async (a) => {
    const args = ['-o', 'addr', 'show', 'dev', 'kube-ipvs0', 'to', a];
    const r = await run({ tool: 'ip', args, mutating: false });
    if (r.exitCode === 0) return r.stdout;
    if (/does not exist|Cannot find device/i.test(r.stderr)) {
      missing = true;
      return '';
    }
    return readFailed('ip', args, r);
  });
  return missing ? undefined : outs.join('');
}

function linesOf(text: string, re: RegExp, keep = true): string {
  const lines = text.split('\n').filter((l) => l !== '' && re.test(l) === keep);
  return lines.length ? lines.join('\n') + '\n' : '';
}

function nodeJson(nodeName: string, all: string | undefined, link: string | undefined, kernel: string | undefined): string {
  const ifaces = new Map<string, string[]>();
  // kube-ipvs0's lines (one per Service address) are dropped before parsing, not after.
  for (const a of all ? parseIpAddrOneline(linesOf(all, KUBE_IPVS0_LINE, false)) : []) {
    if (a.iface === 'kube-ipvs0') continue;
    ifaces.set(a.iface, [...(ifaces.get(a.iface) ?? []), `${a.ip}/${a.prefix}`]);
  }
  const node: NodeInfo = {
    name: nodeName,
    ...(kernel ? { kernel: kernel.trim() } : {}),
    kubeIpvs0Exists: link !== undefined && link.trim() !== '',
    interfaces: [...ifaces.entries()].map(([name, addresses]) => ({ name, addresses })),
  };
  return JSON.stringify(node, null, 2) + '\n';
}

/**
 * The managed sysctls as `name = value` lines (state directory format, SYSCTL_NAMES order): one
 * `sysctl -e` for all (unknown keys, e.g. before ip_vs is loaded, are left out); one by one if
 * that fails.
 */
async function readSysctls(run: Run): Promise<string> {
  const dotted = new Map(SYSCTL_NAMES.map((n) => [n.replace(/\//g, '.'), n]));
  const values = new Map<string, string>();
  const r = await run({ tool: 'sysctl', args: ['-e', ...dotted.keys()], mutating: false });
  if (r.exitCode === 0) {
    for (const line of r.stdout.split('\n')) {
      const m = /^(\S+)\s*=\s*(.*)$/.exec(line);
      const name = m ? dotted.get(m[1]!) : undefined;
      if (name) values.set(name, m![2]!.trim());
    }
  } else {
    for (const [d, n] of dotted) {
      const one = await run({ tool: 'sysctl', args: ['-n', d], mutating: false });
      if (one.exitCode === 0) values.set(n, one.stdout.trim());
    }
  }
  const lines = SYSCTL_NAMES.filter((n) => values.has(n)).map((n) => `${n} = ${values.get(n)!}`);
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** Files in STATE_FILES order, whatever order the reads finished in. */
function orderedSnapshot(snap: StateSnapshot): StateSnapshot {
  const out: StateSnapshot = {};
  for (const f of ALL_FILES) if (snap[f] !== undefined) out[f] = snap[f];
  return out;
}

/** Runs f over items, at most `width` at a time, results in item order. */
async function pool<T, R>(items: readonly T[], width: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}
