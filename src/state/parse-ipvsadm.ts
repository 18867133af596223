/**
 * Parsers of ipvsadm's output: `ipvsadm -Sn` (save), `ipvsadm -Ln` (list with connection
 * counters), `ipvsadm -Ln --stats|--rate` and `ipvsadm -L --timeout`. Pure: the text is passed in.
 *
 * Samples below are real captures (test/fixtures/tool-output/ipvsadm/, ipvsadm v1.31 on Debian 12,
 * kernel 6.1).
 */
import { parseIp } from '../model/net.js';
import { addressSortKey, canonicalV4, indexIn, isCanonicalV4, isCanonicalV6, isWord, isWs, uintAt, wsBounds } from './scan.js';
import { IPVSADM_SWITCH, StateParseError, rsKey, vsKey } from './types.js';
import type { ForwardMethod, LiveProtocol, LiveRealServer, LiveVirtualServer } from './types.js';
import type { VirtualServer } from '../model/types.js';

const TOOL = 'ipvsadm';

interface HostPort {
  address: string;
  port: number;
}

/**
 * `10.0.0.1:80` / `[2020::1]:80` (`s.slice(start, end)`) → canonical address + numeric port; null
 * when not that shape. Fast path: canonical address text (the common case) is its own
 * canonical text, without parseIp.
 */
function parseHostPort(s: string, start = 0, end = s.length): HostPort | null {
  let host: string;
  let colon: number;
  hostPortWasCanonical = false;
  if (s.charCodeAt(start) === 91) { // '['
    colon = start; // the first `]:`
    do colon = indexIn(s, 93, colon + 1, end); while (colon < end && s.charCodeAt(colon + 1) !== 58);
    if (++colon >= end) return null;
    if (isCanonicalV6(s, start + 1, colon - 1)) {
      const port = portAt(s, colon + 1, end);
      hostPortWasCanonical = port >= 0 && (end - colon === 2 || s.charCodeAt(colon + 1) !== 48);
      return port < 0 ? null : { address: s.slice(start + 1, colon - 1), port };
    }
    host = s.slice(start + 1, colon - 1);
  } else {
    colon = s.lastIndexOf(':', end - 1);
    if (colon < start || s.indexOf(':', start) !== colon) return null;
    if (isCanonicalV4(s, start, colon)) {
      const port = portAt(s, colon + 1, end);
      hostPortWasCanonical = port >= 0 && (end - colon === 2 || s.charCodeAt(colon + 1) !== 48);
      return port < 0 ? null : { address: s.slice(start, colon), port };
    }
    host = s.slice(start, colon);
  }
  const ip = parseIp(host);
  const port = portAt(s, colon + 1, end);
  if (!ip || port < 0) return null;
  return { address: ip.text, port };
}

/** Whether the last parseHostPort read text that is its own canonical form (`rsKey` of the result). */
let hostPortWasCanonical = false;

