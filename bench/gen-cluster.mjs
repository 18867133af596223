#!/usr/bin/env node
// Synthetic Kubernetes cluster generator for ipvsc benchmarks. Dependency-free (node: builtins only).
//
//   node bench/gen-cluster.mjs --services N --endpoints M --nodes K --format yaml|json --out FILE
//                              [--seed S] [--check]
//
// Output: Node objects, then Services, then EndpointSlices (the order of
// `kubectl get nodes,svc,endpointslices -A`), either as multi-document YAML ("---" separated)
// or as one JSON `kind: List` (one item per line). Deterministic for a given seed.
//
// Mix: ~60% ClusterIP, 20% NodePort, 10% LoadBalancer (half with loadBalancerSourceRanges, ~30%
// externalTrafficPolicy Local + healthCheckNodePort), 5% ClusterIP with externalIPs, 5% headless;
// ~30% multi-port, ~10% UDP, ~2% SCTP; ~10% dual-stack; ~3% ClientIP affinity, ~2%
// internalTrafficPolicy Local. Each Service has M endpoints spread over node-0..node-K-1 in
// EndpointSlices of at most 100 endpoints per address family; ~5% not ready, ~2% terminating.
//
// Address plan: cluster IPs unique in 10.96.0.0/12 and fd00:96::/108; pod IPs from per-node blocks
// of 10.244.0.0/16 (or 10.128.0.0/9 when that is too small) and fd00:244:0:<node>::/64; node IPs
// 192.168.x.y + fd00:10::x; LoadBalancer IPs unique from 198.18.0.0/15 (+ 2001:db8:ffff::/64);
// externalIPs unique from 100.64.0.0/10. nodePorts and healthCheckNodePorts are unique in
// 30000-32767; once the range is exhausted no further nodePorts are assigned (LoadBalancers then
// get allocateLoadBalancerNodePorts: false, ETP Local falls back to Cluster).
//
// --check re-reads FILE (YAML through js-yaml when it can be imported), and verifies uniqueness
// of cluster IPs, nodePorts and LB IPs, slice sizes/families and that every slice has its Service.

import fs from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE =
  'usage: node bench/gen-cluster.mjs --services N --endpoints M --nodes K --format yaml|json --out FILE [--seed S] [--check]';

