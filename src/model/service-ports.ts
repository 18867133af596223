/**
 * Service → one ServicePort per entry of spec.ports, for one IP family (reference §1.3).
 * Pure. Skips exactly what kube-proxy skips: headless, ExternalName, no cluster IP of the family,
 * and objects carrying the service-proxy-name or headless labels.
 */
import type { Cidr, Family, Ip } from './net.js';
import { parseCidr, parseIp } from './net.js';
import type { Service } from './k8s.js';
import { HEADLESS_LABEL, PROXY_NAME_LABEL } from './k8s.js';
import type { Protocol } from './names.js';
import type { Origin } from './types.js';

export interface ServicePort {
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly protocol: Protocol;
  readonly port: number;
  readonly nodePort: number;
  readonly clusterIP: Ip;
  readonly externalIPs: readonly Ip[];
  readonly lbVIPs: readonly Ip[];
  readonly sourceRanges: readonly Cidr[];
  readonly healthCheckNodePort: number;
  /** ClientIP affinity timeout in seconds; 0 = no affinity. */
  readonly affinityTimeout: number;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  readonly origin: Origin;
}

/** kube-proxy's service-port-name key: (namespace, name, port name, protocol). */
export const servicePortKey = (sp: ServicePort): string => `${sp.namespace}/${sp.name}:${sp.portName}/${sp.protocol}`;

export const externallyAccessible = (sp: ServicePort): boolean =>
  sp.nodePort !== 0 || sp.lbVIPs.length > 0 || sp.externalIPs.length > 0;
export const usesClusterEndpoints = (sp: ServicePort): boolean => !sp.internalPolicyLocal || externallyAccessible(sp);
export const usesLocalEndpoints = (sp: ServicePort): boolean =>
  sp.internalPolicyLocal || (sp.externalPolicyLocal && externallyAccessible(sp));

export function isProxiedService(svc: Service): boolean {
  const labels = svc.metadata.labels ?? {};
  if (labels[PROXY_NAME_LABEL] !== undefined || labels[HEADLESS_LABEL] !== undefined) return false;
  const ip = svc.spec.clusterIP ?? '';
  return ip !== '' && ip !== 'None' && (svc.spec.type ?? 'ClusterIP') !== 'ExternalName';
}

function clusterIPOf(svc: Service, family: Family): Ip | undefined {
  const fams = svc.spec.ipFamilies ?? [];
  if (fams.length === 0) {
    const p = parseIp(svc.spec.clusterIP ?? '');
    return p && p.family === family ? p : undefined;
  }
  const i = fams.indexOf(family);
  if (i < 0) return undefined;
  const text = (svc.spec.clusterIPs ?? [])[i] ?? (i === 0 ? svc.spec.clusterIP : undefined);
  const p = text ? parseIp(text) : null;
  return p && p.family === family ? p : undefined;
}

export function servicePorts(svc: Service, family: Family, src?: { readonly file: string; readonly base: string; readonly doc: number }): ServicePort[] {
  if (!isProxiedService(svc)) return [];
  const clusterIP = clusterIPOf(svc, family);
  if (!clusterIP) return [];
  const spec = svc.spec;
  const ns = svc.metadata.namespace ?? 'default';
  const name = svc.metadata.name ?? '';
  const type = spec.type ?? 'ClusterIP';
  const ofFamily = (xs: readonly (string | null | undefined)[]): Ip[] =>
    xs.flatMap((x) => {
      const p = x ? parseIp(x) : null;
      return p && p.family === family ? [p] : [];
    });
  const externalIPs = ofFamily(spec.externalIPs ?? []);
  // ipMode Proxy and hostname-only ingresses get no VIP (reference §1.3); loadBalancerIP is unused.
  const lbVIPs = ofFamily((svc.status?.loadBalancer?.ingress ?? []).filter((i) => !i.ipMode || i.ipMode === 'VIP').map((i) => i.ip));
  const sourceRanges = (spec.loadBalancerSourceRanges ?? []).flatMap((r) => {
    const c = parseCidr(r.trim());
    return c && c.family === family ? [c] : [];
  });
  const externalByType = type === 'NodePort' || type === 'LoadBalancer' || (type === 'ClusterIP' && (spec.externalIPs ?? []).length > 0);
  const externalPolicyLocal = externalByType && spec.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = spec.internalTrafficPolicy === 'Local';
  const healthCheckNodePort = type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' ? spec.healthCheckNodePort ?? 0 : 0;
  const affinityTimeout = spec.sessionAffinity === 'ClientIP' ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 : 0;
  const object = `Service ${ns}/${name}`;
  return (spec.ports ?? []).map((p, i) => ({
    namespace: ns,
    name,
    portName: p.name ?? '',
    protocol: (p.protocol ?? 'TCP') as Protocol,
    port: p.port,
    nodePort: p.nodePort ?? 0,
    clusterIP,
    externalIPs,
    lbVIPs,
    sourceRanges,
    healthCheckNodePort,
    affinityTimeout,
    externalPolicyLocal,
    internalPolicyLocal,
    // Two literals, not a spread of a temporary: one allocation per port (issue #5).
    origin: src
      ? { object, port: p.name ?? '', file: src.file, doc: src.doc, path: `${src.base}/spec/ports/${i}` }
      : { object, port: p.name ?? '' },
  }));
}
