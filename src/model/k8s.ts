/**
 * The parts of Kubernetes objects kube-proxy reads, as TypeScript shapes. Values reach these
 * types only after schema validation (validate/), so fields have the right JSON types; optional
 * fields may still be absent or null, as in the API.
 */

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>> | null;
  readonly annotations?: Readonly<Record<string, string>> | null;
}

export interface ServicePortSpec {
  readonly name?: string | null;
  readonly protocol?: string | null;
  readonly port: number;
  readonly targetPort?: number | string | null;
  readonly nodePort?: number | null;
}

export interface ServiceSpec {
  readonly type?: string | null;
  readonly clusterIP?: string | null;
  readonly clusterIPs?: readonly string[] | null;
  readonly ipFamilies?: readonly string[] | null;
  readonly ipFamilyPolicy?: string | null;
  readonly ports?: readonly ServicePortSpec[] | null;
  readonly externalIPs?: readonly string[] | null;
  readonly externalTrafficPolicy?: string | null;
  readonly internalTrafficPolicy?: string | null;
  readonly healthCheckNodePort?: number | null;
  readonly loadBalancerSourceRanges?: readonly string[] | null;
  readonly sessionAffinity?: string | null;
  readonly sessionAffinityConfig?: { readonly clientIP?: { readonly timeoutSeconds?: number | null } | null } | null;
  readonly externalName?: string | null;
  readonly selector?: Readonly<Record<string, string>> | null;
}

export interface LoadBalancerIngress {
  readonly ip?: string | null;
  readonly hostname?: string | null;
  readonly ipMode?: string | null;
}

export interface Service {
  readonly apiVersion: string;
  readonly kind: 'Service';
  readonly metadata: ObjectMeta;
  readonly spec: ServiceSpec;
  readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly LoadBalancerIngress[] | null } | null } | null;
}

export interface EndpointConditions {
  readonly ready?: boolean | null;
  readonly serving?: boolean | null;
  readonly terminating?: boolean | null;
}

export interface SliceEndpoint {
  readonly addresses: readonly string[];
  readonly conditions?: EndpointConditions | null;
  readonly nodeName?: string | null;
  readonly zone?: string | null;
  readonly hints?: {
    readonly forZones?: readonly { readonly name: string }[] | null;
    readonly forNodes?: readonly { readonly name: string }[] | null;
  } | null;
}

export interface SlicePort {
  readonly name?: string | null;
  readonly protocol?: string | null;
  readonly port?: number | null;
}

export interface EndpointSlice {
  readonly apiVersion: string;
  readonly kind: 'EndpointSlice';
  readonly metadata: ObjectMeta;
  readonly addressType: string;
  readonly endpoints?: readonly SliceEndpoint[] | null;
  readonly ports?: readonly SlicePort[] | null;
}

export interface EndpointAddress {
  readonly ip: string;
  readonly nodeName?: string | null;
  readonly hostname?: string | null;
}

export interface EndpointSubset {
  readonly addresses?: readonly EndpointAddress[] | null;
  readonly notReadyAddresses?: readonly EndpointAddress[] | null;
  readonly ports?: readonly { readonly name?: string | null; readonly port: number; readonly protocol?: string | null }[] | null;
}

export interface Endpoints {
  readonly apiVersion: string;
  readonly kind: 'Endpoints';
  readonly metadata: ObjectMeta;
  readonly subsets?: readonly EndpointSubset[] | null;
}

export interface Node {
  readonly apiVersion: string;
  readonly kind: 'Node';
  readonly metadata: ObjectMeta;
  readonly spec?: { readonly podCIDR?: string | null; readonly podCIDRs?: readonly string[] | null } | null;
  readonly status?: { readonly addresses?: readonly { readonly type: string; readonly address: string }[] | null } | null;
}

/** The service-name label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Objects with either label are invisible to kube-proxy (reference §1.1). */
export const PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
