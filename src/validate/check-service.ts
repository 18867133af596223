/**
 * Semantic rules for Services (reference §6.2): what the API server would reject, as errors,
 * except the values kube-proxy's own tests feed it (port 0, nodePorts outside the allocator
 * range, loopback externalIPs…), which kube-proxy programs as they are: those are warnings, so
 * ipvsc reproduces kube-proxy and still tells the user.
 */
import { parseCidr, parseIp, isLinkLocalMulticast, isLinkLocalUnicast, isLoopback, isUnspecified } from '../model/net.js';
import type { Service } from '../model/k8s.js';
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, isIanaSvcName } from './reporter.js';
import type { Reporter } from './reporter.js';
import { show } from './check-schema.js';

export interface ServiceRuleOptions {
  /** apiserver --service-node-port-range */
  readonly nodePortRange: readonly [number, number];
}

export function checkService(svc: Service, r: Reporter, opts: ServiceRuleOptions): void {
  const { metadata: md, spec } = svc;
  if (md.name !== undefined && !isDns1035Label(md.name)) {
    r.error('RULE_NAME', '/metadata/name', `Service name ${show(md.name)} is not a DNS-1035 label`, 'lower-case letters, digits and "-", starting with a letter, at most 63 characters');
  }
  if (md.namespace !== undefined && !isDns1123Label(md.namespace)) {
    r.error('RULE_NAME', '/metadata/namespace', `namespace ${show(md.namespace)} is not a DNS-1123 label`, 'lower-case letters, digits and "-", at most 63 characters');
  }
  const type = spec.type ?? 'ClusterIP';
  const headless = spec.clusterIP === 'None';
  if (type === 'ExternalName') {
    if (spec.clusterIP && spec.clusterIP !== '') r.warn('API_EXTERNALNAME_CLUSTERIP', '/spec/clusterIP', 'an ExternalName Service must not have a clusterIP; kube-proxy ignores the Service entirely');
    return; // kube-proxy skips ExternalName Services; nothing else of it matters.
  }
  checkClusterIPs(svc, r, type, headless);
  const ports = spec.ports ?? [];
  if (ports.length === 0 && !headless) {
    r.error('RULE_PORTS_REQUIRED', '/spec/ports', 'spec.ports is required (at least one port) unless the Service is headless', 'add a port, or set clusterIP: None for a headless Service');
  }
  // Duplicates need two ports: most Services have one, and three Maps each were ~5 MB at 10k.
  const multi = ports.length > 1;
  const names = multi ? new Map<string, number>() : null;
  const protoPort = multi ? new Map<string, number>() : null;
  const protoNodePort = multi ? new Map<string, number>() : null;
  ports.forEach((p, i) => {
    const at = `/spec/ports/${i}`;
    const proto = p.protocol ?? 'TCP';
    const name = p.name ?? '';
    if (multi && name === '') r.error('RULE_PORT_NAME_REQUIRED', `${at}/name`, 'every port needs a name when a Service has more than one', 'name the ports (for example http, https); EndpointSlice ports are matched by name');
    if (name !== '' && !isDns1123Label(name)) r.error('RULE_PORT_NAME', `${at}/name`, `port name ${show(name)} is not a DNS-1123 label`, 'lower-case letters, digits and "-", at most 63 characters');
    if (names && protoPort) {
      if (names.has(name) && name !== '') r.error('RULE_DUPLICATE_PORT_NAME', `${at}/name`, `port name ${show(name)} is used by ports ${names.get(name)} and ${i}`, 'port names must be unique within a Service');
      names.set(name, i);
      const pk = `${proto}/${p.port}`;
      if (protoPort.has(pk)) r.error('RULE_DUPLICATE_PORT', `${at}/port`, `${proto} port ${p.port} is already used by port ${protoPort.get(pk)}`, 'a Service may not expose the same protocol and port twice');
      protoPort.set(pk, i);
    }
    // kube-proxy's unit tests use port 0, but ipvsadm refuses it ("Zero port specified for
    // non-persistent service") and so does the API server: the artifact could not load.
    if (p.port === 0) r.error('RULE_PORT_ZERO', `${at}/port`, 'port 0 is not a valid Service port', 'use a port from 1 to 65535');
    checkTargetPort(p.targetPort, `${at}/targetPort`, r);
    const np = p.nodePort ?? 0;
    if (np !== 0) {
      if (type === 'ClusterIP') r.warn('API_NODEPORT_ON_CLUSTERIP', `${at}/nodePort`, 'nodePort is forbidden for type ClusterIP; kube-proxy still opens it (it keys on nodePort, not on type)', 'remove nodePort or change the type to NodePort');
      const [lo, hi] = opts.nodePortRange;
      if (np < lo || np > hi) r.warn('API_NODEPORT_RANGE', `${at}/nodePort`, `nodePort ${np} is outside the node port range ${lo}-${hi}; the API server would reject it, kube-proxy programs it`, 'use a port in the range, or pass --service-node-port-range if your cluster uses another');
      if (protoNodePort) {
        const nk = `${proto}/${np}`;
        if (protoNodePort.has(nk)) r.error('RULE_DUPLICATE_NODEPORT', `${at}/nodePort`, `${proto} nodePort ${np} is already used by port ${protoNodePort.get(nk)}`, 'each port needs its own nodePort');
        protoNodePort.set(nk, i);
      }
    }
    if (type === 'LoadBalancer' && p.port === 10250) r.warn('API_LB_KUBELET_PORT', `${at}/port`, 'LoadBalancer Services may not use port 10250 (the kubelet port)');
  });
  checkExternalIPs(svc, r);
  checkAffinity(svc, r);
  checkPolicies(svc, r, type);
  checkLoadBalancer(svc, r, type);
}

