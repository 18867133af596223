/**
 * kube-proxy flags + KubeProxyConfiguration + defaults → ProxyConfig, with the validation of
 * reference §6.1. Pure: the flag values and the config object are passed in.
 *
 * Precedence: defaults < KubeProxyConfiguration < flags given on the command line. kube-proxy
 * itself ignores most flags when --config is set (reference §5); ipvsc lets the explicit flag win
 * and says so with a warning, because a silently ignored flag is the worse surprise.
 */
import type { Diagnostic } from '../diag/diagnostic.js';
import type { Manifest } from '../load/source.js';
import { parseCidr, parseIp } from '../model/net.js';
import type { Cidr } from '../model/net.js';
import { SCHEDULERS } from '../model/names.js';
import type { DetectLocalMode, ProxyConfig } from '../model/types.js';
import { KUBE_PROXY_FLAGS, parseBool, parseDuration } from './flags.js';
import type { KubeProxyFlag } from './flags.js';
import { closest, show } from '../validate/check-schema.js';

/** A flag as typed: `--name=value` or `--name value`; bools may have no value. */
export interface FlagValue {
  readonly name: string;
  readonly value: string | undefined;
}

type Raw = string | number | boolean | readonly string[] | Readonly<Record<string, boolean>> | null | undefined;

interface Source {
  readonly where: 'flag' | 'config';
  readonly path: string;
}

export interface ResolveResult {
  readonly config: ProxyConfig;
  readonly diags: Diagnostic[];
}

const DEFAULT_NODE_PORT_RANGE: [number, number] = [30000, 32767];
export { DEFAULT_NODE_PORT_RANGE };

export function resolveConfig(flags: readonly FlagValue[], configFile: Manifest | undefined): ResolveResult {
  const diags: Diagnostic[] = [];
  const values = new Map<string, { raw: Raw; src: Source }>();
  if (configFile) {
    for (const f of KUBE_PROXY_FLAGS) {
      if (!f.configPath) continue;
      const v = dig(configFile.value, f.configPath);
      if (v !== undefined && v !== null) values.set(f.name, { raw: v as Raw, src: { where: 'config', path: '/' + f.configPath.join('/') } });
    }
  }
  for (const fv of flags) {
    const f = KUBE_PROXY_FLAGS.find((k) => k.name === fv.name);
    if (!f) continue;
    const parsed = parseFlagText(f, fv.value, diags);
    if (parsed === undefined) continue;
    if (configFile && values.has(f.name) && f.name !== 'hostname-override') {
      diags.push({ severity: 'warning', code: 'FLAG_OVERRIDES_CONFIG', object: `flag --${f.name}`, summary: `--${f.name} overrides ${values.get(f.name)!.src.path} of the KubeProxyConfiguration`, hint: 'kube-proxy itself ignores most flags when --config is given; put the value in the file to behave the same on both' });
    }
    values.set(f.name, { raw: parsed, src: { where: 'flag', path: `--${f.name}` } });
  }
  const ctx = { diags, configFile, values };
  const config = buildConfig(ctx);
  return { config, diags };
}

interface Ctx {
  readonly diags: Diagnostic[];
  readonly configFile: Manifest | undefined;
  readonly values: Map<string, { raw: Raw; src: Source }>;
}

function parseFlagText(f: KubeProxyFlag, text: string | undefined, diags: Diagnostic[]): Raw | undefined {
  const bad = (why: string, hint?: string): undefined => {
    diags.push({ severity: 'error', code: 'FLAG_INVALID', object: `flag --${f.name}`, summary: `invalid value ${show(text ?? '')} for --${f.name}: ${why}`, ...(hint ? { hint } : {}) });
    return undefined;
  };
  switch (f.kind) {
    case 'bool': {
      if (text === undefined) return true;
      const b = parseBool(text);
      return b === null ? bad('expected true or false', `write --${f.name}, --${f.name}=true or --${f.name}=false`) : b;
    }
    case 'int': {
      if (text === undefined || !/^-?\d+$/.test(text)) return bad('expected an integer', `for example --${f.name}=14`);
      return Number(text);
    }
    case 'duration':
      if (text === undefined || parseDuration(text) === null) return bad('expected a duration', 'write durations like 30s, 15m or 1h30m');
      return text;
    case 'list':
      return text === undefined || text === '' ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'map': {
      const out: Record<string, boolean> = {};
      for (const kv of (text ?? '').split(',').filter((s) => s !== '')) {
        const [k, v] = kv.split('=');
        const b = v === undefined ? null : parseBool(v.trim());
        if (!k || b === null) return bad('expected Name=true|false pairs separated by commas', 'for example --feature-gates=PreferSameTrafficDistribution=false');
        out[k.trim()] = b;
      }
      return out;
    }
    case 'string':
      return text ?? '';
  }
}

