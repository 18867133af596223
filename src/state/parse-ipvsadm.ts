/**
 * Parsers of ipvsadm's output: `ipvsadm -Sn` (save), `ipvsadm -Ln` (list with connection
 * counters), `ipvsadm -Ln --stats|--rate` and `ipvsadm -L --timeout`. Pure: the text is passed in.
 *
 * Samples below are real captures (test/fixtures/tool-output/ipvsadm/, ipvsadm v1.31 on Debian 12,
 * kernel 6.1).
 */
import { parseIp } from '../model/net.js';
import { StateParseError, rsKey, vsKey } from './types.js';
import type { ForwardMethod, LiveProtocol, LiveRealServer, LiveVirtualServer } from './types.js';

const TOOL = 'ipvsadm';

interface HostPort {
  address: string;
  port: number;
}

/** `10.0.0.1:80` / `[2020::1]:80` → canonical address + numeric port; null when not that shape. */
function parseHostPort(s: string): HostPort | null {
  let host: string;
  let port: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']:');
    if (close < 0) return null;
    host = s.slice(1, close);
    port = s.slice(close + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0 || s.indexOf(':') !== colon) return null;
    host = s.slice(0, colon);
    port = s.slice(colon + 1);
  }
  const ip = parseIp(host);
  if (!ip || !/^\d{1,5}$/.test(port) || Number(port) > 65535) return null;
  return { address: ip.text, port: Number(port) };
}

/**
 * Scheduler flags as ipvsadm spells them for this scheduler, canonicalised: ipvsadm builds that
 * predate the mh names print `flag-1`/`flag-2` (IP_VS_SVC_F_SCHED1/2); for `sh` and `mh` those mean
 * `<sched>-fallback` / `<sched>-port`.
 */
function canonicalSchedFlag(flag: string, scheduler: string): string {
  const f = flag.trim().toLowerCase();
  if (scheduler === 'sh' || scheduler === 'mh') {
    if (f === 'flag-1') return `${scheduler}-fallback`;
    if (f === 'flag-2') return `${scheduler}-port`;
  }
  return f;
}

function finishFlags(raw: string[], scheduler: string): string[] {
  return [...new Set(raw.filter((f) => f !== '').map((f) => canonicalSchedFlag(f, scheduler)))].sort();
}