function checkClusterIPs(svc: Service, r: Reporter, type: string, headless: boolean): void {
  const { spec } = svc;
  const ip = spec.clusterIP ?? '';
  const ips = spec.clusterIPs ?? [];
  const fams = spec.ipFamilies ?? [];
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) r.error('RULE_HEADLESS_TYPE', '/spec/clusterIP', `clusterIP None (headless) is not allowed for type ${type}`, 'a headless Service has no virtual IP to forward from; use type ClusterIP, or give it a cluster IP');
  if (ip !== '' && ip !== 'None') {
    const p = parseIp(ip);
    if (!p) r.error('RULE_IP', '/spec/clusterIP', `clusterIP ${show(ip)} is not a valid IP address`, 'write an IPv4 or IPv6 address, "None" for a headless Service, or leave it empty');
    else if (isUnspecified(p)) r.error('RULE_IP', '/spec/clusterIP', `clusterIP ${show(ip)} is the unspecified address`, 'leave clusterIP empty to have one allocated, or write the allocated address');
  }
  if (ips.length > 0 && ip !== '' && ips[0] !== ip) r.error('RULE_CLUSTER_IPS', '/spec/clusterIPs/0', `clusterIPs[0] (${show(ips[0])}) must equal clusterIP (${show(ip)})`, 'clusterIPs lists the primary clusterIP first, then the other family\'s address');
  const seenFam = new Set<string>();
  ips.forEach((x, i) => {
    if (x === 'None') return;
    const p = parseIp(x);
    if (!p) { r.error('RULE_IP', `/spec/clusterIPs/${i}`, `clusterIPs[${i}] ${show(x)} is not a valid IP address`, 'write IPv4 addresses like 10.96.0.10 and IPv6 addresses like fd00::10'); return; }
    if (seenFam.has(p.family)) r.error('RULE_CLUSTER_IPS', `/spec/clusterIPs/${i}`, `clusterIPs[${i}] ${show(x)} is a second ${p.family} address; clusterIPs holds at most one address of each IP family`, 'a dual-stack Service has one IPv4 and one IPv6 cluster IP; for more addresses use externalIPs');
    seenFam.add(p.family);
    const f = fams[i];
    if (f !== undefined && f !== p.family) r.error('RULE_IP_FAMILIES', `/spec/ipFamilies/${i}`, `ipFamilies[${i}] is ${f} but clusterIPs[${i}] is an ${p.family} address`, 'list ipFamilies in the same order as clusterIPs');
  });
  if (fams.length === 2 && fams[0] === fams[1]) r.error('RULE_IP_FAMILIES', '/spec/ipFamilies/1', `ipFamilies lists ${fams[1]} twice`, 'list each family once: [IPv4], [IPv6], [IPv4, IPv6] or [IPv6, IPv4]');
  const policy = spec.ipFamilyPolicy ?? 'SingleStack';
  if (policy === 'SingleStack' && (fams.length > 1 || ips.length > 1)) r.error('RULE_IP_FAMILY_POLICY', '/spec/ipFamilyPolicy', 'ipFamilyPolicy SingleStack allows one IP family', 'use PreferDualStack or RequireDualStack for two families');
  if (policy === 'RequireDualStack' && !headless && ips.length === 1) r.error('RULE_IP_FAMILY_POLICY', '/spec/clusterIPs', 'ipFamilyPolicy RequireDualStack needs one clusterIP per family', 'add the second family\'s address to clusterIPs');
}