/** `/^\d{1,5}$/` and ≤ 65535 → the port; else -1. */
function portAt(s: string, start: number, end: number): number {
  const port = end - start > 5 ? -1 : uintAt(s, start, end);
  return port > 65535 ? -1 : port;
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

function finishFlags(raw: readonly string[], scheduler: string): string[] {
  if (raw.length === 0) return [];
  return [...new Set(raw.filter((f) => f !== '').map((f) => canonicalSchedFlag(f, scheduler)))].sort();
}

/** Orders as parseIp(a).key (`~a` when not an address) does: addressSortKey. */
const addrKey = (a: string): string => addressSortKey(a) ?? `~${a}`;

/**
 * Address then port. Decorate-sort (77k-line saves): each address is keyed once, not on every
 * comparison; a list of canonical IPv4 servers is keyed by one number and usually already in order.
 */
function sortServers(rs: LiveRealServer[]): LiveRealServer[] {
  const n = rs.length;
  if (n < 2) return rs;
  // canonical IPv4 servers: one number each (< 2^48, exact); often already in order
  let allV4 = true;
  let sorted = true;
  for (let i = 0, prev = -1; i < n && allV4; i++) {
    const v4 = canonicalV4(rs[i]!.address);
    const key = v4 * 65536 + rs[i]!.port;
    allV4 = v4 >= 0;
    if (key < prev) sorted = false;
    prev = key;
  }
  if (allV4 && sorted) return rs;
  const keyed = allV4
    ? rs.map((r) => ({ r, k: '', n: canonicalV4(r.address) * 65536 + r.port }))
    : rs.map((r) => ({ r, k: addrKey(r.address), n: r.port }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.n - b.n));
  for (let i = 0; i < n; i++) rs[i] = keyed[i]!.r;
  return rs;
}

const PROTO_RANK: Record<LiveProtocol, number> = { TCP: 0, UDP: 1, SCTP: 2 };

/**
 * docs/artifacts.md order: address, port, protocol; fwmark services last, by mark. An IPv4
 * service is keyed `4` plus one number (address, port, protocol), which orders exactly as its
 * parseIp key then port then protocol would.
 */
function sortServices(vs: LiveVirtualServer[]): LiveVirtualServer[] {
  for (const v of vs) sortServers(v.realServers);
  const keyed = vs.map(serviceSortKey);
  // already in order (our own artifacts): nothing to sort; fwmark services: the full comparator
  let ordered = true;
  for (let i = 1; i < keyed.length && ordered; i++) {
    const [a, b] = [keyed[i - 1]!, keyed[i]!];
    ordered = a.v.fwmark === undefined && b.v.fwmark === undefined && (a.k < b.k || (a.k === b.k && a.n <= b.n));
  }
  if (ordered) return vs;
  keyed.sort(({ v: a, k: ka, n: na }, { v: b, k: kb, n: nb }) => {
    if ((a.fwmark !== undefined) !== (b.fwmark !== undefined)) return a.fwmark !== undefined ? 1 : -1;
    if (a.fwmark !== undefined && b.fwmark !== undefined) return a.fwmark - b.fwmark || a.address.localeCompare(b.address);
    return (ka < kb ? -1 : ka > kb ? 1 : 0) || na - nb;
  });
  keyed.forEach((x, i) => (vs[i] = x.v));
  return vs;
}

function serviceSortKey(v: LiveVirtualServer): { v: LiveVirtualServer; k: string; n: number } {
  if (v.fwmark !== undefined) return { v, k: '', n: 0 };
  const tail = v.port * 4 + PROTO_RANK[v.protocol];
  const v4 = canonicalV4(v.address);
  if (v4 >= 0) return { v, k: '4', n: v4 * 262144 + tail };
  const k = addrKey(v.address);
  return k.startsWith('4') ? { v, k: '4', n: parseInt(k.slice(1), 16) * 262144 + tail } : { v, k, n: tail };
}

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
  const p = new SaveParser(text);
  for (let pos = 0; pos <= text.length; pos = p.end + 1) {
    p.start = pos;
    p.end = text.indexOf('\n', pos);
    if (p.end < 0) p.end = text.length;
    p.lineNo++;
    const prefix = p.lastPrefix;
    if (prefix !== '' && text.startsWith(prefix, pos)) p.realServerOf(p.lastVs!, pos + prefix.length);
    else if (!p.serviceLine()) p.line();
  }
  return sortServices([...p.byKey.values()]);
}

/** The key of a service in SaveParser.byKey: how ipvsadm -S writes it, `-t 10.96.0.20:6379` (fwmark services: vsKey). */
const serviceKey = (protocol: LiveProtocol, hp: HostPort): string => `${IPVSADM_SWITCH[protocol]} ${rsKey(hp)}`;

const OP_ADD_VS = 65; // -A
const OP_ADD_RS = 97; // -a
// Above any char code, so that no `-x` token maps to them.
const SCTP = 0x10001;
const PE = 0x10002;
const SKIP_1 = 0x10003;
const SKIP_0 = 0x10004;
/** Long options of `ipvsadm -S` lines → the letter of their short form, or a code of their own. */
const LONG_OPTS = new Map<string, number>([
  ['--tcp-service', 116], ['--udp-service', 117], ['--sctp-service', SCTP], ['--fwmark-service', 102],
  ['--masquerading', 109], ['--gatewaying', 103], ['--ipip', 105], ['--real-server', 114],
  ['--weight', 119], ['--scheduler', 115], ['--persistent', 112], ['--ipv6', 54], ['--netmask', 77],
  ['--sched-flags', 98], ['--pe', PE], ['--ops', 111], ['--u-threshold', 120], ['--l-threshold', 121],
  ['--tun-type', SKIP_1], ['--tun-port', SKIP_1], ['--tun-nocsum', SKIP_0], ['--tun-csum', SKIP_0], ['--tun-remcsum', SKIP_0],
]);