/** Decorate-sort: each address is parsed once, not on every comparison (77k-line saves). */
const addrKey = (a: string): string => parseIp(a)?.key ?? `~${a}`;
function sortServers(rs: LiveRealServer[]): LiveRealServer[] {
  if (rs.length < 2) return rs;
  const keyed = rs.map((r) => ({ r, k: addrKey(r.address) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.r.port - b.r.port));
  keyed.forEach((x, i) => (rs[i] = x.r));
  return rs;
}

const PROTO_RANK: Record<LiveProtocol, number> = { TCP: 0, UDP: 1, SCTP: 2 };

/** docs/artifacts.md order: address, port, protocol; fwmark services last, by mark. */
function sortServices(vs: LiveVirtualServer[]): LiveVirtualServer[] {
  for (const v of vs) sortServers(v.realServers);
  const keyed = vs.map((v) => ({ v, k: v.fwmark === undefined ? addrKey(v.address) : '' }));
  keyed.sort(({ v: a, k: ka }, { v: b, k: kb }) => {
    if ((a.fwmark !== undefined) !== (b.fwmark !== undefined)) return a.fwmark !== undefined ? 1 : -1;
    if (a.fwmark !== undefined && b.fwmark !== undefined) return a.fwmark - b.fwmark || a.address.localeCompare(b.address);
    return (ka < kb ? -1 : ka > kb ? 1 : 0) || a.port - b.port || PROTO_RANK[a.protocol] - PROTO_RANK[b.protocol];
  });
  keyed.forEach((x, i) => (vs[i] = x.v));
  return vs;
}

const PROTO_SWITCH: Record<string, LiveProtocol> = {
  '-t': 'TCP', '--tcp-service': 'TCP',
  '-u': 'UDP', '--udp-service': 'UDP',
  '--sctp-service': 'SCTP',
};

const METHOD_SWITCH: Record<string, ForwardMethod> = {
  '-m': 'masq', '--masquerading': 'masq',
  '-g': 'route', '--gatewaying': 'route',
  '-i': 'tunnel', '--ipip': 'tunnel',
};

/** Options of `-a` lines we skip over (tunnel encapsulation details), with their arity. */
const RS_SKIP: Record<string, number> = { '--tun-type': 1, '--tun-port': 1, '--tun-nocsum': 0, '--tun-csum': 0, '--tun-remcsum': 0 };

/**
 * `ipvsadm -Sn` → virtual services with their real servers, sorted in artifact order.
 * Also reads ipvsc's own ipvsadm.restore (its `--set` line is skipped).
 *
 * Real sample (`ipvsadm -Sn`):
 * ```
 * -A -t 192.168.0.10:30080 -s wrr -p 60
 * -a -t 192.168.0.10:30080 -r 10.180.0.1:80 -m -w 1
 * -A -t 10.20.30.41:80 -s rr
 * -a -t 10.20.30.41:80 -r 10.180.0.1:80 -m -w 1
 * -a -t 10.20.30.41:80 -r 10.180.0.2:8080 -m -w 0
 * -A -u 10.96.0.10:53 -s rr -p 10800
 * -A --sctp-service 10.20.30.41:80 -s mh -b mh-port
 * -a --sctp-service 10.20.30.41:80 -r 10.180.0.3:80 -m -w 1
 * -A -t [2020::1]:80 -s rr
 * -a -t [2020::1]:80 -r [1002:ab8::2:10]:80 -m -w 1
 * -A --sctp-service [2001:db8::1:1]:3001 -s mh -b mh-port
 * ```
 * Other spellings handled: `-f MARK` (`-6` for IPv6 fwmark), `-M netmask`, `-b flag-2` (old
 * ipvsadm, → `mh-port` under `mh`), `--pe NAME` (→ flag `pe:NAME`), `-o` (→ flag `ops`),
 * `-g`/`-i`/`-m`, `-x`/`-y` thresholds.
 */
export function parseIpvsadmSave(text: string): LiveVirtualServer[] {
  const byKey = new Map<string, LiveVirtualServer>();
  const lines = text.split('\n');
  lines.forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('--set')) return;
    const fail = (why: string): never => { throw new StateParseError(TOOL, i + 1, rawLine, why); };
    const t = line.split(/\s+/);
    const op = t[0];
    if (op !== '-A' && op !== '-a') fail('expected -A or -a');
    let protocol: LiveProtocol = 'TCP';
    let addr: HostPort | null = null;
    let fwmark: number | undefined;
    let v6 = false;
    let scheduler = '';
    const flags: string[] = [];
    let timeout = 0;
    let netmask: string | undefined;
    let rs: HostPort | null = null;
    let method: ForwardMethod | undefined;
    let weight: number | undefined;
    let upper = 0;
    let lower = 0;
    const num = (s: string | undefined, what: string): number =>
      s !== undefined && /^\d+$/.test(s) ? Number(s) : fail(`bad ${what}`);
    for (let k = 1; k < t.length; k++) {
      const tok = t[k]!;
      const next = (): string => t[++k] ?? fail(`missing value after ${tok}`);
      const proto = PROTO_SWITCH[tok];
      if (proto) {
        protocol = proto;
        addr = parseHostPort(next()) ?? fail('bad service address (numeric output needed: -n)');
        continue;
      }
      const m = METHOD_SWITCH[tok];
      if (m) { method = m; continue; }
      switch (tok) {
        case '-f': case '--fwmark-service': fwmark = num(next(), 'fwmark'); break;
        case '-6': case '--ipv6': v6 = true; break;
        case '-s': case '--scheduler': scheduler = next(); break;
        case '-p': case '--persistent': timeout = num(next(), 'persistence timeout'); break;
        case '-M': case '--netmask': netmask = next(); break;
        case '-b': case '--sched-flags': flags.push(...next().split(',')); break;
        case '--pe': flags.push(`pe:${next()}`); break;
        case '-o': case '--ops': flags.push('ops'); break;
        case '-r': case '--real-server': rs = parseHostPort(next()) ?? fail('bad real server address (numeric output needed: -n)'); break;
        case '-w': case '--weight': weight = num(next(), 'weight'); break;
        case '-x': case '--u-threshold': upper = num(next(), 'upper threshold'); break;
        case '-y': case '--l-threshold': lower = num(next(), 'lower threshold'); break;
        default: {
          const skip = RS_SKIP[tok];
          if (skip === undefined) fail(`unknown option ${tok}`);
          k += skip ?? 0;
        }
      }
    }
    if (!addr && fwmark === undefined) fail('no service (-t/-u/--sctp-service/-f)');
    const key = fwmark !== undefined
      ? vsKey({ protocol: 'TCP', address: v6 ? '::' : '', port: 0, fwmark })
      : vsKey({ protocol, address: addr!.address, port: addr!.port });
    if (op === '-A') {
      if (byKey.has(key)) fail('duplicate virtual service');
      if (!scheduler) fail('no scheduler (-s)');
      const vs: LiveVirtualServer = {
        protocol,
        address: fwmark !== undefined ? (v6 ? '::' : '') : addr!.address,
        port: fwmark !== undefined ? 0 : addr!.port,
        scheduler,
        flags: finishFlags(flags, scheduler),
        timeout,
        realServers: [],
      };
      if (netmask !== undefined && netmask !== '255.255.255.255' && netmask !== '128') vs.netmask = netmask;
      if (fwmark !== undefined) vs.fwmark = fwmark;
      byKey.set(key, vs);
    } else {
      const vs = byKey.get(key) ?? fail('real server before its virtual service');
      if (!rs) fail('no real server (-r)');
      const r: LiveRealServer = { address: rs!.address, port: rs!.port, weight: weight ?? 1, method: method ?? 'route' };
      if (upper) r.upperThreshold = upper;
      if (lower) r.lowerThreshold = lower;
      vs.realServers.push(r);
    }
  });
  return sortServices([...byKey.values()]);
}

