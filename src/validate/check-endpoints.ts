/**
 * Semantic rules for EndpointSlices, Endpoints and Nodes (reference §6.2). Addresses reach the
 * artifacts, so every one must be a valid IP of the slice's family.
 */
import { parseCidr, parseIp } from '../model/net.js';
import type { EndpointSlice, Endpoints, Node } from '../model/k8s.js';
import { SERVICE_NAME_LABEL } from '../model/k8s.js';
import { isDns1123Label } from './reporter.js';
import type { Reporter } from './reporter.js';
import { show } from './check-schema.js';

export function checkEndpointSlice(s: EndpointSlice, r: Reporter): void {
  if (s.addressType === 'FQDN') return; // kube-proxy ignores FQDN slices
  const label = s.metadata.labels?.[SERVICE_NAME_LABEL];
  if (label === undefined || label === '') {
    r.warn('SLICE_NO_SERVICE', '/metadata/labels', `EndpointSlice has no ${SERVICE_NAME_LABEL} label; kube-proxy ignores it`, `add the label ${SERVICE_NAME_LABEL}: <service name>`);
  }
  // Plain loops: one closure per endpoint was measurable at 30k endpoints (issue #5).
  const eps = s.endpoints ?? [];
  for (let i = 0; i < eps.length; i++) {
    const addresses = eps[i]!.addresses;
    for (let j = 0; j < addresses.length; j++) {
      const a = addresses[j]!;
      const p = parseIp(a);
      if (p && p.family === s.addressType) continue; // the common case: no path string built
      const at = `/endpoints/${i}/addresses/${j}`;
      if (!p) r.error('RULE_IP', at, `endpoint address ${show(a)} is not a valid IP address`, `an ${s.addressType} EndpointSlice holds ${s.addressType} addresses (pod IPs); DNS names need addressType FQDN, which kube-proxy ignores`);
      else if (p.family !== s.addressType) r.error('RULE_ADDRESS_FAMILY', at, `endpoint address ${show(a)} is not an ${s.addressType} address (addressType is ${s.addressType})`, 'put each family\'s endpoints in a slice of that addressType');
    }
    if (addresses.length > 1) r.warn('SLICE_EXTRA_ADDRESSES', `/endpoints/${i}/addresses`, `only the first address of an endpoint is used by kube-proxy; ${addresses.length - 1} more ignored`);
  }
  // A slice with one port cannot repeat a name: no Map for it (most slices, issue #5).
  const names = (s.ports ?? []).length > 1 ? new Map<string, number>() : null;
  (s.ports ?? []).forEach((p, i) => {
    const at = `/ports/${i}`;
    if (p.name !== undefined && p.name !== null) {
      if (p.name !== '' && !isDns1123Label(p.name)) r.error('RULE_PORT_NAME', `${at}/name`, `port name ${show(p.name)} is not a DNS-1123 label`, 'lower-case letters, digits and "-", at most 63 characters; it must equal the Service port\'s name');
      if (names?.has(p.name)) r.error('RULE_DUPLICATE_PORT_NAME', `${at}/name`, `port name ${show(p.name)} is used by ports ${names.get(p.name)} and ${i}`, 'port names must be unique within an EndpointSlice');
      names?.set(p.name, i);
    }
    if (p.port === undefined || p.port === null || p.port === 0) r.warn('SLICE_PORT_NO_NUMBER', at, 'EndpointSlice port has no port number; kube-proxy ignores it');
  });
}

export function checkEndpoints(e: Endpoints, r: Reporter): void {
  (e.subsets ?? []).forEach((ss, i) => {
    for (const key of ['addresses', 'notReadyAddresses'] as const) {
      (ss[key] ?? []).forEach((a, j) => {
        if (!parseIp(a.ip)) r.error('RULE_IP', `/subsets/${i}/${key}/${j}/ip`, `endpoint address ${show(a.ip)} is not a valid IP address`, 'Endpoints addresses are pod IPs, like 10.244.0.5 or fd00::5');
      });
    }
    const names = new Map<string, number>();
    (ss.ports ?? []).forEach((p, j) => {
      const n = p.name ?? '';
      if (names.has(n)) r.error('RULE_DUPLICATE_PORT_NAME', `/subsets/${i}/ports/${j}/name`, `port name ${show(n)} is used by ports ${names.get(n)} and ${j} of subset ${i}`, 'port names must be unique within a subset (an unnamed port counts as the name "")');
      names.set(n, j);
    });
  });
}

export function checkNode(n: Node, r: Reporter): void {
  (n.status?.addresses ?? []).forEach((a, i) => {
    if ((a.type === 'InternalIP' || a.type === 'ExternalIP') && !parseIp(a.address)) {
      r.error('RULE_IP', `/status/addresses/${i}/address`, `${a.type} ${show(a.address)} is not a valid IP address`, 'node addresses of type InternalIP and ExternalIP are IP addresses; host names belong in type Hostname');
    }
  });
  const hint = 'write pod CIDRs like 10.244.1.0/24 or fd00:10:244:1::/64';
  const list = n.spec?.podCIDRs ?? [];
  list.forEach((c, i) => {
    if (!parseCidr(c)) r.error('RULE_CIDR', `/spec/podCIDRs/${i}`, `pod CIDR ${show(c)} is not a valid CIDR`, hint);
  });
  // podCIDR is podCIDRs[0] when both are set: report it only when it is not the same text.
  const single = n.spec?.podCIDR;
  if (single && single !== list[0] && !parseCidr(single)) r.error('RULE_CIDR', '/spec/podCIDR', `pod CIDR ${show(single)} is not a valid CIDR`, hint);
}