/**
 * parseIpvsadmSave's state: the current line (`text.slice(start, end)`) as token bounds (77k
 * lines: no string per option token, no closure per line), its options, and the last -A.
 */
class SaveParser {
  readonly byKey = new Map<string, LiveVirtualServer>();
  lineNo = 0;
  start = 0;
  end = 0;
  /** `-a -t 10.96.0.20:6379 `: how the -a lines of the last -A service begin (they follow it). */
  lastPrefix = '';
  lastVs: LiveVirtualServer | undefined;
  private readonly ts: number[] = [];
  private readonly te: number[] = [];
  private n = 0;
  // the options of the line
  private protocol: LiveProtocol = 'TCP';
  private svc = -1; // token index of the service address
  private addr: HostPort | null = null;
  private fwmark: number | undefined;
  private v6 = false;
  private scheduler = '';
  private flags: string[] = [];
  private timeout = 0;
  private netmask: string | undefined;
  private rs: HostPort | null = null;
  private method: ForwardMethod | undefined;
  private weight: number | undefined;
  private upper = 0;
  private lower = 0;

  constructor(private readonly text: string) {}

  private fail(why: string): never {
    throw new StateParseError(TOOL, this.lineNo, this.text.slice(this.start, this.end), why);
  }

  private tok(k: number): string {
    return this.text.slice(this.ts[k], this.te[k]);
  }

  /** The token index of the value of option k; fails when there is none. */
  private valueAt(k: number): number {
    return k + 1 < this.n ? k + 1 : this.fail(`missing value after ${this.tok(k)}`);
  }

  private numAt(k: number, what: string): number {
    const v = this.valueAt(k);
    const x = uintAt(this.text, this.ts[v]!, this.te[v]!);
    return x >= 0 ? x : this.fail(`bad ${what}`);
  }

  /** An `-a` line of `vs` from its first option (at `from`), its service already read. */
  realServerOf(vs: LiveVirtualServer, from: number): void {
    const { text, end } = this;
    if (text.startsWith('-r ', from)) {
      // what ipvsadm -S prints: `-r RS -m -w N` (read as options() would)
      const sp = text.indexOf(' ', from + 3);
      const w = sp > 0 && sp < end && text.startsWith(' -m -w ', sp) ? uintAt(text, sp + 7, end) : -1;
      const hp = w >= 0 ? parseHostPort(text, from + 3, sp) : null;
      if (hp) {
        vs.realServers.push({ address: hp.address, port: hp.port, weight: w, method: 'masq' });
        return;
      }
    }
    this.n = wsBounds(text, from, end, this.ts, this.te);
    this.options(0, vs.protocol, 0);
    if (this.fwmark !== undefined || this.addr !== null) this.finish(OP_ADD_RS); // another service after all
    else this.addRealServer(vs);
  }

  /**
   * What ipvsadm -S prints for most services, `-A -t|-u|--sctp-service SVC -s SCHED`, read
   * without tokenising (as line() would read it); false for any other line.
   */
  serviceLine(): boolean {
    const { text, start, end } = this;
    if (!text.startsWith('-A ', start)) return false;
    const sw = start + 3;
    const protocol: LiveProtocol | null = text.startsWith('-t ', sw) ? 'TCP' : text.startsWith('-u ', sw) ? 'UDP' : text.startsWith('--sctp-service ', sw) ? 'SCTP' : null;
    if (protocol === null) return false;
    const svc = text.indexOf(' ', sw) + 1;
    const sp = text.indexOf(' ', svc);
    if (sp < 0 || sp >= end || !text.startsWith(' -s ', sp) || sp + 4 === end) return false;
    for (let i = sp + 4; i < end; i++) if (isWs(text.charCodeAt(i))) return false;
    const hp = parseHostPort(text, svc, sp);
    if (!hp) return false;
    // the key as written (`-t 10.96.0.20:6379`, one slice) when that is serviceKey's text
    const key = hostPortWasCanonical && sp - sw === IPVSADM_SWITCH[protocol].length + 1 + sp - svc ? text.slice(sw, sp) : serviceKey(protocol, hp);
    this.addService(key, {
      protocol, address: hp.address, port: hp.port, scheduler: text.slice(sp + 4, end), flags: [], timeout: 0, realServers: [],
    }, `-a ${text.slice(sw, sp)} `);
    return true;
  }

