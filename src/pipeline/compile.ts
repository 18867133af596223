/**
 * The compile pipeline, as one pure function: source files + flags → desired state, artifacts
 * and diagnostics. load → validate → model → render. No I/O: the CLI reads the files and the
 * shipped assets and writes the results.
 */
import type { Diagnostic } from '../diag/diagnostic.js';
import { hasErrors, sortDiagnostics } from '../diag/diagnostic.js';
import { parseManifests } from '../load/parse-manifests.js';
import { locateDiagnostics } from '../load/locate.js';
import type { Manifest, SourceFile } from '../load/source.js';
import { checkSchema, isKnownKind, KIND_API_VERSION } from '../validate/check-schema.js';
import type { Validators } from '../validate/check-schema.js';
import { reporterFor } from '../validate/reporter.js';
import { checkService } from '../validate/check-service.js';
import { checkEndpointSlice, checkEndpoints, checkNode } from '../validate/check-endpoints.js';
import { resolveConfig } from '../config/resolve-config.js';
import type { FlagValue } from '../config/resolve-config.js';
import type { EndpointSlice, Endpoints, Node, Service } from '../model/k8s.js';
import { mirrorEndpoints } from '../model/endpoints.js';
import { buildNodeContext } from '../model/node-context.js';
import { buildDesiredState } from '../model/build.js';
import type { DesiredState, InterfaceAddress, ProxyConfig } from '../model/types.js';
import { parseIp } from '../model/net.js';
import { renderArtifacts } from '../render/render.js';
import type { Artifacts, Templates } from '../render/render.js';

export interface CompileOptions {
  readonly flags: readonly FlagValue[];
  /** `--node-ip` values. */
  readonly nodeIPs: readonly string[];
  /** Interface addresses of the live node (plan/apply); overrides --node-ip and the Node object. */
  readonly interfaces?: readonly InterfaceAddress[];
  /** apiserver --service-node-port-range */
  readonly nodePortRange: readonly [number, number];
  /** The file given with --config, which is a KubeProxyConfiguration by definition. */
  readonly configFile?: string;
  /** Override the node name (--all-nodes compiles once per Node). */
  readonly nodeName?: string;
}

export interface Assets {
  readonly validators: Validators;
  readonly templates: Templates;
}

export interface LoadedInputs {
  readonly manifests: readonly Manifest[];
  readonly services: readonly { service: Service; file: string; base: string; doc: number }[];
  readonly slices: readonly EndpointSlice[];
  readonly nodes: readonly Node[];
  readonly config: ProxyConfig;
}

export interface CompileResult {
  readonly diags: Diagnostic[];
  readonly inputs?: LoadedInputs;
  readonly state?: DesiredState;
  readonly artifacts?: Artifacts;
}