function die(msg) {
  process.stderr.write(`gen-cluster: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      services: { type: 'string', default: '1000' },
      endpoints: { type: 'string', default: '3' },
      nodes: { type: 'string', default: '3' },
      format: { type: 'string', default: 'yaml' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (e) {
  die(e.message);
}
if (args.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}
const intArg = (name, min, max) => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < min || v > max) die(`--${name} must be an integer in [${min}, ${max}]`);
  return v;
};
const N = intArg('services', 0, 1_000_000);
const M = intArg('endpoints', 0, 10_000);
const K = intArg('nodes', 1, 65_535);
const SEED = intArg('seed', 0, 2 ** 32 - 1);
const FORMAT = args.format;
if (FORMAT !== 'yaml' && FORMAT !== 'json') die('--format must be yaml or json');
if (!args.out) die('--out is required');
const OUT = args.out;

const t0 = performance.now();

// ---------------------------------------------------------------------------------------------
// PRNG (mulberry32) and helpers

function mulberry32(a) {
  return function () {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED);
const randInt = (n) => Math.floor(rand() * n); // [0, n)
const pick = (arr) => arr[randInt(arr.length)];
const chance = (p) => rand() < p;
const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789'; // k8s utilrand alphabet
const suffix = (n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += SUFFIX_CHARS[randInt(SUFFIX_CHARS.length)];
  return s;
};

const ipv4 = (n) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const V4 = (a, b, c, d) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

// Unique random allocator over [0, size) (bitmap); returns -1 when full.
function makeAllocator(size, reserved = []) {
  const used = new Uint8Array(size);
  let free = size;
  for (const r of reserved) if (!used[r]) ((used[r] = 1), free--);
  return () => {
    if (free === 0) return -1;
    let i = randInt(size);
    if (used[i]) {
      // linear probe from a random point: still unique, still deterministic
      while (used[i]) i = (i + 1) % size;
    }
    used[i] = 1;
    free--;
    return i;
  };
}

// ---------------------------------------------------------------------------------------------
// Address plan

const SVC4_BASE = V4(10, 96, 0, 0); // 10.96.0.0/12
const SVC_SIZE = 1 << 20; // /12 for IPv4, /108 for IPv6 (both 2^20)
const allocSvc4 = makeAllocator(SVC_SIZE, [0, 1, 10, SVC_SIZE - 1]); // net, kubernetes, kube-dns, bcast
const allocSvc6 = makeAllocator(SVC_SIZE, [0, 1, 10]);
const svc6 = (i) => `fd00:96::${i >= 0x10000 ? (i >>> 16).toString(16) + ':' : ''}${(i & 0xffff).toString(16)}`;

// Pod blocks per node: smallest power of two >= pods per node + 2, at least /24.
const podsPerNode = Math.ceil((N * M) / K) + 2;
let blockBits = 8;
while (1 << blockBits < podsPerNode) blockBits++;
let POD4_BASE = V4(10, 244, 0, 0);
let clusterCIDR4 = '10.244.0.0/16';
if (K * 2 ** blockBits > 1 << 16) {
  POD4_BASE = V4(10, 128, 0, 0);
  clusterCIDR4 = '10.128.0.0/9';
  if (K * 2 ** blockBits > 1 << 23) die('too many endpoints for the 10.128.0.0/9 pod range');
}
const podCounter = new Uint32Array(K);
const pod6Prefix = (node) => (node === 0 ? 'fd00:244::' : `fd00:244:0:${node.toString(16)}::`); // RFC 5952 form
function newPod(node) {
  const c = ++podCounter[node] + 1; // .1 is usually the node bridge
  return {
    v4: ipv4(POD4_BASE + node * 2 ** blockBits + c),
    v6: `${pod6Prefix(node)}${c >= 0x10000 ? (c >>> 16).toString(16) + ':' : ''}${(c & 0xffff).toString(16)}`,
  };
}

const NP_MIN = 30000;
const NP_SIZE = 32767 - 30000 + 1;
const allocNodePortIdx = makeAllocator(NP_SIZE);
let nodePortsExhausted = 0;
function allocNodePort() {
  const i = allocNodePortIdx();
  if (i < 0) {
    nodePortsExhausted++;
    return 0;
  }
  return NP_MIN + i;
}

let lbCounter = 0; // 198.18.0.0/15, sequential = unique
const LB4_BASE = V4(198, 18, 0, 0);
const allocLB = () => {
  lbCounter++;
  if (lbCounter >= 1 << 17) die('LoadBalancer IP pool 198.18.0.0/15 exhausted');
  return { v4: ipv4(LB4_BASE + lbCounter), v6: `2001:db8:ffff::${lbCounter.toString(16)}` };
};
let extCounter = 0; // 100.64.0.0/10
const EXT4_BASE = V4(100, 64, 0, 0);
const allocExternalIP = () => ipv4(EXT4_BASE + ++extCounter);

// ---------------------------------------------------------------------------------------------
// Vocabulary

const NAMESPACES = [
  'default', 'shop', 'payments', 'search', 'identity', 'media', 'analytics', 'ads', 'catalog',
  'checkout', 'messaging', 'monitoring', 'logging', 'platform', 'data', 'ml', 'edge', 'billing',
  'support', 'internal-tools',
];
const WORDS = [
  'api', 'web', 'frontend', 'backend', 'auth', 'cart', 'orders', 'users', 'inventory', 'pricing',
  'reviews', 'recommend', 'notify', 'mailer', 'gateway', 'proxy', 'cache', 'session', 'profile',
  'search', 'indexer', 'worker', 'scheduler', 'report', 'export', 'import', 'feed', 'media',
  'thumbs', 'upload', 'billing', 'invoice', 'ledger', 'fraud', 'risk', 'geo', 'shipping', 'tax',
  'coupon', 'loyalty', 'chat', 'events', 'audit', 'config', 'flags', 'metrics', 'tracing', 'logs',
];
const TCP_PORTS = [
  { name: 'http', port: 80, target: 8080 },
  { name: 'https', port: 443, target: 8443 },
  { name: 'grpc', port: 50051, target: 50051 },
  { name: 'metrics', port: 9090, target: 9090 },
  { name: 'admin', port: 8081, target: 8081 },
  { name: 'redis', port: 6379, target: 6379 },
  { name: 'postgres', port: 5432, target: 5432 },
  { name: 'amqp', port: 5672, target: 5672 },
  { name: 'kafka', port: 9092, target: 9092 },
  { name: 'http-alt', port: 8080, target: 8080 },
];
const UDP_PORTS = [
  [{ name: 'dns', port: 53, target: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, target: 5353, protocol: 'TCP' }],
  [{ name: 'syslog', port: 514, target: 5140, protocol: 'UDP' }],
  [{ name: 'statsd', port: 8125, target: 8125, protocol: 'UDP' }],
  [{ name: 'quic', port: 443, target: 8443, protocol: 'UDP' }, { name: 'https', port: 443, target: 8443, protocol: 'TCP' }],
  [{ name: 'coap', port: 5683, target: 5683, protocol: 'UDP' }],
];
const SCTP_PORTS = [
  [{ name: 'diameter', port: 3868, target: 3868, protocol: 'SCTP' }],
  [{ name: 'sip', port: 5060, target: 5060, protocol: 'SCTP' }, { name: 'sip-tcp', port: 5060, target: 5060, protocol: 'TCP' }],
  [{ name: 's1ap', port: 36412, target: 36412, protocol: 'SCTP' }],
];
const ZONES = ['zone-a', 'zone-b', 'zone-c'];

function choosePorts() {
  const r = rand();
  let ports;
  if (r < 0.1) ports = pick(UDP_PORTS).map((p) => ({ ...p }));
  else if (r < 0.12) ports = pick(SCTP_PORTS).map((p) => ({ ...p }));
  else if (r < 0.42) {
    // multi-port TCP: 2-3 distinct profiles
    const n = 2 + randInt(2);
    const start = randInt(TCP_PORTS.length);
    const step = 1 + randInt(3);
    const seen = new Set();
    ports = [];
    for (let i = 0; ports.length < n; i++) {
      const p = TCP_PORTS[(start + i * step) % TCP_PORTS.length];
      if (seen.has(p.port) || seen.has(p.name)) continue;
      seen.add(p.port);
      seen.add(p.name);
      ports.push({ ...p, protocol: 'TCP' });
    }
  } else {
    ports = [{ ...pick(TCP_PORTS), protocol: 'TCP' }];
    if (chance(0.3)) ports[0].name = ''; // single unnamed port
  }
  for (const p of ports) p.namedTarget = p.name !== '' && p.name.length <= 15 && chance(0.2);
  return ports;
}

// ---------------------------------------------------------------------------------------------
// Objects

const nodes = [];
for (let i = 0; i < K; i++) {
  const name = `node-${i}`;
  const ipIdx = i + 10;
  nodes.push({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/region': 'region-1',
        'topology.kubernetes.io/zone': ZONES[i % ZONES.length],
      },
    },
    spec: {
      podCIDR: `${ipv4(POD4_BASE + i * 2 ** blockBits)}/${32 - blockBits}`,
      podCIDRs: [`${ipv4(POD4_BASE + i * 2 ** blockBits)}/${32 - blockBits}`, `${pod6Prefix(i)}/64`],
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: ipv4(V4(192, 168, 0, 0) + ipIdx) },
        { type: 'InternalIP', address: `fd00:10::${ipIdx.toString(16)}` },
        { type: 'Hostname', address: name },
      ],
    },
  });
}

const stats = {
  ClusterIP: 0, NodePort: 0, LoadBalancer: 0, externalIPs: 0, headless: 0,
  dualStack: 0, multiPort: 0, udp: 0, sctp: 0, slices: 0, endpoints: 0, notReady: 0, terminating: 0,
  nodePorts: 0,
};
const services = [];
const slices = [];

for (let s = 0; s < N; s++) {
  const namespace = NAMESPACES[s % NAMESPACES.length];
  const name = `${pick(WORDS)}-${pick(WORDS)}-${s}`;
  const app = name;
  const r = rand();
  const kind = r < 0.6 ? 'ClusterIP' : r < 0.8 ? 'NodePort' : r < 0.9 ? 'LoadBalancer' : r < 0.95 ? 'externalIPs' : 'headless';
  stats[kind]++;
  const type = kind === 'NodePort' || kind === 'LoadBalancer' ? kind : 'ClusterIP';
  const headless = kind === 'headless';
  const dual = !headless && chance(0.1);
  const v6first = dual && chance(0.2);
  if (dual) stats.dualStack++;

  const ports = choosePorts();
  if (ports.length > 1) stats.multiPort++;
  if (ports.some((p) => p.protocol === 'UDP')) stats.udp++;
  if (ports.some((p) => p.protocol === 'SCTP')) stats.sctp++;

  const spec = { type };
  if (headless) {
    spec.clusterIP = 'None';
    spec.clusterIPs = ['None'];
    spec.ipFamilies = ['IPv4'];
    spec.ipFamilyPolicy = 'SingleStack';
  } else {
    const i4 = allocSvc4();
    if (i4 < 0) die('service CIDR 10.96.0.0/12 exhausted');
    const a4 = ipv4(SVC4_BASE + i4);
    if (dual) {
      const i6 = allocSvc6();
      if (i6 < 0) die('service CIDR fd00:96::/108 exhausted');
      const a6 = svc6(i6);
      spec.clusterIP = v6first ? a6 : a4;
      spec.clusterIPs = v6first ? [a6, a4] : [a4, a6];
      spec.ipFamilies = v6first ? ['IPv6', 'IPv4'] : ['IPv4', 'IPv6'];
      spec.ipFamilyPolicy = chance(0.5) ? 'RequireDualStack' : 'PreferDualStack';
    } else {
      spec.clusterIP = a4;
      spec.clusterIPs = [a4];
      spec.ipFamilies = ['IPv4'];
      spec.ipFamilyPolicy = 'SingleStack';
    }
  }
  spec.selector = { app };
  spec.ports = ports.map((p) => {
    const o = {};
    if (p.name) o.name = p.name;
    o.port = p.port;
    o.protocol = p.protocol;
    o.targetPort = p.namedTarget ? p.name : p.target;
    if (type !== 'ClusterIP') {
      const np = allocNodePort();
      if (np) {
        o.nodePort = np;
        stats.nodePorts++;
      }
    }
    return o;
  });
  if (type === 'LoadBalancer' && spec.ports.some((p) => !p.nodePort)) {
    // range exhausted: a real cluster would reject the Service; opt out of node ports instead
    spec.allocateLoadBalancerNodePorts = false;
    for (const p of spec.ports) delete p.nodePort;
  }
  let status;
  if (kind === 'externalIPs') spec.externalIPs = [allocExternalIP()];
  if (type === 'NodePort' || type === 'LoadBalancer' || kind === 'externalIPs') spec.externalTrafficPolicy = 'Cluster';
  if (type === 'LoadBalancer') {
    if (chance(0.3)) {
      const hc = allocNodePort();
      if (hc) {
        spec.externalTrafficPolicy = 'Local';
        spec.healthCheckNodePort = hc;
        stats.nodePorts++;
      }
    }
    if (chance(0.5)) {
      const n = 1 + randInt(3);
      spec.loadBalancerSourceRanges = [];
      for (let i = 0; i < n; i++) spec.loadBalancerSourceRanges.push(`${ipv4(V4(10, randInt(256), randInt(256), 0))}/24`);
      spec.loadBalancerSourceRanges = [...new Set(spec.loadBalancerSourceRanges)];
    }
    const lb = allocLB();
    const ingress = [{ ip: lb.v4, ipMode: 'VIP' }];
    if (dual) ingress.push({ ip: lb.v6, ipMode: 'VIP' });
    status = { loadBalancer: { ingress } };
  }
  if (!headless && chance(0.03)) {
    spec.sessionAffinity = 'ClientIP';
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: pick([600, 3600, 10800]) } };
  } else spec.sessionAffinity = 'None';
  spec.internalTrafficPolicy = !headless && chance(0.02) ? 'Local' : 'Cluster';

  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { app } },
    spec,
  };
  if (status) svc.status = status;
  services.push(svc);

  // Endpoints: M pods, spread over the nodes starting at a random node.
  const families = headless || !dual ? ['IPv4'] : spec.ipFamilies;
  const startNode = randInt(K);
  const rs = suffix(10);
  const pods = [];
  for (let j = 0; j < M; j++) {
    const node = (startNode + j) % K;
    const ip = newPod(node);
    const c = rand();
    const conditions =
      c < 0.05
        ? { ready: false, serving: false, terminating: false }
        : c < 0.07
          ? { ready: false, serving: true, terminating: true }
          : { ready: true, serving: true, terminating: false };
    if (c < 0.05) stats.notReady++;
    else if (c < 0.07) stats.terminating++;
    pods.push({ node, ip, conditions, pod: `${name}-${rs}-${suffix(5)}` });
  }
  stats.endpoints += M;
  const slicePorts = ports.map((p) => ({ name: p.name, port: p.target, protocol: p.protocol }));
  const usedNames = new Set();
  for (const fam of families) {
    for (let off = 0; off < Math.max(pods.length, 1); off += 100) {
      let sname;
      do sname = `${name}-${suffix(5)}`;
      while (usedNames.has(sname));
      usedNames.add(sname);
      const labels = {
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        'kubernetes.io/service-name': name,
      };
      if (headless) labels['service.kubernetes.io/headless'] = '';
      slices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: sname, namespace, labels },
        addressType: fam,
        endpoints: pods.slice(off, off + 100).map((p) => ({
          addresses: [fam === 'IPv4' ? p.ip.v4 : p.ip.v6],
          conditions: p.conditions,
          nodeName: `node-${p.node}`,
          targetRef: { kind: 'Pod', name: p.pod, namespace },
          zone: ZONES[p.node % ZONES.length],
        })),
        ports: slicePorts,
      });
      stats.slices++;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Emitters

// Plain YAML scalar when unambiguous as a string in both YAML 1.1 and 1.2, else double-quoted.
const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;
const NUMBERISH = /^(?:[-+]?(?:\d[\d_]*\.?[\d_]*|\.\d+)(?:[eE][-+]?\d+)?|0[box].*|\.(?:inf|nan)|\d{4}-\d\d?-\d\d?.*)$/i;
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
function yScalar(v) {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  if (PLAIN.test(v) && !RESERVED.test(v) && !NUMBERISH.test(v)) return v;
  return JSON.stringify(v);
}
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// kubectl style: sequences inside mappings are not indented further than their key.
function yMap(obj, pad, out, firstPrefix) {
  let first = true;
  for (const k in obj) {
    const v = obj[k];
    const lead = first && firstPrefix !== undefined ? firstPrefix : pad;
    first = false;
    const key = yScalar(k);
    if (Array.isArray(v)) {
      if (v.length === 0) out.push(`${lead}${key}: []`);
      else {
        out.push(`${lead}${key}:`);
        ySeq(v, pad, out);
      }
    } else if (isObj(v)) {
      let empty = true;
      for (const _ in v) {
        empty = false;
        break;
      }
      if (empty) out.push(`${lead}${key}: {}`);
      else {
        out.push(`${lead}${key}:`);
        yMap(v, pad + '  ', out);
      }
    } else out.push(`${lead}${key}: ${yScalar(v)}`);
  }
}
function ySeq(arr, pad, out) {
  for (const v of arr) {
    if (isObj(v)) yMap(v, pad + '  ', out, pad + '- ');
    else if (Array.isArray(v)) throw new Error('nested sequences not supported');
    else out.push(`${pad}- ${yScalar(v)}`);
  }
}

const fd = fs.openSync(OUT, 'w');
let bytes = 0;
let buf = [];
let bufLen = 0;
function write(s) {
  buf.push(s);
  bufLen += s.length;
  if (bufLen > 1 << 20) flush();
}
function flush() {
  if (!buf.length) return;
  const b = Buffer.from(buf.join(''), 'utf8');
  fs.writeSync(fd, b);
  bytes += b.length;
  buf = [];
  bufLen = 0;
}

const all = [nodes, services, slices];
if (FORMAT === 'yaml') {
  write(
    `# Synthetic cluster: ${N} services x ${M} endpoints over ${K} nodes, seed ${SEED}.\n` +
      `# Generated by bench/gen-cluster.mjs. clusterCIDR ${clusterCIDR4},fd00:244::/48; service CIDRs 10.96.0.0/12, fd00:96::/108.\n`,
  );
  let firstDoc = true;
  for (const list of all)
    for (const o of list) {
      const out = firstDoc ? [] : ['---'];
      firstDoc = false;
      yMap(o, '', out);
      out.push('');
      write(out.join('\n'));
    }
} else {
  write('{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n');
  let first = true;
  for (const list of all)
    for (const o of list) {
      write((first ? '' : ',\n') + JSON.stringify(o));
      first = false;
    }
  write('\n]}\n');
}
flush();
fs.closeSync(fd);
const genMs = performance.now() - t0;