  line(): void {
    const { text, ts, te } = this;
    this.n = wsBounds(text, this.start, this.end, ts, te);
    if (this.n === 0) return;
    const c0 = text.charCodeAt(ts[0]!);
    if (c0 === 35 || text.startsWith('--set', ts[0])) return; // '#'
    const op = te[0]! - ts[0]! === 2 && c0 === 45 ? text.charCodeAt(ts[0]! + 1) : 0;
    if (op !== OP_ADD_VS && op !== OP_ADD_RS) this.fail('expected -A or -a');
    this.options(1, 'TCP', -1);
    this.finish(op);
  }

  /** Reads the options from token k0 on. */
  private options(k0: number, protocol: LiveProtocol, svc: number): void {
    const { text, ts, te, n } = this;
    this.protocol = protocol;
    this.svc = svc;
    this.addr = null;
    this.fwmark = undefined;
    this.v6 = false;
    this.scheduler = '';
    this.flags = [];
    this.timeout = 0;
    this.netmask = undefined;
    this.rs = null;
    this.method = undefined;
    this.weight = undefined;
    this.upper = 0;
    this.lower = 0;
    for (let k = k0; k < n; k++) {
      const st = ts[k]!;
      // `-x` options by their letter; long ones mapped to the same letter (or a code of their own)
      const opt = te[k]! - st === 2 && text.charCodeAt(st) === 45 ? text.charCodeAt(st + 1) : LONG_OPTS.get(this.tok(k)) ?? 0;
      switch (opt) {
        case 116: case 117: case SCTP: { // -t -u --sctp-service
          this.protocol = opt === 116 ? 'TCP' : opt === 117 ? 'UDP' : 'SCTP';
          const v = (this.svc = this.valueAt(k++));
          this.addr = parseHostPort(text, ts[v], te[v]) ?? this.fail('bad service address (numeric output needed: -n)');
          break;
        }
        case 109: this.method = 'masq'; break; // -m
        case 103: this.method = 'route'; break; // -g
        case 105: this.method = 'tunnel'; break; // -i
        case 114: { // -r
          const v = this.valueAt(k++);
          this.rs = parseHostPort(text, ts[v], te[v]) ?? this.fail('bad real server address (numeric output needed: -n)');
          break;
        }
        case 119: this.weight = this.numAt(k++, 'weight'); break; // -w
        case 115: this.scheduler = this.tok(this.valueAt(k++)); break; // -s
        case 112: this.timeout = this.numAt(k++, 'persistence timeout'); break; // -p
        case 102: this.fwmark = this.numAt(k++, 'fwmark'); break; // -f
        case 54: this.v6 = true; break; // -6
        case 77: this.netmask = this.tok(this.valueAt(k++)); break; // -M
        case 98: this.flags.push(...this.tok(this.valueAt(k++)).split(',')); break; // -b
        case PE: this.flags.push(`pe:${this.tok(this.valueAt(k++))}`); break;
        case 111: this.flags.push('ops'); break; // -o
        case 120: this.upper = this.numAt(k++, 'upper threshold'); break; // -x
        case 121: this.lower = this.numAt(k++, 'lower threshold'); break; // -y
        case SKIP_1: k++; break; // --tun-type, --tun-port: tunnel encapsulation details
        case SKIP_0: break; // --tun-nocsum, --tun-csum, --tun-remcsum
        default: this.fail(`unknown option ${this.tok(k)}`);
      }
    }
  }

  /** The line's service or real server, from its options. */
  private finish(op: number): void {
    const { fwmark, v6, addr, protocol } = this;
    if (addr === null && fwmark === undefined) this.fail('no service (-t/-u/--sctp-service/-f)');
    const key = fwmark !== undefined ? vsKey({ protocol: 'TCP', address: v6 ? '::' : '', port: 0, fwmark }) : serviceKey(protocol, addr!);
    if (op === OP_ADD_RS) {
      this.addRealServer(this.byKey.get(key) ?? this.fail('real server before its virtual service'));
      return;
    }
    const { scheduler, netmask } = this;
    const vs: LiveVirtualServer = {
      protocol,
      address: fwmark !== undefined ? (v6 ? '::' : '') : addr!.address,
      port: fwmark !== undefined ? 0 : addr!.port,
      scheduler,
      flags: finishFlags(this.flags, scheduler),
      timeout: this.timeout,
      realServers: [],
    };
    if (netmask !== undefined && netmask !== '255.255.255.255' && netmask !== '128') vs.netmask = netmask;
    if (fwmark !== undefined) vs.fwmark = fwmark;
    // `-A -t SVC …` → `-a -t SVC `
    this.addService(key, vs, fwmark !== undefined ? null : this.svc === 2 ? `-a ${this.tok(1)} ${this.tok(2)} ` : '');
  }

