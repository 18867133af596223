/**
 * The domain model: what ipvsc believes kube-proxy would program on one node.
 * Types only; the builders live next to this file. Everything is plain data so a plan can
 * be printed, serialised and compared.
 */
import type { Cidr, Family, Ip } from './net.js';
import type { Protocol, SetType } from './names.js';

/** Where a generated line comes from: printed in plans and apply errors. */
export interface Origin {
  /** `Service shop/cart` */
  readonly object: string;
  /** Service port name (may be empty) */
  readonly port?: string;
  readonly file?: string;
  readonly path?: string;
  /** 0-based YAML document index in `file`. */
  readonly doc?: number;
}

export type DetectLocalMode = 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix';

/** kube-proxy's configuration after flags, config file and defaults were merged (reference §5). */
export interface ProxyConfig {
  readonly mode: string;
  readonly scheduler: string;
  readonly excludeCIDRs: readonly Cidr[];
  readonly strictARP: boolean;
  /** Seconds; 0 keeps the kernel value. */
  readonly tcpTimeout: number;
  readonly tcpFinTimeout: number;
  readonly udpTimeout: number;
  readonly masqueradeAll: boolean;
  readonly masqueradeBit: number;
  readonly clusterCIDRs: readonly Cidr[];
  readonly detectLocalMode: DetectLocalMode;
  readonly bridgeInterface: string;
  readonly interfaceNamePrefix: string;
  /** CIDRs, or the single keyword `primary`. Empty = all addresses. */
  readonly nodePortAddresses: readonly string[];
  readonly hostnameOverride: string;
  /** `0.0.0.0` unless set. */
  readonly bindAddress: string;
  readonly featureGates: Readonly<Record<string, boolean>>;
  readonly conntrack: {
    readonly maxPerCore: number;
    readonly min: number;
    readonly tcpEstablishedTimeout: number;
    readonly tcpCloseWaitTimeout: number;
    readonly tcpBeLiberal: boolean;
    readonly udpTimeout: number;
    readonly udpStreamTimeout: number;
  };
}

/** An address on one of the node's interfaces. */
export interface InterfaceAddress {
  readonly iface: string;
  readonly ip: Ip;
}

/** What ipvsc knows about the node it compiles for. */
export interface NodeContext {
  /** Lower-cased node name; '' when unknown (then no endpoint is local). */
  readonly name: string;
  /** Interface addresses, kube-ipvs0 excluded. */
  readonly addresses: readonly InterfaceAddress[];
  /** Primary node IP per family (bind address, Node status, first --node-ip); absent = loopback. */
  readonly primary: Partial<Record<Family, Ip>>;
  readonly zone: string;
  readonly podCIDRs: readonly Cidr[];
}

export interface RealServer {
  readonly address: Ip;
  readonly port: number;
  readonly weight: number;
}

export interface VirtualServer {
  readonly protocol: Protocol;
  readonly address: Ip;
  readonly port: number;
  readonly scheduler: string;
  /** `mh-port` with the mh scheduler (IP_VS_SVC_F_SCHED2). */
  readonly flags: readonly string[];
  /** Persistence timeout in seconds; 0 = not persistent. */
  readonly timeout: number;
  readonly realServers: readonly RealServer[];
  readonly origin: Origin;
}

export interface IpSet {
  readonly name: string;
  readonly type: SetType;
  readonly family: Family;
  /** Sorted, unique entry texts. */
  readonly entries: readonly string[];
}

/** One family's proxier output. */
export interface FamilyPass {
  readonly family: Family;
  readonly sets: readonly IpSet[];
  /** Rule lines (`-A CHAIN …`) in kube-proxy's payload order, per table. */
  readonly nat: readonly string[];
  readonly filter: readonly string[];
  /** Addresses to bind on kube-ipvs0 (`/32` or `/128`), sorted. */
  readonly bound: readonly Ip[];
}

export interface Sysctl {
  readonly name: string;
  readonly value: string;
  /** Kernel-version condition, e.g. `kernel>=4.1 <5.9`; absent = always. */
  readonly when?: string;
}

export interface DesiredState {
  readonly node: NodeContext;
  readonly passes: readonly FamilyPass[];
  /** All virtual servers of both families, sorted (docs/artifacts.md). */
  readonly virtualServers: readonly VirtualServer[];
  readonly kubeIpvs0: readonly string[];
  readonly sysctls: readonly Sysctl[];
  readonly timeouts: { readonly tcp: number; readonly tcpfin: number; readonly udp: number };
  readonly excludeCIDRs: readonly Cidr[];
}