const mb = (bytes / 1e6).toFixed(1);
process.stderr.write(
  `gen-cluster: ${N} services (ClusterIP ${stats.ClusterIP}, NodePort ${stats.NodePort}, LoadBalancer ${stats.LoadBalancer}, ` +
    `externalIPs ${stats.externalIPs}, headless ${stats.headless}; dual-stack ${stats.dualStack}, multi-port ${stats.multiPort}, ` +
    `UDP ${stats.udp}, SCTP ${stats.sctp}), ${stats.slices} slices, ${stats.endpoints} endpoints ` +
    `(${stats.notReady} not ready, ${stats.terminating} terminating), ${K} nodes, ${stats.nodePorts} nodePorts` +
    (nodePortsExhausted ? ` (${nodePortsExhausted} not assigned: range exhausted)` : '') +
    `, ${FORMAT} ${bytes} bytes (${mb} MB) -> ${OUT} in ${(genMs / 1000).toFixed(2)}s\n`,
);

// ---------------------------------------------------------------------------------------------
// --check: parse the file back and verify invariants

if (args.check) {
  const t1 = performance.now();
  const text = fs.readFileSync(OUT, 'utf8');
  let objs;
  let parser;
  if (FORMAT === 'json') {
    objs = JSON.parse(text).items;
    parser = 'JSON.parse';
  } else {
    let yaml = null;
    try {
      yaml = (await import('js-yaml')).default;
    } catch {
      /* optional */
    }
    if (yaml) {
      objs = yaml.loadAll(text).filter(Boolean);
      parser = 'js-yaml';
    } else {
      objs = [...nodes, ...services, ...slices];
      parser = 'in-memory (js-yaml not found; file not parsed)';
    }
  }
  const errors = [];
  const err = (m) => errors.length < 20 && errors.push(m);
  const expect = K + N + stats.slices;
  if (objs.length !== expect) err(`object count ${objs.length} != ${expect}`);
  const clusterIPs = new Set();
  const nodePorts = new Set();
  const lbIPs = new Set();
  const svcKeys = new Set();
  const inRange4 = (ip) => {
    const [a, b] = ip.split('.').map(Number);
    return a === 10 && b >= 96 && b <= 111;
  };
  for (const o of objs) {
    if (o.kind !== 'Service') continue;
    svcKeys.add(`${o.metadata.namespace}/${o.metadata.name}`);
    for (const ip of o.spec.clusterIPs ?? []) {
      if (ip === 'None') continue;
      if (clusterIPs.has(ip)) err(`duplicate cluster IP ${ip}`);
      clusterIPs.add(ip);
      if (ip.includes(':') ? !ip.startsWith('fd00:96::') : !inRange4(ip)) err(`cluster IP ${ip} outside service CIDR`);
    }
    if (o.spec.clusterIP !== (o.spec.clusterIPs ?? [])[0]) err(`${o.metadata.name}: clusterIP != clusterIPs[0]`);
    const nps = (o.spec.ports ?? []).map((p) => p.nodePort).filter(Boolean);
    if (o.spec.healthCheckNodePort) nps.push(o.spec.healthCheckNodePort);
    for (const np of nps) {
      if (np < 30000 || np > 32767) err(`nodePort ${np} out of range`);
      if (nodePorts.has(np)) err(`duplicate nodePort ${np}`);
      nodePorts.add(np);
    }
    for (const ing of o.status?.loadBalancer?.ingress ?? []) {
      if (lbIPs.has(ing.ip)) err(`duplicate LB IP ${ing.ip}`);
      lbIPs.add(ing.ip);
    }
    const pk = new Set(o.spec.ports.map((p) => `${p.protocol}/${p.port}`));
    if (pk.size !== o.spec.ports.length) err(`${o.metadata.name}: duplicate (protocol, port)`);
    if (o.spec.ports.length > 1 && o.spec.ports.some((p) => !p.name)) err(`${o.metadata.name}: unnamed port in multi-port service`);
  }
  let eps = 0;
  for (const o of objs) {
    if (o.kind !== 'EndpointSlice') continue;
    const key = `${o.metadata.namespace}/${o.metadata.labels['kubernetes.io/service-name']}`;
    if (!svcKeys.has(key)) err(`slice ${o.metadata.name} without service ${key}`);
    if (o.endpoints.length > 100) err(`slice ${o.metadata.name} has ${o.endpoints.length} endpoints`);
    eps += o.endpoints.length;
    for (const e of o.endpoints)
      if (e.addresses[0].includes(':') !== (o.addressType === 'IPv6')) err(`slice ${o.metadata.name}: address family mismatch ${e.addresses[0]}`);
  }
  const ms = (performance.now() - t1).toFixed(0);
  process.stderr.write(
    `gen-cluster --check (${parser}, ${ms} ms): ${objs.length} objects, ${clusterIPs.size} cluster IPs, ` +
      `${nodePorts.size} nodePorts, ${lbIPs.size} LB IPs, ${eps} slice endpoints: ${errors.length ? 'FAILED' : 'ok'}\n`,
  );
  for (const e of errors) process.stderr.write(`  ${e}\n`);
  if (errors.length) process.exit(1);
}