export interface ConnCounts {
  active: number;
  inactive: number;
  /** Only with `--persistent-conn`. */
  persistent?: number;
}

export interface IpvsadmList {
  /** Services with real servers carrying `activeConns`/`inactiveConns`, artifact order. */
  services: LiveVirtualServer[];
  /** Keyed by connKey(vs, rs) = `TCP/10.20.30.41:80 -> 10.180.0.1:80`. */
  conns: Map<string, ConnCounts>;
}

export const connKey = (
  vs: Pick<LiveVirtualServer, 'protocol' | 'address' | 'port' | 'fwmark'>,
  rs: Pick<LiveRealServer, 'address' | 'port'>,
): string => `${vsKey(vs)} -> ${rsKey(rs)}`;

const LIST_METHOD: Record<string, ForwardMethod> = { masq: 'masq', route: 'route', local: 'route', tunnel: 'tunnel' };

/** `TCP  10.20.30.41:80 rr (mh-port) persistent 60 mask 255.255.255.0 pe sip ops` → service. */
function parseListService(t: string[], fail: (why: string) => never): LiveVirtualServer {
  const protoTok = t[0]!;
  let k = 1;
  let vs: LiveVirtualServer;
  if (protoTok === 'FWM') {
    const mark = t[k++];
    if (!mark || !/^\d+$/.test(mark)) fail('bad fwmark');
    let v6 = false;
    if (t[k] === 'IPv6') { v6 = true; k++; }
    vs = { protocol: 'TCP', address: v6 ? '::' : '', port: 0, scheduler: '', flags: [], timeout: 0, realServers: [], fwmark: Number(mark) };
  } else {
    if (protoTok !== 'TCP' && protoTok !== 'UDP' && protoTok !== 'SCTP') fail(`unknown protocol ${protoTok}`);
    const hp = parseHostPort(t[k++] ?? '') ?? fail('bad service address (numeric output needed: -n)');
    vs = { protocol: protoTok, address: hp.address, port: hp.port, scheduler: '', flags: [], timeout: 0, realServers: [] };
  }
  vs.scheduler = t[k++] ?? fail('no scheduler');
  const raw: string[] = [];
  for (; k < t.length; k++) {
    const tok = t[k]!;
    if (tok.startsWith('(')) {
      let group = tok;
      while (!group.endsWith(')') && k + 1 < t.length) group += t[++k]!;
      raw.push(...group.slice(1, -1).split(','));
    } else if (tok === 'persistent') {
      const n = t[++k];
      if (!n || !/^\d+$/.test(n)) fail('bad persistence timeout');
      vs.timeout = Number(n);
    } else if (tok === 'mask') {
      const m = t[++k] ?? fail('missing mask');
      if (m !== '255.255.255.255' && m !== '128') vs.netmask = m;
    } else if (tok === 'pe') {
      raw.push(`pe:${t[++k] ?? fail('missing pe name')}`);
    } else if (tok === 'ops') {
      raw.push('ops');
    } else fail(`unknown service attribute ${tok}`);
  }
  vs.flags = finishFlags(raw, vs.scheduler);
  return vs;
}

