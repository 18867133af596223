/**
 * fast-check arbitraries of VALID clusters (what an API server would accept and kube-proxy would
 * program without ambiguity): Services, their EndpointSlices, Node objects and kube-proxy flags,
 * as plain JS objects, plus the ways to serialise them into SourceFile values.
 *
 * Uniqueness the API server guarantees, and ipvsc refuses to guess about, is built in: cluster IPs,
 * node ports (health-check node ports included), externalIPs and load-balancer ingress IPs are
 * drawn from disjoint pools without repetition, and Service ports stay below the node port range
 * so a NodePort opened on a kube-ipvs0 address (--nodeport-addresses CIDR mode) never meets a
 * Service port on the same address.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { FlagValue } from '../../src/config/resolve-config.js';
import type { SourceFile } from '../../src/load/source.js';

export type Doc = Record<string, unknown>;
type Protocol = 'TCP' | 'UDP' | 'SCTP';
type Fam = 'IPv4' | 'IPv6';

export interface Cluster {
  /** Services, EndpointSlices and Nodes, in generation order. */
  readonly docs: readonly Doc[];
  readonly flags: readonly FlagValue[];
}

export const NODE_A_V4 = '192.168.0.10';
export const NODE_A_V6 = 'fd00:10::10';
export const NODE_PORT_RANGE: readonly [number, number] = [30000, 32767];

/** Cluster IPv4 offsets inside 10.96.0.0/12: the base clusters use the lower half… */
const V4_BASE_MAX = (1 << 19) - 1;
/** …and the extra ClusterIP Services of the growth property the upper half. */
const V4_EXTRA_MIN = 1 << 19;
const V4_EXTRA_MAX = (1 << 20) - 2;

const v4FromOffset = (base: number, off: number): string => {
  const n = (base + off) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
};
const V4_CLUSTER_BASE = (10 << 24) | (96 << 16); // 10.96.0.0
const V4_EXT_BASE = (172 << 24) | (16 << 16); // 172.16.0.0/12: externalIPs and LB ingress IPs
const clusterV4 = (off: number): string => v4FromOffset(V4_CLUSTER_BASE, off);
/** fd00::/108; written in a non-canonical form half of the time (`fd00::0:5`). */
const clusterV6 = (off: number): string => `fd00::${(off >>> 16).toString(16)}:${(off & 0xffff).toString(16)}`;
const extV4 = (off: number): string => v4FromOffset(V4_EXT_BASE, off);
const extV6 = (off: number): string => `2001:db8::${(off >>> 16).toString(16)}:${(off & 0xffff).toString(16)}`;

// ------------------------------------------------------------------------------------ shapes

interface PortShape { readonly protocol: Protocol; readonly port: number; readonly target: number; readonly targetInSpec: boolean }

interface EndpointShape {
  readonly host: number;
  readonly ready: boolean | undefined;
  readonly serving: boolean | undefined;
  readonly terminating: boolean | undefined;
  readonly nodeName: 'node-a' | 'node-b' | undefined;
}

interface ServiceShape {
  readonly ns: string;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  readonly stack: 'v4' | 'v6' | 'dual46' | 'dual64';
  /** v4/v6: 0 = legacy (clusterIP only, IPv4), 1 = SingleStack, 2 = PreferDualStack; dual: 1 = Prefer, 2 = Require. */
  readonly policyForm: 0 | 1 | 2;
  readonly ports: readonly PortShape[];
  readonly portNames: readonly string[];
  readonly nameSinglePort: boolean;
  readonly nExternal: number;
  readonly nIngress: number;
  readonly ipModes: readonly ('VIP' | 'Proxy' | undefined)[];
  readonly sourceRanges: readonly string[];
  readonly etp: 'Cluster' | 'Local' | undefined;
  readonly itp: 'Cluster' | 'Local' | undefined;
  readonly affinity: { readonly timeout: number | undefined } | undefined;
  readonly withSelector: boolean;
  /** Per family of the Service (primary first): 0–2 slices of endpoints. */
  readonly slices: readonly (readonly (readonly EndpointShape[])[])[];
}

