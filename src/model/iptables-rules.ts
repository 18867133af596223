/**
 * kube-proxy's iptables payload for one family, rule by rule, in its generation order
 * (reference §4.3). Pure: the caller says which sets are non-empty, the local-traffic detector,
 * the mark and the OUT-FILTER drops.
 */
import type { Family } from './net.js';
import type { Protocol, SetId } from './names.js';
import { setInfo, setName } from './names.js';

export interface OutFilterDrop {
  readonly vip: string;
  readonly protocol: Protocol;
  readonly port: number;
}

export interface RuleInputs {
  readonly family: Family;
  readonly nonEmpty: (id: SetId) => boolean;
  readonly masqueradeAll: boolean;
  /** `! -s 10.244.0.0/16`, `! -i cbr0`, `! -i veth+`, or null for the no-op detector. */
  readonly notLocal: readonly string[] | null;
  readonly masqueradeBit: number;
  readonly outFilter: readonly OutFilterDrop[];
}

export interface Rules {
  readonly nat: string[];
  readonly filter: string[];
}

/** Go's `%#08x` of 1<<bit, as kube-proxy writes it: 0x00004000. */
export const markText = (bit: number): string => '0x' + ((1 << bit) >>> 0).toString(16).padStart(8, '0');

const q = (s: string): string => `"${s}"`;