/** Parse and validate everything; stops before the model when there are errors. */
export function loadAndValidate(files: readonly SourceFile[], opts: CompileOptions, assets: Assets): { diags: Diagnostic[]; inputs?: LoadedInputs } {
  const parsed = parseManifests(files);
  const diags: Diagnostic[] = [...parsed.diags];
  const services: { service: Service; file: string; base: string; doc: number }[] = [];
  const slices: EndpointSlice[] = [];
  const endpoints: Endpoints[] = [];
  const nodes: Node[] = [];
  const configs: Manifest[] = [];
  const seen = new Map<string, Manifest>();
  for (const m of parsed.manifests) {
    if (opts.configFile !== undefined && m.file === opts.configFile && m.kind !== 'KubeProxyConfiguration') {
      // kube-proxy --config decodes the file as a KubeProxyConfiguration and refuses anything else.
      diags.push({ severity: 'error', code: 'CONFIG_NOT_KPC', file: m.file, doc: m.doc, path: m.base + '/kind', object: m.label, summary: `--config names a file holding a ${m.kind}, not a KubeProxyConfiguration`, hint: 'pass Kubernetes objects with -f; --config takes kube-proxy\'s configuration file (kind: KubeProxyConfiguration)' });
      continue;
    }
    const kind = m.kind;
    if (!isKnownKind(kind)) {
      diags.push({ severity: 'warning', code: 'KIND_SKIPPED', file: m.file, doc: m.doc, path: m.base + '/kind', object: m.label, summary: `${m.kind} is not read by kube-proxy; skipped` });
      continue;
    }
    if (m.apiVersion !== KIND_API_VERSION[kind] && kind === 'EndpointSlice' && m.apiVersion.startsWith('discovery.k8s.io/')) {
      diags.push({ severity: 'error', code: 'SCHEMA_CONST', file: m.file, doc: m.doc, path: m.base + '/apiVersion', object: m.label, summary: `EndpointSlice ${m.apiVersion} is not read by kube-proxy, which watches only discovery.k8s.io/v1`, hint: 'fetch the slices again with kubectl get endpointslices.v1.discovery.k8s.io -o yaml' });
      continue;
    }
    const schemaDiags = checkSchema(m, kind, assets.validators);
    diags.push(...schemaDiags);
    if (schemaDiags.length > 0) continue;
    // Duplicate objects: the API server has one object per kind/namespace/name. The label is
    // `Kind ns/name` (safeLabel keeps the kind prefix), so it identifies the object by itself.
    const id = m.label;
    const dup = seen.get(id);
    if (dup && kind !== 'KubeProxyConfiguration') {
      diags.push({ severity: 'error', code: 'RULE_DUPLICATE_OBJECT', file: m.file, doc: m.doc, path: m.base + '/metadata/name', object: m.label, summary: `${m.label} is defined twice (also in ${dup.file})`, hint: 'remove one of the copies; each object may appear once in the inputs' });
      continue;
    }
    seen.set(id, m);
    const r = reporterFor(m, diags);
    switch (kind) {
      case 'Service':
        checkService(m.value as unknown as Service, r, { nodePortRange: opts.nodePortRange });
        services.push({ service: withNamespace(m.value) as unknown as Service, file: m.file, base: m.base, doc: m.doc });
        break;
      case 'EndpointSlice':
        checkEndpointSlice(m.value as unknown as EndpointSlice, r);
        slices.push(withNamespace(m.value) as unknown as EndpointSlice);
        break;
      case 'Endpoints':
        checkEndpoints(m.value as unknown as Endpoints, r);
        endpoints.push(withNamespace(m.value) as unknown as Endpoints);
        break;
      case 'Node':
        checkNode(m.value as unknown as Node, r);
        nodes.push(m.value as unknown as Node);
        break;
      case 'KubeProxyConfiguration':
        configs.push(m);
        break;
    }
  }
  if (configs.length > 1) {
    for (const c of configs.slice(1)) diags.push({ severity: 'error', code: 'CONFIG_DUPLICATE', file: c.file, doc: c.doc, object: c.label, summary: `more than one KubeProxyConfiguration in the inputs (first in ${configs[0]!.file})`, hint: 'pass exactly one, with --config or among the -f inputs' });
  }
  opts.nodeIPs.forEach((s) => {
    if (!parseIp(s)) diags.push({ severity: 'error', code: 'FLAG_INVALID', object: 'flag --node-ip', summary: `--node-ip ${JSON.stringify(s)} is not a valid IP address` });
  });
  const resolved = resolveConfig(opts.flags, configs[0]);
  diags.push(...resolved.diags);
  const config = opts.nodeName !== undefined ? { ...resolved.config, hostnameOverride: opts.nodeName } : resolved.config;
  // v1 Endpoints become slices only for selector-less Services, as the mirroring controller does.
  // Built only when there are v1 Endpoints: most inputs have none (issue #5).
  const svcByKey = endpoints.length === 0 ? new Map<string, Service>() : new Map(services.map((s) => [`${s.service.metadata.namespace}/${s.service.metadata.name}`, s.service]));
  for (const e of endpoints) {
    const svc = svcByKey.get(`${e.metadata.namespace}/${e.metadata.name}`);
    if (!svc) continue;
    slices.push(...mirrorEndpoints(e, Object.keys(svc.spec.selector ?? {}).length > 0));
  }
  if (hasErrors(diags)) return { diags };
  return { diags, inputs: { manifests: parsed.manifests, services, slices, nodes, config } };
}

/** kubectl apply puts namespace-less namespaced objects in `default`. */
function withNamespace(v: Record<string, unknown>): Record<string, unknown> {
  const md = v['metadata'] as Record<string, unknown>;
  if (typeof md['namespace'] === 'string' && md['namespace'] !== '') return v;
  return { ...v, metadata: { ...md, namespace: 'default' } };
}

export function compileInputs(files: readonly SourceFile[], opts: CompileOptions, assets: Assets): CompileResult {
  const loaded = loadAndValidate(files, opts, assets);
  const diags = loaded.diags;
  if (!loaded.inputs) return { diags: finish(diags, files) };
  const inputs = loaded.inputs;
  if (inputs.config.hostnameOverride === '') {
    diags.push({ severity: 'warning', code: 'CONFIG_NO_NODE_NAME', summary: 'no node name: no endpoint is local to this node', hint: 'pass --hostname-override (kube-proxy would use the host name)' });
  } else if (inputs.nodes.length > 0 && !inputs.nodes.some((n) => (n.metadata.name ?? '').toLowerCase() === inputs.config.hostnameOverride)) {
    diags.push({ severity: 'warning', code: 'CONFIG_NODE_NOT_FOUND', summary: `no Node object named ${JSON.stringify(inputs.config.hostnameOverride)} among the inputs`, hint: 'node IPs then come from --node-ip only' });
  }
  const node = buildNodeContext({ config: inputs.config, nodes: inputs.nodes, nodeIPs: opts.nodeIPs, ...(opts.interfaces ? { interfaces: opts.interfaces } : {}) });
  const built = buildDesiredState({ services: inputs.services, slices: inputs.slices, config: inputs.config, node });
  diags.push(...built.diags);
  if (hasErrors(diags)) return { diags: finish(diags, files), inputs };
  const artifacts = renderArtifacts(built.state, assets.templates);
  return { diags: finish(diags, files), inputs, state: built.state, artifacts };
}

function finish(diags: Diagnostic[], files: readonly SourceFile[]): Diagnostic[] {
  return sortDiagnostics(locateDiagnostics(diags, files));
}