/**
 * `ipvsadm -Ln` (also `-Ln -t VIP:PORT`, and `-Ln --persistent-conn`) → services and the
 * ActiveConn/InActConn counters of each real server, which apply needs to drain TCP real servers
 * (weight 0 until ActiveConn + InActConn is 0).
 *
 * Real sample (`ipvsadm -Ln`):
 * ```
 * IP Virtual Server version 1.2.1 (size=4096)
 * Prot LocalAddress:Port Scheduler Flags
 *   -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
 * TCP  192.168.0.10:30080 wrr persistent 60
 *   -> 10.180.0.1:80                Masq    1      0          0
 * TCP  10.20.30.41:80 rr
 *   -> 10.180.0.1:80                Masq    1      3          1
 *   -> 10.180.0.2:8080              Masq    0      0          0
 * TCP  10.20.30.43:80 rr
 * UDP  10.96.0.10:53 rr persistent 10800
 *   -> 10.180.0.2:53                Masq    1      0          1
 * SCTP 10.20.30.41:80 mh (mh-port)
 *   -> 10.180.0.3:80                Masq    1      0          0
 * TCP  [2020::1]:80 rr
 *   -> [1002:ab8::2:10]:80          Masq    1      0          0
 * SCTP [2001:db8::1:1]:3001 mh (mh-port)
 * ```
 * `--persistent-conn` replaces the columns by `Weight PersistConn ActiveConn InActConn` (no
 * Forward column: method then reads `masq`). The `--stats`/`--rate` tables are refused here: use
 * parseIpvsadmStats.
 */
export function parseIpvsadmList(text: string): IpvsadmList {
  const services: LiveVirtualServer[] = [];
  const conns = new Map<string, ConnCounts>();
  let persistentConn = false;
  let current: LiveVirtualServer | null = null;
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim();
    const fail = (why: string): never => { throw new StateParseError(TOOL, i + 1, rawLine, why); };
    if (line === '' || line.startsWith('IP Virtual Server version')) return;
    if (line.startsWith('Prot LocalAddress:Port')) {
      if (/\b(Conns|CPS)\b/.test(line)) fail('statistics table: use parseIpvsadmStats');
      if (/\bPersistConn\b/.test(line)) persistentConn = true;
      return;
    }
    if (line.startsWith('-> RemoteAddress:Port')) {
      if (/\bPersistConn\b/.test(line)) persistentConn = true;
      return;
    }
    const t = line.split(/\s+/);
    if (t[0] === '->') {
      if (!current) fail('real server before any service');
      const hp = parseHostPort(t[1] ?? '') ?? fail('bad real server address (numeric output needed: -n)');
      const nums = (from: number, n: number): number[] => {
        const out = t.slice(from, from + n);
        if (out.length !== n || out.some((x) => !/^\d+$/.test(x))) fail('bad counters');
        return out.map(Number);
      };
      let r: LiveRealServer;
      let counts: ConnCounts;
      if (persistentConn) {
        const [weight, persist, active, inactive] = nums(2, 4) as [number, number, number, number];
        r = { address: hp.address, port: hp.port, weight, method: 'masq', activeConns: active, inactiveConns: inactive };
        counts = { active, inactive, persistent: persist };
      } else {
        const method = LIST_METHOD[(t[2] ?? '').toLowerCase()] ?? fail(`unknown forwarding method ${t[2] ?? ''}`);
        const [weight, active, inactive] = nums(3, 3) as [number, number, number];
        r = { address: hp.address, port: hp.port, weight, method, activeConns: active, inactiveConns: inactive };
        counts = { active, inactive };
      }
      current!.realServers.push(r);
      conns.set(connKey(current!, r), counts);
      return;
    }
    current = parseListService(t, fail);
    services.push(current);
  });
  return { services: sortServices(services), conns };
}

