/**
 * The node ipvsc compiles for: its name, interface addresses, primary IPs, zone and pod CIDRs,
 * from --hostname-override, the Node object, --node-ip and --bind-address. Pure.
 *
 * kube-proxy reads interface addresses from the kernel; compile does not run on the node, so the
 * addresses are `--node-ip` values (when given) or the Node's InternalIP/ExternalIP addresses.
 * plan/apply on a live node use the real interfaces instead (host/).
 */
import type { Cidr, Family, Ip } from './net.js';
import { isLoopback, isUnspecified, parseCidr, parseIp } from './net.js';
import type { Node } from './k8s.js';
import { ZONE_LABEL } from './k8s.js';
import type { InterfaceAddress, NodeContext, ProxyConfig } from './types.js';

export interface NodeInputs {
  readonly config: ProxyConfig;
  readonly nodes: readonly Node[];
  /** `--node-ip` values, already validated. */
  readonly nodeIPs: readonly string[];
  /** Interface addresses read from a live node (plan/apply); take precedence over the rest. */
  readonly interfaces?: readonly InterfaceAddress[];
}

export function buildNodeContext(inp: NodeInputs): NodeContext {
  const name = inp.config.hostnameOverride;
  const node = inp.nodes.find((n) => (n.metadata.name ?? '').toLowerCase() === name);
  const nodeAddrs = (node?.status?.addresses ?? [])
    .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
    // InternalIP before ExternalIP, as utilnode.GetNodeHostIPs orders them.
    .sort((a, b) => (a.type === b.type ? 0 : a.type === 'InternalIP' ? -1 : 1))
    .flatMap((a) => {
      const ip = parseIp(a.address);
      return ip ? [ip] : [];
    });
  const flagIPs = inp.nodeIPs.flatMap((s) => {
    const ip = parseIp(s);
    return ip ? [ip] : [];
  });
  let addresses: InterfaceAddress[];
  if (inp.interfaces) addresses = [...inp.interfaces];
  else if (flagIPs.length > 0) addresses = flagIPs.map((ip) => ({ iface: 'eth0', ip }));
  else addresses = nodeAddrs.map((ip) => ({ iface: 'eth0', ip }));
  const primary: Partial<Record<Family, Ip>> = {};
  const bind = parseIp(inp.config.bindAddress);
  for (const fam of ['IPv4', 'IPv6'] as const) {
    if (bind && !isUnspecified(bind) && bind.family === fam) primary[fam] = bind;
    else {
      const from = [...nodeAddrs, ...flagIPs].find((ip) => ip.family === fam && !isLoopback(ip));
      if (from) primary[fam] = from;
    }
  }
  const podCIDRs: Cidr[] = [...(node?.spec?.podCIDRs ?? []), ...(node?.spec?.podCIDR ? [node.spec.podCIDR] : [])].flatMap((c) => {
    const p = parseCidr(c);
    return p ? [p] : [];
  });
  return {
    name,
    addresses,
    primary,
    zone: node?.metadata.labels?.[ZONE_LABEL] ?? '',
    podCIDRs,
  };
}
