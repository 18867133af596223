/**
 * Reads a node's state through a Host's command runner: the same tool outputs a state directory
 * holds (state/snapshot.ts). Missing tools or objects read as empty, as kube-proxy would find them.
 */
import type { Command, CommandResult } from './host.js';
import type { NodeInfo, StateSnapshot } from '../state/snapshot.js';
import { parseIpAddrOneline } from '../state/parse-ip-addr.js';

type Run = (c: Command) => Promise<CommandResult>;

/** The sysctls ipvsc manages, read one by one (sysctl -a is slow and noisy). */
export const SYSCTL_NAMES = [
  'net/ipv4/vs/conntrack', 'net/ipv4/vs/conn_reuse_mode', 'net/ipv4/vs/expire_nodest_conn',
  'net/ipv4/vs/expire_quiescent_template', 'net/ipv4/ip_forward', 'net/ipv4/conf/all/arp_ignore', 'net/ipv4/conf/all/arp_announce',
];

export async function readStateWith(run: Run, nodeName: string): Promise<StateSnapshot> {
  const read = async (tool: Command['tool'], args: string[]): Promise<string | undefined> => {
    const r = await run({ tool, args, mutating: false });
    return r.exitCode === 0 ? r.stdout : undefined;
  };
  const [ipvs, list, timeout, ipset, ipt, ip6t, kaddr, all, link, kernel] = await Promise.all([
    read('ipvsadm', ['-Sn']),
    read('ipvsadm', ['-Ln']),
    read('ipvsadm', ['-L', '--timeout']),
    read('ipset', ['save']),
    read('iptables-save', []),
    read('ip6tables-save', []),
    read('ip', ['-o', 'addr', 'show', 'dev', 'kube-ipvs0']),
    read('ip', ['-o', 'addr', 'show']),
    read('ip', ['-o', 'link', 'show', 'dev', 'kube-ipvs0']),
    read('uname', ['-r']),
  ]);
  const sysctls: string[] = [];
  for (const n of SYSCTL_NAMES) {
    const v = await read('sysctl', ['-n', n.replace(/\//g, '.')]);
    if (v !== undefined) sysctls.push(`${n} = ${v.trim()}`);
  }
  const ifaces = new Map<string, string[]>();
  for (const a of all ? parseIpAddrOneline(all) : []) {
    if (a.iface === 'kube-ipvs0') continue;
    ifaces.set(a.iface, [...(ifaces.get(a.iface) ?? []), `${a.ip}/${a.prefix}`]);
  }
  const node: NodeInfo = {
    name: nodeName,
    ...(kernel ? { kernel: kernel.trim() } : {}),
    kubeIpvs0Exists: link !== undefined && link.trim() !== '',
    interfaces: [...ifaces.entries()].map(([name, addresses]) => ({ name, addresses })),
  };
  const snap: StateSnapshot = {
    'node.json': JSON.stringify(node, null, 2) + '\n',
    'sysctl.txt': sysctls.join('\n') + (sysctls.length ? '\n' : ''),
  };
  const put = (k: keyof StateSnapshot, v: string | undefined): void => {
    if (v !== undefined) snap[k] = v;
  };
  put('ipvsadm.save', ipvs);
  put('ipvsadm.list', list);
  put('ipvsadm.timeout', timeout);
  put('ipset.save', ipset);
  put('iptables.save', ipt);
  put('ip6tables.save', ip6t);
  put('kube-ipvs0.addr', kaddr);
  return snap;
}
