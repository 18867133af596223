/**
 * EndpointSlices (and v1 Endpoints, converted first) → the endpoints of each service port,
 * exactly as kube-proxy's endpointslicecache builds them (reference §1.4). Pure.
 */
import type { Family, Ip } from './net.js';
import { joinHostPort, parseIp } from './net.js';
import type { EndpointSlice, Endpoints } from './k8s.js';
import { SERVICE_NAME_LABEL, PROXY_NAME_LABEL, HEADLESS_LABEL, SKIP_MIRROR_LABEL } from './k8s.js';
import type { Protocol } from './names.js';
import { sortSmall } from '../util/sort-small.js';

export interface Endpoint {
  readonly ip: string;
  /** `ip`, parsed (kept so that the model never parses an endpoint address twice). */
  readonly addr: Ip;
  readonly port: number;
  /** `ip:port` (IPv6 bracketed): kube-proxy's identity and sort key for endpoints. */
  readonly key: string;
  readonly isLocal: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly zoneHints: readonly string[];
  readonly nodeHints: readonly string[];
}

/** Shared by every endpoint without hints (most of them): one allocation, not one per endpoint. */
const NO_HINTS: readonly string[] = Object.freeze([]);

const byEndpointKey = (a: Endpoint, b: Endpoint): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** (namespace, service, port name, protocol), the service-port-name key of kube-proxy. */
export const portKey = (ns: string, svc: string, portName: string, proto: string): string => `${ns}/${svc}:${portName}/${proto}`;

/**
 * Builds, for one family, the endpoints of every service port key. Slices of each service are
 * merged in slice-name order; duplicates (same ip:port) keep the first, unless a later one is
 * local (kube-proxy favours isLocal=true). Lists are sorted by the `ip:port` string.
 */
export function buildEndpointsMap(slices: readonly EndpointSlice[], family: Family, nodeName: string): Map<string, Endpoint[]> {
  // Every endpoint of a key, in slice order; duplicates are resolved once sorted (below).
  const byKey = new Map<string, Endpoint[]>();
  // Decorate-sort: build each slice's key once, not on every comparison.
  const ordered = slices
    .filter((s) => s.addressType === family)
    .map((s) => ({ s, k: `${s.metadata.namespace ?? 'default'}/${s.metadata.name ?? ''}` }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.s);
  // Indexed loops: no iterator result per slice, port and endpoint (issue #5).
  for (let si = 0; si < ordered.length; si++) {
    const s = ordered[si]!;
    const labels = s.metadata.labels ?? {};
    const svc = labels[SERVICE_NAME_LABEL];
    const ns = s.metadata.namespace ?? 'default';
    if (!svc || ns === '') continue;
    if (labels[PROXY_NAME_LABEL] !== undefined || labels[HEADLESS_LABEL] !== undefined) continue;
    const ports = s.ports ?? [];
    const endpoints = s.endpoints ?? [];
    for (let pi = 0; pi < ports.length; pi++) {
      const port = ports[pi]!;
      // kube-proxy ignores ports with a nil/zero port number. A nil name cannot reach it: the
      // API server defaults EndpointPort.name to "" (discovery/v1 SetDefaults_EndpointPort).
      if (!port.port) continue;
      const key = portKey(ns, svc, port.name ?? '', port.protocol ?? 'TCP');
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      for (let ei = 0; ei < endpoints.length; ei++) {
        const ep = endpoints[ei]!;
        const first = ep.addresses[0];
        if (first === undefined) continue;
        const ip = parseIp(first);
        if (!ip) continue;
        const c = ep.conditions ?? {};
        list.push({
          ip: ip.text,
          addr: ip,
          port: port.port,
          key: joinHostPort(ip.text, port.port),
          isLocal: nodeName !== '' && (ep.nodeName ?? '') === nodeName,
          ready: c.ready === undefined || c.ready === null || c.ready,
          serving: c.serving === undefined || c.serving === null || c.serving,
          terminating: c.terminating === true,
          zoneHints: ep.hints?.forZones ? ep.hints.forZones.map((z) => z.name) : NO_HINTS,
          nodeHints: ep.hints?.forNodes ? ep.hints.forNodes.map((n) => n.name) : NO_HINTS,
        });
      }
    }
  }
  // forEach, not for-of over entries: no [key, value] pair per service port (issue #5).
  byKey.forEach((list) => uniqueByKey(sortSmall(list, byEndpointKey)));
  return byKey;
}

/**
 * One endpoint per `ip:port`, in place, in a list sorted stably by it (so each run of equal keys
 * is in slice order): the first, unless a later one is local, as kube-proxy's endpointslicecache
 * favours isLocal=true (the last local one wins, as its map assignment does).
 */
function uniqueByKey(sorted: Endpoint[]): void {
  let w = 0;
  for (const e of sorted) {
    if (w > 0 && sorted[w - 1]!.key === e.key) {
      if (e.isLocal) sorted[w - 1] = e;
    } else sorted[w++] = e;
  }
  sorted.length = w;
}

/**
 * v1 Endpoints → EndpointSlices, as the EndpointSlice mirroring controller does: only for
 * selector-less Services, not for Endpoints labelled skip-mirror; one slice per subset and
 * family; `addresses` ready, `notReadyAddresses` not ready.
 */
export function mirrorEndpoints(eps: Endpoints, serviceHasSelector: boolean): EndpointSlice[] {
  if (serviceHasSelector) return [];
  if ((eps.metadata.labels ?? {})[SKIP_MIRROR_LABEL] === 'true') return [];
  const out: EndpointSlice[] = [];
  (eps.subsets ?? []).forEach((ss, i) => {
    for (const family of ['IPv4', 'IPv6'] as const) {
      const pick = (list: typeof ss.addresses, ready: boolean) =>
        (list ?? []).filter((a) => parseIp(a.ip)?.family === family).map((a) => ({
          addresses: [a.ip],
          conditions: { ready },
          ...(a.nodeName ? { nodeName: a.nodeName } : {}),
        }));
      const endpoints = [...pick(ss.addresses, true), ...pick(ss.notReadyAddresses, false)];
      if (endpoints.length === 0) continue;
      out.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${eps.metadata.name ?? ''}-mirror-${i}-${family === 'IPv4' ? '4' : '6'}`,
          namespace: eps.metadata.namespace ?? 'default',
          labels: { [SERVICE_NAME_LABEL]: eps.metadata.name ?? '' },
        },
        addressType: family,
        endpoints,
        ports: (ss.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: (p.protocol ?? 'TCP') as Protocol })),
      });
    }
  });
  return out;
}
