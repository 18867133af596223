/**
 * The live-state model: what the kernel tools report, parsed into canonical values that compare
 * key by key with what ipvsc compiles (docs/artifacts.md). `ipvsc plan` never diffs raw text.
 * Pure types plus key helpers; the parsers live beside this file (parse-*.ts).
 */

export type LiveProtocol = 'TCP' | 'UDP' | 'SCTP';
export type ForwardMethod = 'masq' | 'route' | 'tunnel';

export interface LiveRealServer {
  /** Canonical IP text (IPv6 compressed, lower case, unbracketed). */
  address: string;
  port: number;
  weight: number;
  method: ForwardMethod;
  /** Only from `ipvsadm -Ln` (the save format carries no counters). */
  activeConns?: number;
  inactiveConns?: number;
  /** `-x` / `-y` connection thresholds, when non-zero. */
  upperThreshold?: number;
  lowerThreshold?: number;
}

export interface LiveVirtualServer {
  /** For a fwmark service (`-f`) this is a placeholder (`TCP`): use `fwmark`. */
  protocol: LiveProtocol;
  /** Canonical IP text; for a fwmark service `''` (IPv4) or `'::'` (IPv6, `-6`). */
  address: string;
  /** `0` for a fwmark service. */
  port: number;
  scheduler: string;
  /** Scheduler flags and extras, canonical names, sorted: `mh-port`, `sh-fallback`, `pe:sip`, … */
  flags: string[];
  /** Persistence timeout in seconds; 0 = not persistent. */
  timeout: number;
  /** Persistence netmask when it is not the default (`255.255.255.255` / `128`). */
  netmask?: string;
  realServers: LiveRealServer[];
  fwmark?: number;
}

export interface LiveIpSet {
  name: string;
  type: string;
  /** Absent for bitmap sets (no family). */
  family?: 'IPv4' | 'IPv6';
  /** Everything after the type on the create line, for display (`family inet hashsize 1024 …`). */
  options: string;
  /** Canonical entry text as ipvsc writes it (docs/artifacts.md), sorted in artifact order. */
  entries: string[];
}

export interface LiveChain {
  name: string;
  /** Built-in chain policy (`ACCEPT`, `DROP`); absent for user chains (`-` in the save output). */
  policy?: string;
  /** canonicalRule() of each rule, WITHOUT the leading `-A CHAIN `, in kernel order. */
  rules: string[];
  /** The rule specs exactly as the tool printed them (same order as `rules`), for display. */
  raw?: string[];
}

export interface LiveTable {
  chains: Map<string, LiveChain>;
}

export interface LiveIptables {
  nat?: LiveTable;
  filter?: LiveTable;
  [other: string]: LiveTable | undefined;
}

/** Thrown by the parsers on text they do not understand; `line` is 1-based. */
export class StateParseError extends Error {
  constructor(
    readonly tool: string,
    readonly line: number,
    readonly text: string,
    reason: string,
  ) {
    super(`${tool}: line ${line}: ${reason}: ${text}`);
    this.name = 'StateParseError';
  }
}

const hostPort = (address: string, port: number): string =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/** `TCP/10.0.0.1:80`, `UDP/[2020::1]:53`, `FWM/1` (or `FWM6/1` for an IPv6 fwmark service). */
/** ipvsadm's virtual-service switch per protocol (`-t 10.0.0.1:80`). */
export const IPVSADM_SWITCH: Readonly<Record<LiveProtocol, string>> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };

export function vsKey(v: Pick<LiveVirtualServer, 'protocol' | 'address' | 'port' | 'fwmark'>): string {
  if (v.fwmark !== undefined) return `FWM${v.address === '::' ? '6' : ''}/${v.fwmark}`;
  return `${v.protocol}/${hostPort(v.address, v.port)}`;
}

/** How ipvsadm names a service on its command line and in `-S` output: `-t 10.0.0.1:80`, `--sctp-service [fd00::1]:80`. */
export const ipvsadmRef = (v: Pick<LiveVirtualServer, 'protocol' | 'address' | 'port'>): string => `${IPVSADM_SWITCH[v.protocol]} ${hostPort(v.address, v.port)}`;

/** `10.180.0.1:80`, `[1002:ab8::2:10]:80`. */
export const rsKey = (r: Pick<LiveRealServer, 'address' | 'port'>): string => hostPort(r.address, r.port);