const PORT_NAMES = ['http', 'https', 'dns', 'metrics', 'grpc', 'p-1', 'a0'] as const;

const portArb: fc.Arbitrary<PortShape> = fc.record({
  protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'),
  port: fc.oneof(fc.constantFrom(53, 80, 443, 8080), fc.integer({ min: 1, max: 29999 })),
  target: fc.integer({ min: 1, max: 65535 }),
  targetInSpec: fc.boolean(),
});

const endpointArb: fc.Arbitrary<EndpointShape> = fc.record({
  host: fc.integer({ min: 1, max: 254 }),
  ready: fc.constantFrom(true, false, undefined),
  serving: fc.constantFrom(true, false, undefined),
  terminating: fc.constantFrom(true, false, undefined),
  nodeName: fc.constantFrom('node-a' as const, 'node-b' as const, undefined),
});

const slicesArb = fc.array(fc.uniqueArray(endpointArb, { selector: (e) => e.host, maxLength: 5 }), { maxLength: 2 });

/** A random IPv4 CIDR in network form, or one of a few that matter (contain the node IP or not). */
const v4CidrArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('192.168.0.0/24', '0.0.0.0/0', '192.168.0.10/32', '203.0.113.0/24', '10.0.0.0/8', '192.168.0.0/16'),
  fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(([a, p]) => {
    const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
    return `${v4FromOffset(0, (a & mask) >>> 0)}/${p}`;
  }),
);
const v6CidrArb = fc.constantFrom('::/0', 'fd00::/8', '2001:db8::/32', 'fd00:10::/64', 'fd00:10::10/128', '2001:db8:1::/48');

const serviceShapeArb: fc.Arbitrary<ServiceShape> = fc.record({
  ns: fc.constantFrom('default', 'shop'),
  type: fc.constantFrom('ClusterIP' as const, 'NodePort' as const, 'LoadBalancer' as const),
  stack: fc.constantFrom('v4' as const, 'v4' as const, 'v6' as const, 'dual46' as const, 'dual64' as const),
  policyForm: fc.constantFrom(0 as const, 1 as const, 2 as const),
  ports: fc.uniqueArray(portArb, { minLength: 1, maxLength: 3, selector: (p) => `${p.protocol}/${p.port}` }),
  portNames: fc.shuffledSubarray([...PORT_NAMES], { minLength: 3, maxLength: 3 }),
  nameSinglePort: fc.boolean(),
  nExternal: fc.integer({ min: 0, max: 2 }),
  nIngress: fc.integer({ min: 0, max: 2 }),
  ipModes: fc.array(fc.constantFrom('VIP' as const, 'Proxy' as const, undefined), { minLength: 2, maxLength: 2 }),
  sourceRanges: fc.array(fc.oneof(v4CidrArb, v4CidrArb, v6CidrArb), { maxLength: 3 }),
  etp: fc.constantFrom('Cluster' as const, 'Local' as const, undefined),
  itp: fc.constantFrom('Cluster' as const, 'Local' as const, undefined),
  affinity: fc.option(fc.record({ timeout: fc.option(fc.integer({ min: 1, max: 86400 }), { nil: undefined }) }), { nil: undefined }),
  withSelector: fc.boolean(),
  slices: fc.array(slicesArb, { minLength: 2, maxLength: 2 }),
});

