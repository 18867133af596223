/**
 * Services + endpoints + config + node → DesiredState: every virtual server, set entry, rule and
 * kube-ipvs0 address kube-proxy's IPVS proxiers would program (reference §1–§4). Pure.
 *
 * One pass per IP family, as kube-proxy runs one proxier per family; both share the IPVS table
 * and kube-ipvs0. Two Services claiming one VIP:port/protocol are undefined behaviour in
 * kube-proxy (random map order decides): ipvsc reports an error naming both.
 */
import type { Diagnostic } from '../diag/diagnostic.js';
import type { Family, Ip } from './net.js';
import { cidrContains, compareKeys, hostCidr, joinHostPort, parseIp } from './net.js';
import type { EndpointSlice, Service } from './k8s.js';
import { buildEndpointsMap } from './endpoints.js';
import type { Endpoint } from './endpoints.js';
import { servicePorts, servicePortKey } from './service-ports.js';
import type { ServicePort } from './service-ports.js';
import { categorizeEndpoints, endpointsForVS } from './select-endpoints.js';
import { nodePortIPs } from './node-ips.js';
import { SetBuilder } from './set-builder.js';
import { buildRules } from './iptables-rules.js';
import { sortSmall } from '../util/sort-small.js';
import type { OutFilterDrop } from './iptables-rules.js';
import type { SetId } from './names.js';
import { protocolRank } from './names.js';
import type { DesiredState, FamilyPass, NodeContext, ProxyConfig, RealServer, Sysctl, VirtualServer } from './types.js';

export interface ServiceInput {
  readonly service: Service;
  readonly file: string;
  readonly base: string;
  readonly doc: number;
}

export interface BuildInputs {
  readonly services: readonly ServiceInput[];
  readonly slices: readonly EndpointSlice[];
  readonly config: ProxyConfig;
  readonly node: NodeContext;
}

export interface BuildResult {
  readonly state: DesiredState;
  readonly diags: Diagnostic[];
}

/** Identity of a virtual server in the IPVS table: protocol, address, port. */
const vsIdentity = (protocol: VirtualServer['protocol'], address: Ip, port: number): string => `${protocol} ${address.text} ${port}`;

/** Virtual server order: address, port, protocol (docs/artifacts.md). */
export const compareVirtualServers = (x: VirtualServer, y: VirtualServer): number =>
  compareKeys(x.address.key, y.address.key) || x.port - y.port || protocolRank(x.protocol) - protocolRank(y.protocol);

const NO_ENDPOINTS: readonly Endpoint[] = Object.freeze([]);

const compareRealServers = (a: RealServer, b: RealServer): number => compareKeys(a.address.key, b.address.key) || a.port - b.port;

export function activeFamilies(inp: BuildInputs): Family[] {
  const v6 =
    inp.services.some(({ service: s }) => [s.spec.clusterIP, ...(s.spec.clusterIPs ?? [])].some((x) => x && parseIp(x)?.family === 'IPv6')) ||
    inp.node.addresses.some((a) => a.ip.family === 'IPv6') ||
    inp.node.primary.IPv6 !== undefined ||
    inp.config.clusterCIDRs.some((c) => c.family === 'IPv6');
  return v6 ? ['IPv4', 'IPv6'] : ['IPv4'];
}

export function buildDesiredState(inp: BuildInputs): BuildResult {
  const diags: Diagnostic[] = [];
  const claims = new Map<string, VirtualServer>();
  const passes: FamilyPass[] = [];
  for (const family of activeFamilies(inp)) passes.push(buildPass(inp, family, claims, diags));
  const virtualServers = [...claims.values()].sort(compareVirtualServers);
  const kubeIpvs0 = passes.flatMap((p) => p.bound.map(hostCidr));
  const cfg = inp.config;
  return {
    state: {
      node: inp.node,
      passes,
      virtualServers,
      kubeIpvs0,
      sysctls: sysctlsFor(cfg),
      timeouts: { tcp: cfg.tcpTimeout, tcpfin: cfg.tcpFinTimeout, udp: cfg.udpTimeout },
      excludeCIDRs: cfg.excludeCIDRs,
    },
    diags,
  };
}

/** Sysctls kube-proxy sets in IPVS mode (reference §3.8). */
export function sysctlsFor(cfg: ProxyConfig): Sysctl[] {
  const out: Sysctl[] = [
    { name: 'net/ipv4/vs/conntrack', value: '1' },
    // Only on kernels 4.1 to 5.8: newer kernels fixed the connection-reuse bug it works around.
    { name: 'net/ipv4/vs/conn_reuse_mode', value: '0', when: 'kernel>=4.1 <5.9' },
    { name: 'net/ipv4/vs/expire_nodest_conn', value: '1' },
    { name: 'net/ipv4/vs/expire_quiescent_template', value: '1' },
    { name: 'net/ipv4/ip_forward', value: '1' },
  ];
  if (cfg.strictARP) out.push({ name: 'net/ipv4/conf/all/arp_ignore', value: '1' }, { name: 'net/ipv4/conf/all/arp_announce', value: '2' });
  return out;
}