function checkTargetPort(tp: number | string | null | undefined, at: string, r: Reporter): void {
  if (tp === undefined || tp === null) return;
  if (typeof tp === 'number') {
    if (!Number.isInteger(tp) || tp < 1 || tp > 65535) r.error('RULE_TARGET_PORT', at, `targetPort ${show(tp)} must be 1-65535`, 'the container port the pods listen on; leave it out to use port');
  } else if (/^\d+$/.test(tp)) {
    const n = Number(tp);
    if (n < 1 || n > 65535) r.error('RULE_TARGET_PORT', at, `targetPort ${show(tp)} must be 1-65535`, 'the container port the pods listen on; leave it out to use port');
  } else if (!isIanaSvcName(tp)) {
    r.error('RULE_TARGET_PORT', at, `targetPort ${show(tp)} is neither a port number nor a valid port name`, 'a named targetPort is at most 15 lower-case letters, digits and single "-", with at least one letter');
  }
}

function checkExternalIPs(svc: Service, r: Reporter): void {
  (svc.spec.externalIPs ?? []).forEach((x, i) => {
    const at = `/spec/externalIPs/${i}`;
    const p = parseIp(x);
    if (!p) { r.error('RULE_IP', at, `externalIP ${show(x)} is not a valid IP address`, 'write IPv4 addresses like 203.0.113.7 and IPv6 addresses like 2001:db8::7'); return; }
    if (isUnspecified(p)) r.error('RULE_IP', at, `externalIP ${show(x)} is the unspecified address`, 'an externalIP must be one concrete address; 0.0.0.0 or :: would capture the port on every address of the node');
    else if (isLoopback(p) || isLinkLocalUnicast(p) || isLinkLocalMulticast(p)) r.warn('API_EXTERNAL_IP', at, `externalIP ${show(x)} is loopback or link-local; the API server rejects it, kube-proxy still programs it`, 'use a routable address');
  });
}

function checkAffinity(svc: Service, r: Reporter): void {
  const { spec } = svc;
  const cfg = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if ((spec.sessionAffinity ?? 'None') === 'ClientIP') {
    if (cfg !== undefined && cfg !== null && (cfg <= 0 || cfg > 86400)) r.error('RULE_AFFINITY_TIMEOUT', '/spec/sessionAffinityConfig/clientIP/timeoutSeconds', `timeoutSeconds must be 1-86400, got ${cfg}`, 'the default is 10800 (3 hours)');
  } else if (cfg !== undefined && cfg !== null) {
    r.warn('API_AFFINITY_CONFIG', '/spec/sessionAffinityConfig', 'sessionAffinityConfig is only used with sessionAffinity: ClientIP; it is ignored');
  }
}

function checkPolicies(svc: Service, r: Reporter, type: string): void {
  const { spec } = svc;
  const external = type === 'NodePort' || type === 'LoadBalancer' || (spec.externalIPs ?? []).length > 0;
  if (spec.externalTrafficPolicy && !external) r.warn('API_ETP_NOT_EXTERNAL', '/spec/externalTrafficPolicy', 'externalTrafficPolicy only applies to NodePort, LoadBalancer or Services with externalIPs; it is ignored here');
  const hc = spec.healthCheckNodePort ?? 0;
  if (hc !== 0 && !(type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local')) {
    r.warn('API_HEALTHCHECK_NODEPORT', '/spec/healthCheckNodePort', 'healthCheckNodePort only applies to type LoadBalancer with externalTrafficPolicy: Local; kube-proxy ignores it here');
  }
}

function checkLoadBalancer(svc: Service, r: Reporter, type: string): void {
  const { spec } = svc;
  (spec.loadBalancerSourceRanges ?? []).forEach((x, i) => {
    if (!parseCidr(x.trim())) r.error('RULE_CIDR', `/spec/loadBalancerSourceRanges/${i}`, `source range ${show(x)} is not a valid CIDR`, 'write ranges like 10.0.0.0/8 or 2001:db8::/32');
  });
  if ((spec.loadBalancerSourceRanges ?? []).length > 0 && type !== 'LoadBalancer') r.warn('API_SOURCE_RANGES_TYPE', '/spec/loadBalancerSourceRanges', 'loadBalancerSourceRanges only applies to type LoadBalancer');
  (svc.status?.loadBalancer?.ingress ?? []).forEach((ing, i) => {
    const at = `/status/loadBalancer/ingress/${i}`;
    if (ing.ip) {
      if (!parseIp(ing.ip)) r.error('RULE_IP', `${at}/ip`, `ingress ip ${show(ing.ip)} is not a valid IP address`, 'status.loadBalancer.ingress[].ip is the load balancer\'s address, as the cloud controller writes it; use hostname for DNS names');
    } else if (ing.ipMode) r.warn('API_IPMODE_WITHOUT_IP', `${at}/ipMode`, 'ipMode only applies to an ingress with an ip');
    if (ing.hostname && (!isDns1123Subdomain(ing.hostname) || parseIp(ing.hostname))) r.warn('API_INGRESS_HOSTNAME', `${at}/hostname`, `ingress hostname ${show(ing.hostname)} is not a DNS name`);
  });
}