const flagsArb: fc.Arbitrary<FlagValue[]> = fc
  .record({
    scheduler: fc.option(fc.constantFrom('rr', 'wrr', 'lc', 'sh', 'mh'), { nil: undefined }),
    masqueradeAll: fc.boolean(),
    clusterCIDR: fc.option(fc.constantFrom('10.244.0.0/16', '10.244.0.0/16,fd00:244::/56', 'fd00:244::/56,10.244.0.0/16'), { nil: undefined }),
    masqueradeBit: fc.option(fc.integer({ min: 0, max: 31 }), { nil: undefined }),
    nodePortAddresses: fc.option(fc.constantFrom('', '192.168.0.0/24', '192.168.0.10/32', '0.0.0.0/0', '10.96.0.0/12', '172.16.0.0/12', '10.0.0.0/8', 'fd00::/8'), { nil: undefined }),
    tcpTimeout: fc.option(fc.constantFrom('0s', '2s', '900s', '15m', '1h30m'), { nil: undefined }),
  })
  .map((f) => {
    const out: FlagValue[] = [{ name: 'hostname-override', value: 'node-a' }];
    if (f.scheduler !== undefined) out.push({ name: 'ipvs-scheduler', value: f.scheduler });
    if (f.masqueradeAll) out.push({ name: 'masquerade-all', value: 'true' });
    if (f.clusterCIDR !== undefined) out.push({ name: 'cluster-cidr', value: f.clusterCIDR });
    if (f.masqueradeBit !== undefined) out.push({ name: 'iptables-masquerade-bit', value: String(f.masqueradeBit) });
    if (f.nodePortAddresses !== undefined) out.push({ name: 'nodeport-addresses', value: f.nodePortAddresses });
    if (f.tcpTimeout !== undefined) out.push({ name: 'ipvs-tcp-timeout', value: f.tcpTimeout });
    return out;
  });

function nodeDocs(dualStack: boolean, withNodeB: boolean): Doc[] {
  const node = (name: string, v4: string, v6: string): Doc => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: {
      addresses: [
        { type: 'InternalIP', address: v4 },
        ...(dualStack ? [{ type: 'InternalIP', address: v6 }] : []),
        { type: 'Hostname', address: name },
      ],
    },
  });
  return [node('node-a', NODE_A_V4, NODE_A_V6), ...(withNodeB ? [node('node-b', '192.168.0.11', 'fd00:10::11')] : [])];
}

// ------------------------------------------------------------------------------------ builders

interface Pools {
  readonly v4: readonly number[];
  readonly v6: readonly number[];
  readonly nodePorts: readonly number[];
  readonly ext4: readonly number[];
  readonly ext6: readonly number[];
}

function take<T>(xs: readonly T[], cursor: { i: number }): T {
  const x = xs[cursor.i++];
  if (x === undefined) throw new Error('generator pool exhausted');
  return x;
}

function familiesOf(s: ServiceShape): Fam[] {
  switch (s.stack) {
    case 'v4': return ['IPv4'];
    case 'v6': return ['IPv6'];
    case 'dual46': return ['IPv4', 'IPv6'];
    case 'dual64': return ['IPv6', 'IPv4'];
  }
}