function notLocalMatch(cfg: ProxyConfig, node: NodeContext, family: Family): string[] | null {
  switch (cfg.detectLocalMode) {
    case 'ClusterCIDR': {
      const c = cfg.clusterCIDRs.find((x) => x.family === family);
      return c ? ['!', '-s', c.text] : null;
    }
    case 'NodeCIDR': {
      const c = node.podCIDRs.find((x) => x.family === family);
      return c ? ['!', '-s', c.text] : null;
    }
    case 'BridgeInterface':
      return ['!', '-i', cfg.bridgeInterface];
    case 'InterfaceNamePrefix':
      return ['!', '-i', `${cfg.interfaceNamePrefix}+`];
  }
}

function buildPass(inp: BuildInputs, family: Family, claims: Map<string, VirtualServer>, diags: Diagnostic[]): FamilyPass {
  const { config: cfg, node } = inp;
  const sets = new SetBuilder();
  const bound = new Map<string, Ip>();
  const outFilter: OutFilterDrop[] = [];
  const epMap = buildEndpointsMap(inp.slices, family, node.name);
  const topo = { name: node.name, zone: node.zone, preferSameNode: cfg.featureGates['PreferSameTrafficDistribution'] === true };
  const onInterface = new Set(node.addresses.filter((a) => a.iface !== 'kube-ipvs0').map((a) => a.ip.key));
  const nodeIP = node.primary[family];
  const flags = cfg.scheduler === 'mh' ? ['mh-port'] : [];

  // Indexed loops on the per-port and per-endpoint paths: for-of allocates an iterator result
  // per step until the optimiser removes it, ~8 MB at 10k Services (issue #5).
  const keyed: { sp: ServicePort; k: string }[] = [];
  for (let i = 0; i < inp.services.length; i++) {
    const s = inp.services[i]!;
    const sps = servicePorts(s.service, family, s);
    for (let j = 0; j < sps.length; j++) keyed.push({ sp: sps[j]!, k: servicePortKey(sps[j]!) });
  }
  keyed.sort((a, b) => compareKeys(a.k, b.k));
  const ports = keyed.map((x) => x.sp);

  // Addresses bound on kube-ipvs0 first: CIDR-mode NodePort addresses may include them (quirk 5).
  for (let i = 0; i < ports.length; i++) {
    const sp = ports[i]!;
    bound.set(sp.clusterIP.key, sp.clusterIP);
    for (let j = 0; j < sp.externalIPs.length; j++) if (!onInterface.has(sp.externalIPs[j]!.key)) bound.set(sp.externalIPs[j]!.key, sp.externalIPs[j]!);
    for (let j = 0; j < sp.lbVIPs.length; j++) if (!onInterface.has(sp.lbVIPs[j]!.key)) bound.set(sp.lbVIPs[j]!.key, sp.lbVIPs[j]!);
  }
  const boundList = [...bound.values()].sort((a, b) => compareKeys(a.key, b.key));
  const needNodeIPs = ports.some((sp) => sp.nodePort !== 0);
  const nodeIPs = needNodeIPs ? nodePortIPs(node, family, cfg, boundList) : [];
  if (cfg.detectLocalMode === 'NodeCIDR' && !node.podCIDRs.some((c) => c.family === family) && ports.length > 0) {
    diags.push({ severity: 'warning', code: 'MODEL_NO_POD_CIDR', summary: `detect-local-mode NodeCIDR, but the node has no ${family} pod CIDR: cluster-IP traffic is masqueraded only when sourced from a VIP (kube-proxy waits for the Node's podCIDRs)`, hint: 'include the Node object with spec.podCIDRs among the inputs' });
  }
  if (needNodeIPs && nodeIPs.length === 0) {
    diags.push({ severity: 'warning', code: 'MODEL_NO_NODE_IPS', summary: `no ${family} node address serves NodePorts, so no NodePort virtual servers are made for ${family} (kube-proxy does the same)`, hint: 'pass --node-ip, a Node object for --hostname-override, or check --nodeport-addresses' });
  }

  // The real servers of a service port's VSs are mostly the same endpoint list (cluster IP,
  // NodePorts, external IPs): build each distinct list once and share it.
  const rsCache = new Map<readonly Endpoint[], RealServer[]>();
  const realServersOf = (eps: readonly Endpoint[]): RealServer[] => {
    let rs = rsCache.get(eps);
    if (!rs) {
      rs = sortSmall(eps.map((e) => ({ address: e.addr, port: e.port, weight: 1 })), compareRealServers);
      rsCache.set(eps, rs);
    }
    return rs;
  };
  const addVS = (sp: ServicePort, address: Ip, port: number, eps: readonly Endpoint[]): void => {
    const realServers = realServersOf(eps);
    const vs: VirtualServer = { protocol: sp.protocol, address, port, scheduler: cfg.scheduler, flags, timeout: sp.affinityTimeout, realServers, origin: sp.origin };
    const key = vsIdentity(sp.protocol, address, port);
    const prev = claims.get(key);
    if (prev && prev.origin.object !== vs.origin.object) {
      diags.push({
        severity: 'error', code: 'MODEL_VIP_CONFLICT', object: vs.origin.object,
        ...(vs.origin.file ? { file: vs.origin.file } : {}), ...(vs.origin.doc !== undefined ? { doc: vs.origin.doc } : {}), ...(vs.origin.path ? { path: vs.origin.path } : {}),
        summary: `${sp.protocol} ${joinHostPort(address.text, port)} is claimed by both ${prev.origin.object} and ${vs.origin.object}; kube-proxy's result would depend on map order`,
        hint: 'give each Service its own address or port (the API server never allows this; check for copy-pasted clusterIP, externalIPs, nodePort or load-balancer addresses)',
      });
      return;
    }
    if (!prev) claims.set(key, vs);
  };

  for (let i = 0; i < keyed.length; i++) {
    const { sp, k } = keyed[i]!;
    const eps = epMap.get(k) ?? NO_ENDPOINTS;
    const cat = categorizeEndpoints(eps, sp, topo);
    const proto = sp.protocol;
    for (let j = 0; j < eps.length; j++) {
      const e = eps[j]!;
      if (!e.isLocal || e.port === 0) continue;
      sets.ipPortIp('LOOP-BACK', e.addr, proto, e.port, e.addr);
    }
    sets.ipPort('CLUSTER-IP', sp.clusterIP, proto, sp.port);
    addVS(sp, sp.clusterIP, sp.port, endpointsForVS(cat, sp.internalPolicyLocal));
    const extEps = endpointsForVS(cat, sp.externalPolicyLocal);
    for (const ip of sp.externalIPs) {
      sets.ipPort(sp.externalPolicyLocal ? 'EXTERNAL-IP-LOCAL' : 'EXTERNAL-IP', ip, proto, sp.port);
      addVS(sp, ip, sp.port, extEps);
    }
    for (const vip of sp.lbVIPs) {
      sets.ipPort('LOAD-BALANCER', vip, proto, sp.port);
      if (sp.externalPolicyLocal) sets.ipPort('LOAD-BALANCER-LOCAL', vip, proto, sp.port);
      if (sp.sourceRanges.length > 0) {
        sets.ipPort('LOAD-BALANCER-FW', vip, proto, sp.port);
        for (const r of sp.sourceRanges) sets.ipPortNet('LOAD-BALANCER-SOURCE-CIDR', vip, proto, sp.port, r);
        // Node-originated traffic to the VIP is sourced from the VIP itself (bound on kube-ipvs0).
        const self = parseIp(family === 'IPv4' ? '127.0.0.1' : '::1')!;
        const nip = nodeIP ?? self;
        if (sp.sourceRanges.some((r) => cidrContains(r, nip))) sets.ipPortIp('LOAD-BALANCER-SOURCE-IP', vip, proto, sp.port, vip);
        else outFilter.push({ vip: vip.text, protocol: proto, port: sp.port });
      }
      addVS(sp, vip, sp.port, extEps);
    }
    if (sp.nodePort !== 0) {
      // An empty node-IP list skips the rest of the port, health-check entry included (quirk 4).
      if (nodeIPs.length === 0) continue;
      for (const nip of nodeIPs) addVS(sp, nip, sp.nodePort, extEps);
      const local = sp.externalPolicyLocal;
      if (proto === 'SCTP') {
        for (const nip of nodeIPs) {
          sets.ipPort('NODE-PORT-SCTP-HASH', nip, proto, sp.nodePort);
          if (local) sets.ipPort('NODE-PORT-LOCAL-SCTP-HASH', nip, proto, sp.nodePort);
        }
      } else {
        const id: SetId = proto === 'TCP' ? 'NODE-PORT-TCP' : 'NODE-PORT-UDP';
        sets.port(id, sp.nodePort);
        if (local) sets.port(proto === 'TCP' ? 'NODE-PORT-LOCAL-TCP' : 'NODE-PORT-LOCAL-UDP', sp.nodePort);
      }
    }
    if (sp.healthCheckNodePort !== 0) sets.port('HEALTH-CHECK-NODE-PORT', sp.healthCheckNodePort);
  }
  for (const ip of boundList) sets.ip('IPVS-IPS', ip);

  outFilter.sort((a, b) => compareKeys(parseIp(a.vip)!.key, parseIp(b.vip)!.key) || a.port - b.port || protocolRank(a.protocol) - protocolRank(b.protocol));
  const rules = buildRules({
    family,
    nonEmpty: (id) => sets.has(id),
    masqueradeAll: cfg.masqueradeAll,
    notLocal: notLocalMatch(cfg, node, family),
    masqueradeBit: cfg.masqueradeBit,
    outFilter,
  });
  return { family, sets: sets.build(family), nat: rules.nat, filter: rules.filter, bound: boundList };
}