  /** A service of an -A line; `prefix`: how its -a lines begin ('' unknown, null: not recorded). */
  private addService(key: string, vs: LiveVirtualServer, prefix: string | null): void {
    const { byKey } = this;
    const size = byKey.size;
    // (set first: one lookup; on a duplicate the parse fails, the map with it)
    if (byKey.set(key, vs).size === size) this.fail('duplicate virtual service');
    if (!vs.scheduler) this.fail('no scheduler (-s)');
    if (prefix === null) return;
    this.lastVs = vs;
    this.lastPrefix = prefix;
  }

  private addRealServer(vs: LiveVirtualServer): void {
    const rs = this.rs ?? this.fail('no real server (-r)');
    const r: LiveRealServer = { address: rs.address, port: rs.port, weight: this.weight ?? 1, method: this.method ?? 'route' };
    if (this.upper) r.upperThreshold = this.upper;
    if (this.lower) r.lowerThreshold = this.lower;
    vs.realServers.push(r);
  }
}

/**
 * What parseIpvsadmSave reads back from the ipvsadm.restore that render writes for these
 * services (`-A … -s S [-b F] [-p T]`, `-a … -r RS -m -w W`), built without the text: the
 * same canonical values, flags and order. Null when a value would not read back as itself (an
 * address parseIp does not accept, a token with blanks, a fractional number, a duplicate
 * service): then parse the text, which reports it.
 */
export function servicesFromModel(vss: readonly VirtualServer[]): LiveVirtualServer[] | null {
  const out: LiveVirtualServer[] = [];
  // While every address is canonical text (its own parseHostPort address), the model's Ip keys
  // are the keys sortServices would compute: its order is checked without parsing anything.
  let ordered = true;
  for (let i = 0; i < vss.length; i++) {
    const v = vss[i]!;
    const canonical = isCanonicalText(v.address.text);
    const address = canonical ? v.address.text : addressText(v.address.text);
    if (address === null || !isPort(v.port) || !isToken(v.scheduler) || !v.flags.every(isToken) || !Number.isSafeInteger(v.timeout)) return null;
    ordered &&= canonical && (i === 0 || compareModelServices(vss[i - 1]!, v) < 0);
    const realServers: LiveRealServer[] = [];
    let rsOrdered = true;
    for (let j = 0; j < v.realServers.length; j++) {
      const r = v.realServers[j]!;
      const rCanonical = isCanonicalText(r.address.text);
      const a = rCanonical ? r.address.text : addressText(r.address.text);
      if (a === null || !isPort(r.port) || !Number.isSafeInteger(r.weight) || r.weight < 0) return null;
      rsOrdered &&= rCanonical && (j === 0 || compareModelServers(v.realServers[j - 1]!, r) <= 0);
      realServers.push({ address: a, port: r.port, weight: r.weight, method: 'masq' });
    }
    out.push({
      protocol: v.protocol,
      address,
      port: v.port,
      scheduler: v.scheduler,
      flags: v.flags.length ? finishFlags(v.flags.join(',').split(','), v.scheduler) : [],
      timeout: v.timeout > 0 ? v.timeout : 0,
      realServers: rsOrdered ? realServers : sortServers(realServers),
    });
  }
  if (ordered) return out; // strictly ascending: in sortServices' order, no duplicate
  sortServices(out);
  for (let i = 1; i < out.length; i++) {
    const [a, b] = [out[i - 1]!, out[i]!];
    if (a.protocol === b.protocol && a.address === b.address && a.port === b.port) return null; // ipvsadm: duplicate
  }
  return out;
}

/** sortServices' order of two model services with canonical address text (see servicesFromModel). */
function compareModelServices(a: VirtualServer, b: VirtualServer): number {
  const ka = a.address.key;
  const kb = b.address.key;
  return (ka < kb ? -1 : ka > kb ? 1 : 0) || a.port - b.port || PROTO_RANK[a.protocol] - PROTO_RANK[b.protocol];
}

/** sortServers' order of two model real servers with canonical address text. */
function compareModelServers(a: VirtualServer['realServers'][number], b: VirtualServer['realServers'][number]): number {
  const ka = a.address.key;
  const kb = b.address.key;
  return (ka < kb ? -1 : ka > kb ? 1 : 0) || a.port - b.port;
}