export interface IpvsStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

const SUFFIX: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/**
 * `ipvsadm -Ln --stats [--exact]` or `ipvsadm -Ln --rate` → counters per vsKey (services) and
 * per connKey (real servers). Without `--exact`, ipvsadm abbreviates large numbers (`123K`, `4M`):
 * those are expanded (so approximate). With `--rate` the five columns are CPS, InPPS, OutPPS,
 * InBPS, OutBPS, returned under the same field names.
 *
 * Real sample (`ipvsadm -Ln --stats`):
 * ```
 * IP Virtual Server version 1.2.1 (size=4096)
 * Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
 *   -> RemoteAddress:Port
 * TCP  10.20.30.41:80                      4       13        9      714      500
 *   -> 10.180.0.1:80                       4       13        9      714      500
 *   -> 10.180.0.2:8080                     0        0        0        0        0
 * SCTP [2001:db8::1:1]:3001                0        0        0        0        0
 * ```
 */
export function parseIpvsadmStats(text: string): Map<string, IpvsStats> {
  const out = new Map<string, IpvsStats>();
  let current: LiveVirtualServer | null = null;
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim();
    const fail = (why: string): never => { throw new StateParseError(TOOL, i + 1, rawLine, why); };
    if (line === '' || line.startsWith('IP Virtual Server version') || line.startsWith('Prot ') || line.startsWith('-> RemoteAddress')) return;
    const t = line.split(/\s+/);
    const five = t.slice(-5).map((x) => {
      const m = /^(\d+)([KMGT]?)$/.exec(x) ?? fail('bad counter');
      return Number(m[1]) * SUFFIX[m[2]!]!;
    }) as [number, number, number, number, number];
    if (five.length !== 5) fail('expected five counters');
    const stats: IpvsStats = { conns: five[0], inPkts: five[1], outPkts: five[2], inBytes: five[3], outBytes: five[4] };
    const head = t.slice(0, -5);
    if (head[0] === '->') {
      if (!current) fail('real server before any service');
      const hp = parseHostPort(head[1] ?? '') ?? fail('bad real server address');
      out.set(connKey(current!, hp), stats);
      return;
    }
    if (head[0] === 'FWM') {
      const mark = head[1] ?? '';
      if (!/^\d+$/.test(mark)) fail('bad fwmark');
      current = { protocol: 'TCP', address: head[2] === 'IPv6' ? '::' : '', port: 0, scheduler: '', flags: [], timeout: 0, realServers: [], fwmark: Number(mark) };
    } else {
      const proto = head[0];
      if (proto !== 'TCP' && proto !== 'UDP' && proto !== 'SCTP') fail(`unknown protocol ${proto ?? ''}`);
      const hp = parseHostPort(head[1] ?? '') ?? fail('bad service address');
      current = { protocol: proto as LiveProtocol, address: hp.address, port: hp.port, scheduler: '', flags: [], timeout: 0, realServers: [] };
    }
    out.set(vsKey(current), stats);
  });
  return out;
}

export interface IpvsTimeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

/**
 * `ipvsadm -L --timeout` → the three IPVS timeouts in seconds.
 *
 * Real sample (`ipvsadm -Ln --timeout`, fresh kernel defaults):
 * ```
 * Timeout (tcp tcpfin udp): 900 120 300
 * ```
 */
export function parseIpvsTimeouts(text: string): IpvsTimeouts {
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    const m = /^\s*Timeout \(tcp tcpfin udp\):\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) return { tcp: Number(m[1]), tcpfin: Number(m[2]), udp: Number(m[3]) };
    if (line.trim() !== '') throw new StateParseError(TOOL, i + 1, line, 'expected "Timeout (tcp tcpfin udp): T F U"');
  }
  throw new StateParseError(TOOL, lines.length, '', 'no Timeout line');
}
