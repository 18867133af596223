/**
 * The plan: data only (Terraform's plans package). It is printed, serialised (`--json`,
 * `-out FILE`) and drives apply; apply never looks at how the plan was made.
 */

export type Action = 'create' | 'update' | 'delete';
export type Subsystem = 'sysctl' | 'kube-ipvs0' | 'ipset' | 'ipvs' | 'iptables';

export interface Change {
  readonly subsystem: Subsystem;
  readonly action: Action;
  /** What kind of object: sysctl, link, address, set, entry, virtual-server, real-server, chain, jump, timeouts. */
  readonly kind: string;
  /** Stable identity: `KUBE-CLUSTER-IP 10.0.0.1,tcp:80`, `TCP/10.0.0.1:80`, `IPv4 nat KUBE-SERVICES`. */
  readonly key: string;
  readonly before?: unknown;
  readonly after?: unknown;
  /** The object it comes from, when known: `Service shop/cart port http`. */
  readonly origin?: string;
  /** Extra lines for people: rule-level diff of a chain, why a real server drains. */
  readonly detail?: readonly string[];
}

export interface Plan {
  readonly formatVersion: '1.0';
  readonly node: string;
  /** Digest of the owned live state the plan was computed against. */
  readonly stateDigest: string;
  /** Creations and updates first (in apply order), deletions last. */
  readonly changes: readonly Change[];
  /** Real servers kept at weight 0 while their connections drain (not changes). */
  readonly draining: readonly string[];
  readonly summary: { readonly add: number; readonly change: number; readonly destroy: number };
}

export const isEmptyPlan = (p: Plan): boolean => p.changes.length === 0;
