/**
 * kube-proxy's names, comments and relationships as data (reference §2.2, §4.2).
 * The catalogue order is kube-proxy's internal list order; artifacts follow it.
 */
import type { Family } from './net.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
export const protocolRank = (p: Protocol): number => PROTOCOLS.indexOf(p);

export type SetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

export type SetId =
  | 'LOOP-BACK' | 'CLUSTER-IP' | 'EXTERNAL-IP' | 'EXTERNAL-IP-LOCAL' | 'LOAD-BALANCER'
  | 'LOAD-BALANCER-FW' | 'LOAD-BALANCER-LOCAL' | 'LOAD-BALANCER-SOURCE-IP' | 'LOAD-BALANCER-SOURCE-CIDR'
  | 'NODE-PORT-TCP' | 'NODE-PORT-LOCAL-TCP' | 'NODE-PORT-UDP' | 'NODE-PORT-LOCAL-UDP'
  | 'NODE-PORT-SCTP-HASH' | 'NODE-PORT-LOCAL-SCTP-HASH' | 'HEALTH-CHECK-NODE-PORT' | 'IPVS-IPS';

export interface SetInfo {
  readonly id: SetId;
  readonly type: SetType;
  /** Comment kube-proxy puts on the iptables rule that matches this set (never inside ipset). */
  readonly comment: string;
}

export const SET_CATALOGUE: readonly SetInfo[] = [
  { id: 'LOOP-BACK', type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  { id: 'CLUSTER-IP', type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  { id: 'EXTERNAL-IP', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  { id: 'EXTERNAL-IP-LOCAL', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  { id: 'LOAD-BALANCER', type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  { id: 'LOAD-BALANCER-FW', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  { id: 'LOAD-BALANCER-LOCAL', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  { id: 'LOAD-BALANCER-SOURCE-IP', type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  { id: 'LOAD-BALANCER-SOURCE-CIDR', type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  { id: 'NODE-PORT-TCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  { id: 'NODE-PORT-LOCAL-TCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  { id: 'NODE-PORT-UDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  { id: 'NODE-PORT-LOCAL-UDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  { id: 'NODE-PORT-SCTP-HASH', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  { id: 'NODE-PORT-LOCAL-SCTP-HASH', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'" },
  { id: 'HEALTH-CHECK-NODE-PORT', type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  { id: 'IPVS-IPS', type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
];

export const setInfo = (id: SetId): SetInfo => SET_CATALOGUE.find((s) => s.id === id)!;

/** ipset names are at most 31 characters (IPSET_MAXNAMELEN 32 with the NUL). */
export const IPSET_MAX_NAME = 31;

/** `KUBE-<id>` for IPv4; `KUBE-6-<id>` cut to 31 characters for IPv6 (reference §2.2). */
export function setName(id: SetId, family: Family): string {
  return family === 'IPv4' ? `KUBE-${id}` : `KUBE-6-${id}`.slice(0, IPSET_MAX_NAME);
}

/** Every set name ipvsc owns, both families. */
export const OWNED_SET_NAMES: ReadonlySet<string> = new Set(
  SET_CATALOGUE.flatMap((s) => [setName(s.id, 'IPv4'), setName(s.id, 'IPv6')]),
);

export type Table = 'nat' | 'filter';

/** Chains kube-proxy declares, per table, in its payload order (reference §4.2, S30). */
export const KUBE_CHAINS: Readonly<Record<Table, readonly string[]>> = {
  nat: ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ'],
  filter: ['KUBE-FORWARD', 'KUBE-NODE-PORT', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-IPVS-FILTER', 'KUBE-IPVS-OUT-FILTER'],
};

export interface JumpRule {
  readonly table: Table;
  readonly from: string;
  readonly comment: string;
  readonly to: string;
}

/** Jumps from built-in chains, in kube-proxy's insertion order (each inserted at position 1). */
export const JUMP_RULES: readonly JumpRule[] = [
  { table: 'nat', from: 'OUTPUT', comment: 'kubernetes service portals', to: 'KUBE-SERVICES' },
  { table: 'nat', from: 'PREROUTING', comment: 'kubernetes service portals', to: 'KUBE-SERVICES' },
  { table: 'nat', from: 'POSTROUTING', comment: 'kubernetes postrouting rules', to: 'KUBE-POSTROUTING' },
  { table: 'filter', from: 'FORWARD', comment: 'kubernetes forwarding rules', to: 'KUBE-FORWARD' },
  { table: 'filter', from: 'INPUT', comment: 'kubernetes health check rules', to: 'KUBE-NODE-PORT' },
  { table: 'filter', from: 'INPUT', comment: 'kube-proxy firewall rules', to: 'KUBE-PROXY-FIREWALL' },
  { table: 'filter', from: 'FORWARD', comment: 'kube-proxy firewall rules', to: 'KUBE-PROXY-FIREWALL' },
  { table: 'filter', from: 'INPUT', comment: 'kubernetes ipvs access filter', to: 'KUBE-IPVS-FILTER' },
  { table: 'filter', from: 'OUTPUT', comment: 'kubernetes ipvs access filter', to: 'KUBE-IPVS-OUT-FILTER' },
];

/** The rule text of a jump, as `iptables-save` would list it (`-A FROM …`). */
export const jumpRuleSpec = (j: JumpRule): string => `-m comment --comment "${j.comment}" -j ${j.to}`;

export const KUBE_IPVS0 = 'kube-ipvs0';

/** Schedulers the kernel offers (reference §3.9); availability depends on the kernel build. */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];