export function buildRules(inp: RuleInputs): Rules {
  const nat: string[] = [];
  const filter: string[] = [];
  const n = (id: SetId): string => setName(id, inp.family);
  const c = (id: SetId): string => `-m comment --comment ${q(setInfo(id).comment)}`;
  const M = markText(inp.masqueradeBit);

  // 1. Traffic from localhost never goes through IPVS service handling.
  nat.push(`-A KUBE-SERVICES -s ${inp.family === 'IPv4' ? '127.0.0.0/8' : '::1/128'} -j RETURN`);

  // 2. Set-driven rules, each only when its set has entries (ipsetWithIptablesChain order).
  const setRules: [SetId, 'nat' | 'filter', string, string, string, string][] = [
    ['LOOP-BACK', 'nat', 'KUBE-POSTROUTING', '', 'dst,dst,src', 'MASQUERADE'],
    ['LOAD-BALANCER', 'nat', 'KUBE-SERVICES', '', 'dst,dst', 'KUBE-LOAD-BALANCER'],
    ['LOAD-BALANCER-LOCAL', 'nat', 'KUBE-LOAD-BALANCER', '', 'dst,dst', 'RETURN'],
    ['NODE-PORT-LOCAL-TCP', 'nat', 'KUBE-NODE-PORT', 'tcp', 'dst', 'RETURN'],
    ['NODE-PORT-TCP', 'nat', 'KUBE-NODE-PORT', 'tcp', 'dst', 'KUBE-MARK-MASQ'],
    ['NODE-PORT-LOCAL-UDP', 'nat', 'KUBE-NODE-PORT', 'udp', 'dst', 'RETURN'],
    ['NODE-PORT-UDP', 'nat', 'KUBE-NODE-PORT', 'udp', 'dst', 'KUBE-MARK-MASQ'],
    ['NODE-PORT-LOCAL-SCTP-HASH', 'nat', 'KUBE-NODE-PORT', 'sctp', 'dst,dst', 'RETURN'],
    ['NODE-PORT-SCTP-HASH', 'nat', 'KUBE-NODE-PORT', 'sctp', 'dst,dst', 'KUBE-MARK-MASQ'],
    ['LOAD-BALANCER-FW', 'filter', 'KUBE-PROXY-FIREWALL', '', 'dst,dst', 'KUBE-SOURCE-RANGES-FIREWALL'],
    ['LOAD-BALANCER-SOURCE-CIDR', 'filter', 'KUBE-SOURCE-RANGES-FIREWALL', '', 'dst,dst,src', 'RETURN'],
    ['LOAD-BALANCER-SOURCE-IP', 'filter', 'KUBE-SOURCE-RANGES-FIREWALL', '', 'dst,dst,src', 'RETURN'],
  ];
  for (const [id, table, chain, proto, match, target] of setRules) {
    if (!inp.nonEmpty(id)) continue;
    const p = proto ? ` -p ${proto}` : '';
    (table === 'nat' ? nat : filter).push(`-A ${chain}${p} ${c(id)} -m set --match-set ${n(id)} ${match} -j ${target}`);
  }

  // 3. Masquerade for cluster IPs: all, non-local sources, or node-originated (src,dst).
  if (inp.nonEmpty('CLUSTER-IP')) {
    const pre = `-A KUBE-SERVICES ${c('CLUSTER-IP')} -m set --match-set ${n('CLUSTER-IP')}`;
    if (inp.masqueradeAll) nat.push(`${pre} dst,dst -j KUBE-MARK-MASQ`);
    else if (inp.notLocal) nat.push(`${pre} dst,dst ${inp.notLocal.join(' ')} -j KUBE-MARK-MASQ`);
    else nat.push(`${pre} src,dst -j KUBE-MARK-MASQ`);
  }
  // 4./5. External IPs: masquerade (Cluster policy only), accept when not bridged / local.
  for (const id of ['EXTERNAL-IP', 'EXTERNAL-IP-LOCAL'] as const) {
    if (!inp.nonEmpty(id)) continue;
    const pre = `-A KUBE-SERVICES ${c(id)} -m set --match-set ${n(id)} dst,dst`;
    if (id === 'EXTERNAL-IP') nat.push(`${pre} -j KUBE-MARK-MASQ`);
    nat.push(`${pre} -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`);
    nat.push(`${pre} -m addrtype --dst-type LOCAL -j ACCEPT`);
  }
  // 6.-8. Always present.
  nat.push('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT');
  nat.push('-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ');
  filter.push('-A KUBE-SOURCE-RANGES-FIREWALL -j DROP');
  // 9. Node → LB VIP traffic that would bypass source ranges (kubernetes#119656).
  for (const d of inp.outFilter) {
    filter.push(`-A KUBE-IPVS-OUT-FILTER -s ${d.vip} -m ipvs --vaddr ${d.vip} --vproto ${d.protocol.toLowerCase()} --vport ${d.port} -j DROP`);
  }
  // 10. Accept IPVS traffic before other nat rules can DNAT it.
  if (inp.nonEmpty('CLUSTER-IP')) nat.push(`-A KUBE-SERVICES -m set --match-set ${n('CLUSTER-IP')} dst,dst -j ACCEPT`);
  if (inp.nonEmpty('LOAD-BALANCER')) nat.push(`-A KUBE-SERVICES -m set --match-set ${n('LOAD-BALANCER')} dst,dst -j ACCEPT`);
  // 11.-13.
  filter.push(`-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${M}/${M} -j ACCEPT`);
  filter.push('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  filter.push(`-A KUBE-NODE-PORT ${c('HEALTH-CHECK-NODE-PORT')} -m set --match-set ${n('HEALTH-CHECK-NODE-PORT')} dst -j ACCEPT`);
  // 14. Reject new connections to kube-ipvs0 addresses that are not a service (kubernetes#72236).
  filter.push(`-A KUBE-IPVS-FILTER -m set --match-set ${n('LOAD-BALANCER')} dst,dst -j RETURN`);
  filter.push(`-A KUBE-IPVS-FILTER -m set --match-set ${n('CLUSTER-IP')} dst,dst -j RETURN`);
  filter.push(`-A KUBE-IPVS-FILTER -m set --match-set ${n('EXTERNAL-IP')} dst,dst -j RETURN`);
  filter.push(`-A KUBE-IPVS-FILTER -m set --match-set ${n('EXTERNAL-IP-LOCAL')} dst,dst -j RETURN`);
  filter.push(`-A KUBE-IPVS-FILTER -m set --match-set ${n('HEALTH-CHECK-NODE-PORT')} dst -j RETURN`);
  filter.push(`-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set ${n('IPVS-IPS')} dst -j REJECT`);
  // 15. SNAT of marked packets.
  nat.push(`-A KUBE-POSTROUTING -m mark ! --mark ${M}/${M} -j RETURN`);
  nat.push(`-A KUBE-POSTROUTING -j MARK --xor-mark ${M}`);
  nat.push('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
  nat.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${M}`);
  return { nat, filter };
}
