/**
 * Node IPs that serve NodePorts (reference §3.2, kube-proxy's nodeport_addresses.go). Pure.
 */
import type { Family, Ip } from './net.js';
import { cidrContains, compareKeys, isLinkLocalV6, isLoopback, parseCidr } from './net.js';
import type { Cidr } from './net.js';
import type { NodeContext, ProxyConfig } from './types.js';

/**
 * @param bound addresses on kube-ipvs0 (in CIDR mode kube-proxy looks at every interface,
 *   kube-ipvs0 included: quirk 5 — a NodePort can then open on a cluster IP).
 */
export function nodePortIPs(node: NodeContext, family: Family, cfg: ProxyConfig, bound: readonly Ip[]): Ip[] {
  let cidrs: Cidr[];
  if (cfg.nodePortAddresses.length === 1 && cfg.nodePortAddresses[0] === 'primary') {
    const p = node.primary[family];
    cidrs = p && !isLoopback(p) ? [parseCidr(`${p.text}/${family === 'IPv4' ? 32 : 128}`)!] : [];
    if (cidrs.length === 0) return [];
  } else {
    cidrs = cfg.nodePortAddresses.flatMap((c) => {
      const p = parseCidr(c);
      return p && p.family === family ? [p] : [];
    });
  }
  const matchAll = cidrs.length === 0 || cidrs.some((c) => c.prefix === 0);
  const seen = new Map<string, Ip>();
  if (matchAll) {
    // kube-proxy: every local address minus the addresses on kube-ipvs0 (an address also bound
    // there does not serve NodePorts, whichever other interface carries it: S37).
    const onIpvs0 = new Set([...bound.map((b) => b.key), ...node.addresses.filter((a) => a.iface === 'kube-ipvs0').map((a) => a.ip.key)]);
    for (const a of node.addresses) {
      if (a.ip.family !== family || onIpvs0.has(a.ip.key) || isLoopback(a.ip) || isLinkLocalV6(a.ip)) continue;
      seen.set(a.ip.key, a.ip);
    }
  } else {
    const candidates = [...node.addresses.map((a) => a.ip), ...bound];
    for (const ip of candidates) {
      if (ip.family !== family || isLoopback(ip)) continue;
      if (cidrs.some((c) => cidrContains(c, ip))) seen.set(ip.key, ip);
    }
  }
  return [...seen.values()].sort((a, b) => compareKeys(a.key, b.key));
}