function dig(obj: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function report(ctx: Ctx, name: string, code: string, summary: string, hint?: string, severity: 'error' | 'warning' = 'error', index?: number): void {
  const v = ctx.values.get(name);
  // A list entry of the config file is pointed at directly (`/ipvs/excludeCIDRs/1`).
  const sub = index !== undefined && Array.isArray(v?.raw) ? `/${index}` : '';
  const base = v?.src.where === 'config' && ctx.configFile
    ? { file: ctx.configFile.file, doc: ctx.configFile.doc, path: ctx.configFile.base + v.src.path + sub, object: ctx.configFile.label }
    : { object: `flag --${name}` };
  ctx.diags.push({ severity, code, summary, ...base, ...(hint ? { hint } : {}) });
}

/** How the user wrote the setting: `ipvs.scheduler` from the config file, else `--ipvs-scheduler`. */
function nameOf(ctx: Ctx, name: string): string {
  const v = ctx.values.get(name);
  if (v?.src.where === 'config') return v.src.path.slice(1).replace(/\//g, '.');
  return `--${name}`;
}

/** The setting a mode needs, in the user's vocabulary. */
function needs(ctx: Ctx, name: string): string {
  const f = KUBE_PROXY_FLAGS.find((k) => k.name === name);
  return ctx.configFile && f?.configPath ? `${f.configPath.join('.')} (or --${name})` : `--${name}`;
}

const suggestion = (word: string, options: readonly string[]): string => {
  const c = options.find((o) => o.toLowerCase() === word.toLowerCase()) ?? closest(word, options);
  return c ? `did you mean ${c}? ` : '';
};

function buildConfig(ctx: Ctx): ProxyConfig {
  const str = (n: string, d = ''): string => {
    const v = ctx.values.get(n)?.raw;
    return typeof v === 'string' ? v : d;
  };
  const bool = (n: string): boolean => ctx.values.get(n)?.raw === true;
  const int = (n: string, d: number): number => {
    const v = ctx.values.get(n)?.raw;
    return typeof v === 'number' ? v : d;
  };
  const list = (n: string): string[] => {
    const v = ctx.values.get(n)?.raw;
    return Array.isArray(v) ? (v as string[]) : typeof v === 'string' && v !== '' ? v.split(',').map((s) => s.trim()) : [];
  };
  /** A duration in seconds, exactly (500ms is 0.5); `d` when unset, invalid or negative (reported). */
  const duration = (n: string, d: number): number => {
    const v = ctx.values.get(n)?.raw;
    if (typeof v !== 'string') return d;
    const s = parseDuration(v);
    if (s === null) { report(ctx, n, 'CONFIG_INVALID', `${show(v)} is not a duration`, 'write durations like 30s, 15m or 1h30m'); return d; }
    if (s < 0) { report(ctx, n, 'CONFIG_INVALID', `${nameOf(ctx, n)} must not be negative, got ${show(v)}`, 'use 0 to keep the default'); return d; }
    return s;
  };
  /** Whole seconds, as the artifacts write them (ipvsadm --set, sysctls). */
  const seconds = (n: string, d: number): number => Math.trunc(duration(n, d));

  const mode = str('proxy-mode');
  // Unset is fine (ipvsc always compiles IPVS mode); another explicit mode is a mistake worth a word.
  if (mode !== 'ipvs' && mode !== '') {
    report(ctx, 'proxy-mode', 'CONFIG_MODE', `proxy mode is ${show(mode)}; ipvsc compiles IPVS mode`, 'set --proxy-mode=ipvs (or mode: ipvs) to silence this', 'warning');
  }
  const scheduler = str('ipvs-scheduler') || 'rr';
  if (!(SCHEDULERS as readonly string[]).includes(scheduler)) {
    report(ctx, 'ipvs-scheduler', 'CONFIG_SCHEDULER', `unknown IPVS scheduler ${show(scheduler)}`, `${suggestion(scheduler, SCHEDULERS)}the kernel offers ${SCHEDULERS.join(' ')}`);
  }
  const cidrList = (n: string, what: string): Cidr[] =>
    list(n).flatMap((c, i) => {
      const p = parseCidr(c);
      if (!p) report(ctx, n, 'CONFIG_CIDR', `${what} ${show(c)} is not a valid CIDR`, 'write CIDRs like 10.0.0.0/8 or fd00::/64', 'error', i);
      return p ? [p] : [];
    });
  const excludeCIDRs = cidrList('ipvs-exclude-cidrs', 'exclude CIDR');
  const bit = int('iptables-masquerade-bit', 14);
  if (!Number.isInteger(bit) || bit < 0 || bit > 31) report(ctx, 'iptables-masquerade-bit', 'CONFIG_RANGE', `${nameOf(ctx, 'iptables-masquerade-bit')} must be 0-31, got ${bit}`, 'it is a bit number of the 32-bit packet mark (kube-proxy\'s default is 14)');
  const clusterCIDRs = cidrList('cluster-cidr', 'cluster CIDR');
  if (clusterCIDRs.length > 2 || (clusterCIDRs.length === 2 && clusterCIDRs[0]!.family === clusterCIDRs[1]!.family)) {
    report(ctx, 'cluster-cidr', 'CONFIG_CIDR', `${nameOf(ctx, 'cluster-cidr')} takes one CIDR, or two of different families (dual stack), got ${show(str('cluster-cidr'))}`, 'write e.g. 10.244.0.0/16 or 10.244.0.0/16,fd00:10:244::/56');
  }
  const dlm = str('detect-local-mode') || 'ClusterCIDR';
  const modes: DetectLocalMode[] = ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'];
  if (!(modes as string[]).includes(dlm)) report(ctx, 'detect-local-mode', 'CONFIG_ENUM', `unknown ${nameOf(ctx, 'detect-local-mode')} ${show(dlm)}`, `${suggestion(dlm, modes)}one of ${modes.join(', ')} (case-sensitive)`);
  const bridge = str('pod-bridge-interface');
  const prefix = str('pod-interface-name-prefix');
  if (dlm === 'BridgeInterface' && bridge === '') report(ctx, 'detect-local-mode', 'CONFIG_REQUIRED', `${nameOf(ctx, 'detect-local-mode')} BridgeInterface needs ${needs(ctx, 'pod-bridge-interface')}`, 'name the bridge the pods are attached to (e.g. cbr0), or choose another mode');
  if (dlm === 'InterfaceNamePrefix' && prefix === '') report(ctx, 'detect-local-mode', 'CONFIG_REQUIRED', `${nameOf(ctx, 'detect-local-mode')} InterfaceNamePrefix needs ${needs(ctx, 'pod-interface-name-prefix')}`, 'give the prefix of the pods\' interface names (e.g. veth), or choose another mode');
  for (const [n, v] of [['pod-bridge-interface', bridge], ['pod-interface-name-prefix', prefix]] as const) {
    // The value lands in an iptables rule (`! -i NAME`): only what Linux allows in a name.
    if (v !== '' && !/^[A-Za-z0-9_.@:-]{1,15}$/.test(v)) report(ctx, n, 'CONFIG_INTERFACE', `${show(v)} is not a valid interface name`, 'Linux interface names are 1-15 characters without spaces, "/" or quotes');
  }
  const npa = list('nodeport-addresses');
  if (npa.includes('primary') && npa.length > 1) report(ctx, 'nodeport-addresses', 'CONFIG_NODEPORT_ADDRESSES', `can't use both 'primary' and CIDRs in ${nameOf(ctx, 'nodeport-addresses')}`, "give either exactly one entry 'primary', or only CIDRs");
  else if (!npa.includes('primary')) cidrList('nodeport-addresses', 'node port address');
  const hostname = str('hostname-override').trim().toLowerCase();
  // An empty hostnameOverride in the file is kubeadm's default ("use the host name"); only an
  // explicitly empty flag is an error, as in kube-proxy.
  if (ctx.values.get('hostname-override')?.src.where === 'flag' && hostname === '') report(ctx, 'hostname-override', 'CONFIG_HOSTNAME', `${nameOf(ctx, 'hostname-override')} is empty`, 'give the node name, as in the Node object\'s metadata.name');
  if (hostname !== '' && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(hostname)) report(ctx, 'hostname-override', 'CONFIG_HOSTNAME', `${show(hostname)} is not a valid node name`, 'node names are DNS subdomains: lower-case letters, digits, "-" and "."');
  const bindAddress = str('bind-address') || '0.0.0.0';
  if (!parseIp(bindAddress)) report(ctx, 'bind-address', 'CONFIG_IP', `${nameOf(ctx, 'bind-address')} ${show(bindAddress)} is not a valid IP address`, 'write an address like 0.0.0.0, :: or 192.168.0.10 (no port)');
  for (const n of ['healthz-bind-address', 'metrics-bind-address']) {
    const v = str(n);
    // A bare IP gets the default port first (kube-proxy's AppendPortIfNeeded, for the file in
    // SetDefaults_KubeProxyConfiguration and for the flags): k3s and RKE2 pass
    // --healthz-bind-address=127.0.0.1, monitoring stacks set metricsBindAddress: 0.0.0.0.
    if (v !== '' && parseIp(v) === null && !validHostPort(v)) report(ctx, n, 'CONFIG_ADDRESS', `${nameOf(ctx, n)} ${show(v)} must be IP:port with a port from 1 to 65535`, 'for example 0.0.0.0:10256, or [::]:10256 for IPv6');
  }
  const oom = int('oom-score-adj', -999);
  if (oom < -1000 || oom > 1000) report(ctx, 'oom-score-adj', 'CONFIG_RANGE', `${nameOf(ctx, 'oom-score-adj')} must be -1000..1000, got ${oom}`, 'kube-proxy\'s default is -999');
  /**
   * A period that must be greater than 0, in seconds (not truncated: 500ms is fine). A zero in
   * the file is "unset" to kube-proxy: SetDefaults_KubeProxyConfiguration replaces it with the
   * default before validating, and kubeadm's ConfigMap writes `syncPeriod: 0s` and
   * `configSyncPeriod: 0s`. A zero flag is validated, and refused.
   */
  const period = (n: string, d: number, hint: string): number => {
    const s = duration(n, d);
    if (s > 0) return s;
    if (ctx.values.get(n)?.src.where === 'flag') report(ctx, n, 'CONFIG_RANGE', `${nameOf(ctx, n)} must be greater than 0`, hint);
    return d;
  };
  const syncPeriod = period('ipvs-sync-period', 30, 'kube-proxy\'s default is 30s');
  const minSync = duration('ipvs-min-sync-period', 0);
  if (minSync > syncPeriod) report(ctx, 'ipvs-min-sync-period', 'CONFIG_RANGE', `${nameOf(ctx, 'ipvs-min-sync-period')} (${minSync}s) must not be greater than ${nameOf(ctx, 'ipvs-sync-period')} (${syncPeriod}s)`, 'lower the minimum or raise the sync period');
  period('config-sync-period', 900, 'kube-proxy\'s default is 15m');
  for (const n of ['conntrack-max-per-core', 'conntrack-min']) if (int(n, 0) < 0) report(ctx, n, 'CONFIG_RANGE', `${nameOf(ctx, n)} must not be negative`, 'use 0 for the kernel default');
  const gates = (ctx.values.get('feature-gates')?.raw ?? {}) as Record<string, boolean>;
  // kube-proxy accepts every Kubernetes gate; only this one changes what its IPVS mode programs.
  for (const g of Object.keys(gates).sort()) {
    if (!MODELLED_GATES.has(g)) report(ctx, 'feature-gates', 'CONFIG_GATE_IGNORED', `feature gate ${show(g)} does not change what ipvsc compiles; ignored`, `ipvsc models ${[...MODELLED_GATES].join(', ')}; kube-proxy rejects gate names it does not know, so check the spelling`, 'warning');
  }
  return {
    mode: mode || 'ipvs',
    scheduler,
    excludeCIDRs,
    strictARP: bool('ipvs-strict-arp'),
    tcpTimeout: seconds('ipvs-tcp-timeout', 0),
    tcpFinTimeout: seconds('ipvs-tcpfin-timeout', 0),
    udpTimeout: seconds('ipvs-udp-timeout', 0),
    masqueradeAll: bool('masquerade-all'),
    masqueradeBit: bit,
    clusterCIDRs,
    detectLocalMode: dlm as DetectLocalMode,
    bridgeInterface: bridge,
    interfaceNamePrefix: prefix,
    nodePortAddresses: npa,
    hostnameOverride: hostname,
    bindAddress,
    // PreferSameTrafficDistribution is beta and on by default since v1.34.
    featureGates: { PreferSameTrafficDistribution: true, ...gates },
    conntrack: {
      maxPerCore: int('conntrack-max-per-core', 32768),
      min: int('conntrack-min', 131072),
      tcpEstablishedTimeout: seconds('conntrack-tcp-timeout-established', 86400),
      tcpCloseWaitTimeout: seconds('conntrack-tcp-timeout-close-wait', 3600),
      tcpBeLiberal: bool('conntrack-tcp-be-liberal'),
      udpTimeout: seconds('conntrack-udp-timeout', 0),
      udpStreamTimeout: seconds('conntrack-udp-timeout-stream', 0),
    },
  };
}

const MODELLED_GATES = new Set(['PreferSameTrafficDistribution']);

function validHostPort(v: string): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(v);
  if (!m) return false;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  // kube-proxy's validateHostPort: the host must be an IP (":10256" is refused).
  return parseIp(host) !== null && port >= 1 && port <= 65535;
}
