/**
 * kube-proxy's flags that matter in IPVS mode (reference §5), as data: name, value kind, the
 * KubeProxyConfiguration field it mirrors, and its default. ipvsc accepts them with kube-proxy's
 * own names and meaning, so a kube-proxy command line can be pasted as it is.
 */

export type FlagKind = 'string' | 'bool' | 'int' | 'duration' | 'list' | 'map';

export interface KubeProxyFlag {
  readonly name: string;
  readonly kind: FlagKind;
  /** Field path in a v1alpha1 KubeProxyConfiguration. */
  readonly configPath?: readonly string[];
  readonly help: string;
}

export const KUBE_PROXY_FLAGS: readonly KubeProxyFlag[] = [
  { name: 'proxy-mode', kind: 'string', configPath: ['mode'], help: 'must be ipvs (the default "" means iptables to kube-proxy; ipvsc warns)' },
  { name: 'ipvs-scheduler', kind: 'string', configPath: ['ipvs', 'scheduler'], help: 'IPVS scheduler of every virtual server (default rr)' },
  { name: 'ipvs-exclude-cidrs', kind: 'list', configPath: ['ipvs', 'excludeCIDRs'], help: 'CIDRs whose virtual servers are never touched (comma separated)' },
  { name: 'ipvs-strict-arp', kind: 'bool', configPath: ['ipvs', 'strictARP'], help: 'set arp_ignore=1 and arp_announce=2' },
  { name: 'ipvs-tcp-timeout', kind: 'duration', configPath: ['ipvs', 'tcpTimeout'], help: 'IPVS TCP idle timeout (0 keeps the kernel value)' },
  { name: 'ipvs-tcpfin-timeout', kind: 'duration', configPath: ['ipvs', 'tcpFinTimeout'], help: 'IPVS TCP FIN_WAIT timeout' },
  { name: 'ipvs-udp-timeout', kind: 'duration', configPath: ['ipvs', 'udpTimeout'], help: 'IPVS UDP timeout' },
  { name: 'ipvs-sync-period', kind: 'duration', configPath: ['ipvs', 'syncPeriod'], help: 'accepted for compatibility; no effect on artifacts' },
  { name: 'ipvs-min-sync-period', kind: 'duration', configPath: ['ipvs', 'minSyncPeriod'], help: 'accepted for compatibility; no effect on artifacts' },
  { name: 'masquerade-all', kind: 'bool', configPath: ['iptables', 'masqueradeAll'], help: 'SNAT all traffic sent to cluster IPs' },
  { name: 'iptables-masquerade-bit', kind: 'int', configPath: ['iptables', 'masqueradeBit'], help: 'fwmark bit for SNAT (0-31, default 14)' },
  { name: 'cluster-cidr', kind: 'string', configPath: ['clusterCIDR'], help: 'pod CIDR(s) of the cluster, for detect-local-mode ClusterCIDR (comma separated, one per family)' },
  { name: 'detect-local-mode', kind: 'string', configPath: ['detectLocalMode'], help: 'ClusterCIDR, NodeCIDR, BridgeInterface or InterfaceNamePrefix' },
  { name: 'pod-bridge-interface', kind: 'string', configPath: ['detectLocal', 'bridgeInterface'], help: 'bridge name for detect-local-mode BridgeInterface' },
  { name: 'pod-interface-name-prefix', kind: 'string', configPath: ['detectLocal', 'interfaceNamePrefix'], help: 'interface prefix for detect-local-mode InterfaceNamePrefix' },
  { name: 'nodeport-addresses', kind: 'list', configPath: ['nodePortAddresses'], help: 'CIDRs of node addresses that serve NodePorts, or "primary"' },
  { name: 'hostname-override', kind: 'string', configPath: ['hostnameOverride'], help: 'the node name (for local endpoints and the Node object)' },
  { name: 'bind-address', kind: 'string', configPath: ['bindAddress'], help: 'overrides the primary node IP when not 0.0.0.0/::' },
  { name: 'healthz-bind-address', kind: 'string', configPath: ['healthzBindAddress'], help: 'accepted for compatibility' },
  { name: 'metrics-bind-address', kind: 'string', configPath: ['metricsBindAddress'], help: 'accepted for compatibility' },
  { name: 'feature-gates', kind: 'map', configPath: ['featureGates'], help: 'Name=true|false,… (PreferSameTrafficDistribution)' },
  { name: 'conntrack-max-per-core', kind: 'int', configPath: ['conntrack', 'maxPerCore'], help: 'nf_conntrack_max per CPU (default 32768)' },
  { name: 'conntrack-min', kind: 'int', configPath: ['conntrack', 'min'], help: 'minimum nf_conntrack_max (default 131072)' },
  { name: 'conntrack-tcp-timeout-established', kind: 'duration', configPath: ['conntrack', 'tcpEstablishedTimeout'], help: 'default 24h' },
  { name: 'conntrack-tcp-timeout-close-wait', kind: 'duration', configPath: ['conntrack', 'tcpCloseWaitTimeout'], help: 'default 1h' },
  { name: 'conntrack-tcp-be-liberal', kind: 'bool', configPath: ['conntrack', 'tcpBeLiberal'], help: 'nf_conntrack_tcp_be_liberal=1' },
  { name: 'conntrack-udp-timeout', kind: 'duration', configPath: ['conntrack', 'udpTimeout'], help: 'default: kernel value' },
  { name: 'conntrack-udp-timeout-stream', kind: 'duration', configPath: ['conntrack', 'udpStreamTimeout'], help: 'default: kernel value' },
  // In every kube-proxy DaemonSet or unit (k3s and RKE2 pass --kubeconfig): accepted, so that a
  // command line can be pasted; ipvsc reads Services from files, not from the API server.
  { name: 'kubeconfig', kind: 'string', help: 'accepted for compatibility (ipvsc reads files, not the API server)' },
  { name: 'master', kind: 'string', help: 'accepted for compatibility (ipvsc reads files, not the API server)' },
  { name: 'v', kind: 'int', help: 'accepted for compatibility (log verbosity)' },
  { name: 'oom-score-adj', kind: 'int', configPath: ['oomScoreAdj'], help: 'accepted for compatibility' },
  { name: 'config-sync-period', kind: 'duration', configPath: ['configSyncPeriod'], help: 'accepted for compatibility' },
  { name: 'iptables-sync-period', kind: 'duration', configPath: ['iptables', 'syncPeriod'], help: 'ignored in IPVS mode' },
  { name: 'iptables-min-sync-period', kind: 'duration', configPath: ['iptables', 'minSyncPeriod'], help: 'ignored in IPVS mode' },
];

export const kubeProxyFlag = (name: string): KubeProxyFlag | undefined => KUBE_PROXY_FLAGS.find((f) => f.name === name);

/** Go's time.ParseDuration, in seconds; null when invalid. */
export function parseDuration(s: string): number | null {
  if (s === '0') return 0;
  const m = /^(-?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(s.trim());
  if (!m) return null;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * unit[part[2]!]!;
  return m[1] ? -total : total;
}

export function parseBool(s: string): boolean | null {
  // pflag accepts strconv.ParseBool's spellings.
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
  return null;
}
