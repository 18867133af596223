/**
 * Both sides of a plan in one canonical form: the live node (parsed tool outputs) and the
 * desired state (parsed ipvsc artifacts). Parsing our own artifacts with the same parsers as
 * the kernel's output means one normaliser decides equality (and gives the round-trip test).
 */
import type { Diagnostic } from '../diag/diagnostic.js';
import type { Family } from '../model/net.js';
import { addressSortKey, canonicalV4, ipv4Key } from './scan.js';
import type { LiveIpSet, LiveIptables, LiveVirtualServer } from './types.js';
import { StateParseError } from './types.js';
import { parseIpvsadmList, parseIpvsadmSave, parseIpvsTimeouts } from './parse-ipvsadm.js';
import type { IpvsadmList, IpvsTimeouts } from './parse-ipvsadm.js';
import { parseIpsetSave } from './parse-ipset.js';
import { parseIptablesSave } from './parse-iptables.js';
import { parseIpAddrOneline } from './parse-ip-addr.js';
import { parseSysctlLines } from './parse-sysctl.js';
import type { NodeInfo, StateFile, StateSnapshot } from './snapshot.js';

export interface CanonicalState {
  readonly ipvs: readonly LiveVirtualServer[];
  readonly ipvsTimeouts?: IpvsTimeouts;
  readonly conns?: IpvsadmList;
  readonly ipsets: readonly LiveIpSet[];
  readonly iptables: Readonly<Record<Family, LiveIptables>>;
  readonly kubeIpvs0: { readonly exists: boolean; readonly addresses: readonly string[] };
  readonly sysctls: Readonly<Record<string, string>>;
  readonly node: NodeInfo;
}

export function parseSnapshot(snap: StateSnapshot): { state?: CanonicalState; diags: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const guard = <T>(file: StateFile, fallback: T, f: (text: string) => T): T => {
    const text = snap[file];
    if (text === undefined || !/\S/.test(text)) return fallback; // blank (without trim's copy of a 4 MB text)
    try {
      return f(text);
    } catch (e) {
      if (e instanceof StateParseError) {
        diags.push({ severity: 'error', code: 'STATE_UNPARSEABLE', file, pos: { line: e.line, col: 1 }, summary: `cannot read ${file} (${e.tool} output): ${e.message}`, hint: 'the file must hold the unmodified output of the command named in the README (State directory)' });
      } else if (e instanceof SyntaxError) {
        diags.push({ severity: 'error', code: 'STATE_UNPARSEABLE', file, summary: `cannot read ${file}: ${e.message}` });
      } else throw e;
      return fallback;
    }
  };
  const bootId = snap['boot_id']?.trim();
  const node = { ...guard<NodeInfo>('node.json', {}, (t) => JSON.parse(t) as NodeInfo), ...(bootId ? { bootId } : {}) };
  const addrs = guard('kube-ipvs0.addr', [], (t) => parseIpAddrOneline(t).filter((a) => a.iface === 'kube-ipvs0'));
  const conns = snap['ipvsadm.list'] ? guard('ipvsadm.list', undefined as unknown as IpvsadmList, parseIpvsadmList) : undefined;
  const state: CanonicalState = {
    // ipvsadm -Ln lists the same services and real servers as -Sn: a live read holds only the list.
    ipvs: snap['ipvsadm.save'] !== undefined || !conns ? guard('ipvsadm.save', [], parseIpvsadmSave) : conns.services,
    ...(snap['ipvsadm.timeout'] ? { ipvsTimeouts: guard('ipvsadm.timeout', { tcp: 0, tcpfin: 0, udp: 0 }, parseIpvsTimeouts) } : {}),
    ...(conns ? { conns } : {}),
    ipsets: guard('ipset.save', [], parseIpsetSave),
    iptables: {
      IPv4: guard('iptables.save', {}, (t) => parseIptablesSave(t, 'IPv4')),
      IPv6: guard('ip6tables.save', {}, (t) => parseIptablesSave(t, 'IPv6')),
    },
    kubeIpvs0: {
      exists: node.kubeIpvs0Exists ?? addrs.length > 0,
      addresses: sortByAddress(addrs.map((a) => `${a.ip}/${a.prefix}`)),
    },
    sysctls: guard('sysctl.txt', {}, parseSysctlLines),
    node,
  };
  return diags.length ? { diags } : { state, diags };
}

function addressKey(cidr: string): string {
  return addressSortKey(cidr, 0, addressEnd(cidr)) ?? cidr;
}

const addressEnd = (cidr: string): number => {
  const slash = cidr.indexOf('/');
  return slash < 0 ? cidr.length : slash;
};

/**
 * `ADDR/PREFIX` texts in address order (parseIp's key, or the text when not an address), ties as
 * given; in place, each address keyed once (12k on a 10k-Service node). A canonical IPv4 address
 * is keyed by its number under the key `4` (its key is `4` + 8 hex digits), unless some other
 * key also starts with `4` (a mapped address, or text that is no address).
 */
export function sortByAddress(list: string[]): string[] {
  let numeric = true;
  const keyed = list.map((a) => {
    const v4 = canonicalV4(a, 0, addressEnd(a));
    if (v4 >= 0) return { a, k: '4', n: v4 };
    const k = addressKey(a);
    if (k.startsWith('4')) numeric = false;
    return { a, k, n: 0 };
  });
  if (!numeric) for (const x of keyed) if (x.k === '4') [x.k, x.n] = [ipv4Key(x.n), 0];
  keyed.sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : x.n - y.n));
  keyed.forEach((x, i) => (list[i] = x.a));
  return list;
}
