/**
 * Which endpoints become real servers of a virtual server (reference §1.5): kube-proxy's
 * CategorizeEndpoints plus the IPVS twist (an "only local" VS falls back to cluster endpoints
 * when there is no local one, PR #97081). Pure.
 */
import type { Endpoint } from './endpoints.js';
import type { ServicePort } from './service-ports.js';
import { usesClusterEndpoints, usesLocalEndpoints } from './service-ports.js';

export interface NodeTopology {
  readonly name: string;
  readonly zone: string;
  readonly preferSameNode: boolean;
}

export interface Categorized {
  /** null when the service port does not use cluster endpoints. */
  readonly cluster: readonly Endpoint[] | null;
  readonly local: readonly Endpoint[];
  readonly hasAny: boolean;
}

function topologyFilter(eps: readonly Endpoint[], node: NodeTopology): ((e: Endpoint) => boolean) | null {
  let allNode = true, hasNode = false, allZone = true, hasZone = false;
  for (const e of eps) {
    if (!e.ready) continue;
    if (e.nodeHints.length === 0) allNode = false;
    else if (e.nodeHints.includes(node.name)) hasNode = true;
    if (e.zoneHints.length === 0) allZone = false;
    else if (e.zoneHints.includes(node.zone)) hasZone = true;
  }
  if (node.preferSameNode && allNode && hasNode) return (e) => e.nodeHints.includes(node.name);
  if (allZone && hasZone) return (e) => e.zoneHints.includes(node.zone);
  return null;
}

function allReady(eps: readonly Endpoint[]): boolean {
  for (let i = 0; i < eps.length; i++) if (!eps[i]!.ready) return false;
  return true;
}

export function categorizeEndpoints(eps: readonly Endpoint[], sp: ServicePort, node: NodeTopology): Categorized {
  let cluster: readonly Endpoint[] | null = null;
  let hasAny = false;
  if (usesClusterEndpoints(sp)) {
    const topo = topologyFilter(eps, node);
    // Usually every endpoint is ready and no topology applies: share the list instead of copying
    // it (lists are read-only; build.ts also renders a shared list's real servers once).
    cluster = !topo && allReady(eps) ? eps : eps.filter((e) => e.ready && (!topo || topo(e)));
    // No ready endpoint anywhere (in the topology): serving+terminating ones, cluster-wide.
    if (cluster.length === 0) cluster = eps.filter((e) => e.serving && e.terminating);
    if (cluster.length > 0) hasAny = true;
  }
  if (!usesLocalEndpoints(sp)) return { cluster, local: [], hasAny };
  let localReady = false, localST = false;
  for (const e of eps) {
    if (e.ready) { hasAny = true; if (e.isLocal) localReady = true; }
    else if (e.serving && e.terminating) { hasAny = true; if (e.isLocal) localST = true; }
  }
  const local = localReady ? eps.filter((e) => e.isLocal && e.ready)
    : localST ? eps.filter((e) => e.isLocal && e.serving && e.terminating) : [];
  return { cluster, local, hasAny };
}

/** Real-server endpoints of one VS: "only local" uses local ones, else falls back to cluster ones. */
export function endpointsForVS(c: Categorized, onlyLocal: boolean): readonly Endpoint[] {
  if (onlyLocal && c.local.length > 0) return c.local;
  return c.cluster ?? [];
}