/** One Service and its EndpointSlices. */
function buildService(idx: number, prefix: string, s: ServiceShape, pools: Pools, cur: Record<keyof Pools, { i: number }>): Doc[] {
  const name = `${prefix}${idx}`;
  const fams = familiesOf(s);
  const ipOf = (f: Fam): string => (f === 'IPv4' ? clusterV4(pools.v4[idx]!) : clusterV6(pools.v6[idx]!));
  const clusterIPs = fams.map(ipOf);
  const spec: Doc = {};
  if (s.type !== 'ClusterIP' || s.policyForm !== 0) spec['type'] = s.type;
  spec['clusterIP'] = clusterIPs[0];
  if (!(fams.length === 1 && fams[0] === 'IPv4' && s.policyForm === 0)) {
    spec['clusterIPs'] = clusterIPs;
    spec['ipFamilies'] = fams;
    spec['ipFamilyPolicy'] = fams.length === 2 ? (s.policyForm === 2 ? 'RequireDualStack' : 'PreferDualStack') : s.policyForm === 2 ? 'PreferDualStack' : 'SingleStack';
  }
  if (s.withSelector) spec['selector'] = { app: name };
  const named = s.ports.length > 1 || s.nameSinglePort;
  const portName = (i: number): string => (named ? s.portNames[i]! : '');
  spec['ports'] = s.ports.map((p, i) => ({
    ...(named ? { name: portName(i) } : {}),
    protocol: p.protocol,
    port: p.port,
    ...(p.targetInSpec ? { targetPort: p.target } : {}),
    ...(s.type !== 'ClusterIP' ? { nodePort: take(pools.nodePorts, cur.nodePorts) } : {}),
  }));
  const extIP = (i: number): string => {
    const f = fams[i % fams.length]!;
    return f === 'IPv4' ? extV4(take(pools.ext4, cur.ext4)) : extV6(take(pools.ext6, cur.ext6));
  };
  const externalIPs = Array.from({ length: s.nExternal }, (_, i) => extIP(i));
  if (externalIPs.length > 0) spec['externalIPs'] = externalIPs;
  const external = s.type !== 'ClusterIP' || externalIPs.length > 0;
  if (external && s.etp !== undefined) spec['externalTrafficPolicy'] = s.etp;
  if (s.itp !== undefined) spec['internalTrafficPolicy'] = s.itp;
  if (s.affinity) {
    spec['sessionAffinity'] = 'ClientIP';
    if (s.affinity.timeout !== undefined) spec['sessionAffinityConfig'] = { clientIP: { timeoutSeconds: s.affinity.timeout } };
  } else spec['sessionAffinity'] = 'None';
  let status: Doc | undefined;
  if (s.type === 'LoadBalancer') {
    if (s.sourceRanges.length > 0) spec['loadBalancerSourceRanges'] = [...s.sourceRanges];
    if (s.etp === 'Local') spec['healthCheckNodePort'] = take(pools.nodePorts, cur.nodePorts);
    const ingress = Array.from({ length: s.nIngress }, (_, i) => {
      const mode = s.ipModes[i];
      return { ip: extIP(i + 1), ...(mode ? { ipMode: mode } : {}) };
    });
    status = { loadBalancer: ingress.length > 0 ? { ingress } : {} };
  }
  const svc: Doc = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: s.ns }, spec, ...(status ? { status } : {}) };

  const slices: Doc[] = [];
  fams.forEach((f, fi) => {
    (s.slices[fi] ?? []).forEach((eps, si) => {
      const addr = (h: number): string => (f === 'IPv4' ? `10.${244 + si}.${idx % 256}.${h}` : `fd00:244::${idx.toString(16)}:${si}:${h.toString(16)}`);
      slices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-${f === 'IPv4' ? 'v4' : 'v6'}-${si}`, namespace: s.ns, labels: { 'kubernetes.io/service-name': name } },
        addressType: f,
        endpoints: eps.map((e) => {
          const conditions: Record<string, boolean> = {};
          if (e.ready !== undefined) conditions['ready'] = e.ready;
          if (e.serving !== undefined) conditions['serving'] = e.serving;
          if (e.terminating !== undefined) conditions['terminating'] = e.terminating;
          return { addresses: [addr(e.host)], conditions, ...(e.nodeName ? { nodeName: e.nodeName } : {}) };
        }),
        ports: s.ports.map((p, i) => ({ name: portName(i), protocol: p.protocol, port: p.target })),
      });
    });
  });
  return [svc, ...slices];
}

function poolsArb(n: number, v4Min: number, v4Max: number): fc.Arbitrary<Pools> {
  const uniq = (min: number, max: number, len: number): fc.Arbitrary<number[]> =>
    fc.uniqueArray(fc.integer({ min, max }), { minLength: len, maxLength: len });
  return fc.record({
    v4: uniq(v4Min, v4Max, n),
    v6: uniq(1, 0xfffff, n),
    nodePorts: uniq(NODE_PORT_RANGE[0], NODE_PORT_RANGE[1], 4 * n),
    ext4: uniq(1, 0xffffe, 4 * n),
    ext6: uniq(1, 0x7fffffff, 4 * n),
  });
}

function newCursors(): Record<keyof Pools, { i: number }> {
  return { v4: { i: 0 }, v6: { i: 0 }, nodePorts: { i: 0 }, ext4: { i: 0 }, ext6: { i: 0 } };
}

/** A valid cluster with 1–maxServices Services. */
export function clusterArb(maxServices = 30): fc.Arbitrary<Cluster> {
  return fc
    .integer({ min: 1, max: maxServices })
    .chain((n) => fc.record({
      shapes: fc.array(serviceShapeArb, { minLength: n, maxLength: n }),
      pools: poolsArb(n, 1, V4_BASE_MAX),
      flags: flagsArb,
      dualStackNode: fc.boolean(),
      withNodeB: fc.boolean(),
      // A third of the clusters are IPv4-only (no IPv6 Service, node address or cluster CIDR), so
      // that the single-pass output is exercised as much as the dual-stack one.
      v4only: fc.integer({ min: 0, max: 2 }).map((x) => x === 0),
    }))
    .map(({ shapes, pools, flags, dualStackNode, withNodeB, v4only }) => {
      const cur = newCursors();
      const docs = shapes.flatMap((s, i) => buildService(i, 's', v4only ? { ...s, stack: 'v4' } : s, pools, cur));
      const fl = v4only ? flags.filter((f) => !(f.name === 'cluster-cidr' && f.value?.includes(':')) && !(f.name === 'nodeport-addresses' && f.value?.includes(':'))) : flags;
      return { docs: [...docs, ...nodeDocs(dualStackNode && !v4only, withNodeB)], flags: fl };
    });
}

/**
 * 1–maxServices extra plain ClusterIP Services (namespace `extra`, IPv4 only, cluster IPs from the
 * upper half of 10.96.0.0/12, endpoints only on node-b): they add set entries and virtual servers,
 * never an iptables rule.
 */
export function extraClusterIpServicesArb(maxServices = 20): fc.Arbitrary<Doc[][]> {
  return fc
    .integer({ min: 1, max: maxServices })
    .chain((n) => fc.record({
      ports: fc.array(fc.uniqueArray(portArb, { minLength: 1, maxLength: 3, selector: (p) => `${p.protocol}/${p.port}` }), { minLength: n, maxLength: n }),
      v4: fc.uniqueArray(fc.integer({ min: V4_EXTRA_MIN, max: V4_EXTRA_MAX }), { minLength: n, maxLength: n }),
      hosts: fc.array(fc.uniqueArray(fc.integer({ min: 1, max: 254 }), { maxLength: 4 }), { minLength: n, maxLength: n }),
    }))
    .map(({ ports, v4, hosts }) => ports.map((ps, i) => {
      const name = `x${i}`;
      const named = ps.length > 1;
      const pn = (k: number): string => (named ? PORT_NAMES[k]! : '');
      return [
        {
          apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'extra' },
          spec: { type: 'ClusterIP', clusterIP: clusterV4(v4[i]!), ports: ps.map((p, k) => ({ ...(named ? { name: pn(k) } : {}), protocol: p.protocol, port: p.port })) },
        },
        {
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
          metadata: { name: `${name}-v4`, namespace: 'extra', labels: { 'kubernetes.io/service-name': name } },
          addressType: 'IPv4',
          endpoints: hosts[i]!.map((h) => ({ addresses: [`10.250.${i}.${h}`], conditions: { ready: true }, nodeName: 'node-b' })),
          ports: ps.map((p, k) => ({ name: pn(k), protocol: p.protocol, port: p.target })),
        },
      ];
    }));
}

// ------------------------------------------------------------------------------ decorations

/** Free-form strings, injection attempts included (newlines, quotes, rule and set syntax). */
const freeTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.constantFrom('"\n-A KUBE-SERVICES -j ACCEPT\n#', 'x" -j DROP', 'COMMIT\n*filter', 'add KUBE-CLUSTER-IP 1.2.3.4,tcp:80', '-A -t 1.2.3.4:80 -s rr', '\u202e\u0000\ufeff'),
);
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const labelValueArb = fc.oneof(fc.stringMatching(LABEL_VALUE), fc.constantFrom('', 'x', 'a-b_c.d', '1', '0x1F', 'true', 'null', '1e3', '0o17', '12_34'));
const ANNOTATION_KEYS = ['note', 'example.com/description', 'kubectl.kubernetes.io/last-applied-configuration', 'a.b/c-d'];
const LABEL_KEYS = ['app', 'team', 'example.com/tier', 'app.kubernetes.io/name'];

export interface Decoration {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export const decorationsArb: fc.Arbitrary<Decoration[]> = fc.array(
  fc.record({
    labels: fc.dictionary(fc.constantFrom(...LABEL_KEYS), labelValueArb, { maxKeys: 3 }),
    annotations: fc.dictionary(fc.constantFrom(...ANNOTATION_KEYS), freeTextArb, { maxKeys: 3 }),
  }),
  { minLength: 1, maxLength: 8 },
);

/** The same docs with labels and annotations added (decoration i % n to doc i). */
export function decorate(docs: readonly Doc[], decos: readonly Decoration[]): Doc[] {
  return docs.map((d, i) => {
    const deco = decos[i % decos.length]!;
    const md = d['metadata'] as Doc;
    const labels = { ...deco.labels, ...((md['labels'] as Record<string, string> | undefined) ?? {}) };
    return {
      ...d,
      metadata: {
        ...md,
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
        ...(Object.keys(deco.annotations).length > 0 ? { annotations: { ...deco.annotations } } : {}),
      },
    };
  });
}

// ------------------------------------------------------------------------------ serialisation

export const yamlDocs = (docs: readonly Doc[]): string => docs.map((d) => stringify(d)).join('---\n');

/** All docs in one YAML file, generation order. */
export const asOneFile = (docs: readonly Doc[]): SourceFile[] => [{ path: 'cluster.yaml', text: yamlDocs(docs) }];

export interface Layout {
  /** A permutation of the doc indices. */
  readonly order: readonly number[];
  /** Number of files (cut points evenly spread over `order`). */
  readonly files: number;
  /** Per file: 0 YAML stream, 1 JSON (single doc) or kind: List in JSON, 2 kind: List in YAML. */
  readonly formats: readonly (0 | 1 | 2)[];
  /** Permutation of the file order in the SourceFile array. */
  readonly fileOrder: readonly number[];
  /** Per file: CRLF line endings (as files edited on Windows have). */
  readonly crlf: readonly boolean[];
}

export function layoutArb(nDocs: number): fc.Arbitrary<Layout> {
  const idx = Array.from({ length: nDocs }, (_, i) => i);
  return fc.integer({ min: 1, max: Math.min(6, nDocs) }).chain((files) => fc.record({
    order: fc.shuffledSubarray(idx, { minLength: nDocs, maxLength: nDocs }),
    files: fc.constant(files),
    formats: fc.array(fc.constantFrom(0 as const, 1 as const, 2 as const), { minLength: files, maxLength: files }),
    fileOrder: fc.shuffledSubarray(Array.from({ length: files }, (_, i) => i), { minLength: files, maxLength: files }),
    crlf: fc.array(fc.boolean(), { minLength: files, maxLength: files }),
  }));
}

export function layoutFiles(docs: readonly Doc[], l: Layout): SourceFile[] {
  const parts: Doc[][] = Array.from({ length: l.files }, () => []);
  l.order.forEach((di, k) => parts[Math.floor((k * l.files) / l.order.length)]!.push(docs[di]!));
  const files = parts.map((ds, i): SourceFile => {
    const f = l.formats[i]!;
    if (f === 1) {
      const body = ds.length === 1 ? ds[0]! : { apiVersion: 'v1', kind: 'List', items: ds };
      return { path: `part-${i}.json`, text: JSON.stringify(body, null, 1) + '\n' };
    }
    if (f === 2) return { path: `part-${i}.yml`, text: stringify({ apiVersion: 'v1', kind: 'List', items: ds }) };
    return { path: `part-${i}.yaml`, text: yamlDocs(ds) };
  });
  return l.fileOrder.map((i) => (l.crlf[i] ? { path: files[i]!.path, text: files[i]!.text.replace(/\n/g, '\r\n') } : files[i]!));
}