/** Address text parseHostPort keeps as it is (then parseIp(text).key is the model's key too). */
const isCanonicalText = (text: string): boolean => isCanonicalV4(text) || isCanonicalV6(text);

/** parseHostPort's address for this text (written `[text]:port` when it has a colon). */
function addressText(text: string): string | null {
  return isCanonicalText(text) ? text : parseIp(text)?.text ?? null;
}

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;
/** One non-empty token of a save line. */
const isToken = (s: string): boolean => s !== '' && !/[\s"]/.test(s);

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
  /** --persistent-conn's PersistConn column, per real server (for `conns`). */
  const persistent = new Map<LiveRealServer, number>();
  let persistentConn = false;
  let current: LiveVirtualServer | null = null;
  const starts: number[] = [];
  const ends: number[] = [];
  const num = (k: number): number => uintAt(text, starts[k]!, ends[k]!);
  // Lines by index, not split: a 10k-Service node prints ~160k lines, most of them real servers,
  // which are read in place (token bounds); the rare service and header lines as strings.
  let from = 0;
  let eol = 0;
  let lineNo = 0;
  const fail = (why: string): never => { throw new StateParseError(TOOL, lineNo, text.slice(from, eol), why); };
  for (let pos = 0; pos < text.length; ) {
    eol = text.indexOf('\n', pos);
    if (eol < 0) eol = text.length;
    from = pos;
    pos = eol + 1;
    lineNo++;
    const n = wsBounds(text, from, eol, starts, ends);
    if (n === 0) continue;
    if (isWord(text, starts[0]!, ends[0]!, '->') && !(n > 1 && text.startsWith('RemoteAddress:Port', starts[1]))) {
      if (!current) fail('real server before any service');
      const hp = (n > 1 ? parseHostPort(text, starts[1], ends[1]) : null) ?? fail('bad real server address (numeric output needed: -n)');
      let r: LiveRealServer;
      if (persistentConn) {
        const [weight, persist, active, inactive] = [num(2), num(3), num(4), num(5)];
        if (n < 6 || weight < 0 || persist < 0 || active < 0 || inactive < 0) fail('bad counters');
        r = { address: hp.address, port: hp.port, weight, method: 'masq', activeConns: active, inactiveConns: inactive };
        persistent.set(r, persist);
      } else {
        const method = (n > 2 ? listMethod(text.slice(starts[2], ends[2])) : undefined) ?? fail(`unknown forwarding method ${n > 2 ? text.slice(starts[2], ends[2]) : ''}`);
        const [weight, active, inactive] = [num(3), num(4), num(5)];
        if (n < 6 || weight < 0 || active < 0 || inactive < 0) fail('bad counters');
        r = { address: hp.address, port: hp.port, weight, method, activeConns: active, inactiveConns: inactive };
      }
      current!.realServers.push(r);
      continue;
    }
    const line = text.slice(starts[0], ends[n - 1]);
    if (line.startsWith('IP Virtual Server version')) continue;
    if (line.startsWith('Prot LocalAddress:Port')) {
      if (/\b(Conns|CPS)\b/.test(line)) fail('statistics table: use parseIpvsadmStats');
      if (/\bPersistConn\b/.test(line)) persistentConn = true;
      continue;
    }
    if (line.startsWith('->') && n > 1 && text.startsWith('RemoteAddress:Port', starts[1])) {
      if (/\bPersistConn\b/.test(line)) persistentConn = true;
      continue;
    }
    current = parseListService(line.split(/\s+/), fail);
    services.push(current);
  }
  sortServices(services);
  let conns: Map<string, ConnCounts> | undefined;
  return {
    services,
    // Built on first use: each real server carries its counters already (what a plan reads).
    get conns(): Map<string, ConnCounts> {
      if (!conns) {
        conns = new Map();
        for (const v of services) {
          for (const r of v.realServers) {
            const p = persistent.get(r);
            conns.set(connKey(v, r), { active: r.activeConns ?? 0, inactive: r.inactiveConns ?? 0, ...(p !== undefined ? { persistent: p } : {}) });
          }
        }
      }
      return conns;
    },
  };
}

/** The Forward column (`Masq`, `Route`, `Local`, `Tunnel`) → method. */
const listMethod = (word: string): ForwardMethod | undefined => {
  const w = word.toLowerCase();
  return Object.hasOwn(LIST_METHOD, w) ? LIST_METHOD[w] : undefined;
};

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
