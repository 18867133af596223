/**
 * `/proc/net/ip_vs` → the `ipvsadm -Sn` text of the same table. Pure: the text is passed in.
 *
 * Why: `ipvsadm -Ln` asks the kernel for the real servers of each virtual service in its own
 * netlink request, so dumping 40k services (a 10k-Service node) takes tens of seconds on a slow
 * node; the kernel prints the whole table into `/proc/net/ip_vs` in one read (ip_vs_ctl.c,
 * ip_vs_info_seq_show). apply's read-back of a large change uses it (plan/scope.ts).
 *
 * What the file does not show, and so what a read through it cannot see:
 * - scheduler flags (`-b`: `mh-port`, `sh-fallback`, `flag-N`) and persistence engines (`--pe`):
 *   a read-back uses this file only when no desired service has flags;
 * - the `ops` flag of IPv6 services (the kernel prints it for IPv4 only), real-server thresholds
 *   (`-x`/`-y`, which ipvsc never sets nor compares), and the family of fwmark services: one mark
 *   may serve both families (dual-stack keepalived), which would read as one service twice, so
 *   fwmark services and their real servers are left out (ipvsc never touches them);
 * - the persistence timeout in seconds: it is printed in jiffies, so the caller passes the
 *   kernel's HZ (read-state.ts learns it from one `ipvsadm -Ln -t` of a persistent service).
 *
 * Real sample (Debian 12, kernel 6.1, HZ 250; test/fixtures/tool-output/ipvsadm/proc-net-ip_vs.txt):
 * ```
 * IP Virtual Server version 1.2.1 (size=4096)
 * Prot LocalAddress:Port Scheduler Flags
 *   -> RemoteAddress:Port Forward Weight ActiveConn InActConn
 * SCTP  [2001:0db8:0000:0000:0000:0000:0001:0001]:0BB9 mh
 * TCP  C0A8000A:7580 wrr  persistent 15000 FFFFFFFF
 *   -> 0AB40001:0050      Masq    1      0          0
 * UDP  [2020:0000:0000:0000:0000:0000:0000:0001]:0035 rr persistent 2700000 80000000
 *   -> [1002:0ab8:0000:0000:0000:0000:0002:0010]:0035      Masq    1      0          0
 * TCP  0A141E29:0050 rr
 *   -> 0AB40002:1F90      Masq    0      0          0
 *   -> 0AB40001:0050      Masq    1      3          1
 * ```
 * Services come in hash order; the save parser sorts them.
 */
import { parseIp } from '../model/net.js';
import { IPVSADM_SWITCH, StateParseError } from './types.js';
import { isDigits, isWord, wsBounds } from './scan.js';

const TOOL = '/proc/net/ip_vs';

/** CONFIG_HZ values Linux builds use across architectures (a ratio outside them is not trusted). */
export const KERNEL_HZ = [24, 32, 48, 64, 100, 128, 200, 250, 256, 300, 500, 1000, 1024, 1200] as const;

const SWITCH: Readonly<Record<string, string | undefined>> = IPVSADM_SWITCH;
/** ip_vs_fwd_name() → the ipvsadm -Sn switch (Local is printed by ipvsadm as route). */
const METHOD: Record<string, string> = { Masq: '-m', Route: '-g', Local: '-g', Tunnel: '-i' };

const HEX8 = /^[0-9A-F]{8}$/;
const HEX4 = /^[0-9A-F]{4}$/;

/** `0A141E29` → `10.20.30.41`; `[2020:0000:…:0001]` → `[2020::1]`; with `:PORT` in hex. */
function hostPort(tok: string, fail: (why: string) => never): { host: string; port: number; v6: boolean } {
  const colon = tok.lastIndexOf(':');
  const portHex = tok.slice(colon + 1);
  if (colon < 0 || !HEX4.test(portHex)) fail(`bad address ${tok}`);
  const port = parseInt(portHex, 16);
  const addr = tok.slice(0, colon);
  if (addr.startsWith('[') && addr.endsWith(']')) {
    const ip = parseIp(addr.slice(1, -1));
    if (!ip || ip.family !== 'IPv6') fail(`bad IPv6 address ${addr}`);
    return { host: `[${ip.text}]`, port, v6: true };
  }
  if (!HEX8.test(addr)) fail(`bad IPv4 address ${addr}`);
  const n = parseInt(addr, 16);
  return { host: `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, port, v6: false };
}

/** The netmask column: an IPv4 mask (`FFFFFF00`), or an IPv6 prefix length stored as a __be32. */
function netmaskOf(hex: string, v6: boolean, fail: (why: string) => never): string | undefined {
  if (!HEX8.test(hex)) fail(`bad netmask ${hex}`);
  const n = parseInt(hex, 16);
  if (v6) {
    // printed through ntohl(): on a little-endian host the prefix length reads byte-swapped
    const plen = n <= 128 ? n : ((n >>> 24) | ((n >>> 8) & 0xff00)) >>> 0;
    if (plen > 128) fail(`bad IPv6 netmask ${hex}`);
    return plen === 128 ? undefined : String(plen);
  }
  return n === 0xffffffff ? undefined : `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The first persistent service (for learning HZ): its `ipvsadm` switch, `VIP:PORT` and jiffies. */
export function firstPersistentService(text: string): { switch: string; service: string; jiffies: number } | undefined {
  // Found with indexOf, not by splitting the table (procIpVsToSave reads it whole afterwards).
  for (let at = text.indexOf(' persistent '); at >= 0; at = text.indexOf(' persistent ', at + 1)) {
    const line = text.slice(text.lastIndexOf('\n', at) + 1, (text.indexOf('\n', at) + 1 || text.length + 1) - 1);
    const t = line.trim().split(/\s+/);
    const p = t.indexOf('persistent');
    if (p < 0 || t[0] === 'FWM' || !SWITCH[t[0]!]) continue;
    const hp = hostPort(t[1]!, (why) => { throw new StateParseError(TOOL, 0, line, why); });
    return { switch: SWITCH[t[0]!]!, service: `${hp.host}:${hp.port}`, jiffies: Number(t[p + 1]) };
  }
  return undefined;
}

/**
 * The table's TCP/UDP/SCTP services as `ipvsadm -Sn` would print them (minus what the file does
 * not show, above; fwmark services left out).
 * `hz` is needed when a service is persistent; a timeout that is not a whole number of seconds at
 * that HZ is printed rounded down, as the kernel reports it to ipvsadm.
 *
 * Lines are read in place (a 10k-Service node prints ~77k, read back at the end of a full apply):
 * services and real servers in the kernel's layout by token bounds (fastLine), every other line
 * (headers, fwmark, IPv6 netmasks, anything unexpected, which then fails as it always did) as
 * text, by slowLine.
 */
export function procIpVsToSave(text: string, hz: number | undefined): string {
  // Joined every 1024 lines: the line strings then die young (77k of them would all live until one join).
  const pieces: string[] = [];
  const out: string[] = [];
  const r: Reader = { text, ts: [], te: [], svc: '', rsStart: '' };
  let lineNo = 0;
  // as text.split('\n'): a last, empty line after a final newline
  for (let pos = 0; pos <= text.length; ) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = text.length;
    lineNo++;
    const line = fastLine(r, pos, eol, hz);
    if (line !== null) out.push(line);
    else slowLine(r, text.slice(pos, eol), lineNo, hz, out);
    if (out.length >= 1024) {
      pieces.push(out.join('\n') + '\n');
      out.length = 0;
    }
    pos = eol + 1;
  }
  if (out.length) pieces.push(out.join('\n') + '\n');
  return pieces.join('');
}

/** procIpVsToSave's state: the text, the token bounds of the line, the current service. */
interface Reader {
  readonly text: string;
  readonly ts: number[];
  readonly te: number[];
  /** `-t 10.0.0.1:80` of the current service; `-` for a fwmark service (left out); '' before any. */
  svc: string;
  /** `-a -t 10.0.0.1:80 -r `: how its real servers' lines begin. */
  rsStart: string;
}

/**
 * The save line of a real server or service as the kernel prints it (`  -> 0AB40001:0050 Masq 1
 * 0 0`; `TCP  0A141E29:0050 rr [persistent J FFFFFFFF]`), exactly as slowLine would write it;
 * null for any other line (slowLine reads it, or fails on it).
 */
function fastLine(r: Reader, start: number, end: number, hz: number | undefined): string | null {
  const { text, ts, te } = r;
  const n = wsBounds(text, start, end, ts, te);
  if (n < 2) return null;
  const hp = hostPortAt(text, ts[1]!, te[1]!);
  if (hp === null) return null;
  if (isWord(text, ts[0]!, te[0]!, '->')) {
    if (r.svc === '' || r.svc === '-' || n < 4) return null;
    const method = methodAt(text, ts[2]!, te[2]!);
    if (method === undefined || !isDigits(text, ts[3], te[3])) return null;
    return `${r.rsStart}${hp} ${method} -w ${text.slice(ts[3], te[3])}`;
  }
  const sw = switchAt(text, ts[0]!, te[0]!);
  if (sw === undefined || n < 3) return null;
  let opts = '';
  // (an IPv6 service's netmask is a prefix length: slowLine)
  if (n === 6 && text.charCodeAt(ts[1]!) !== 91 && isWord(text, ts[3]!, te[3]!, 'persistent') && hz !== undefined && isDigits(text, ts[4], te[4]) && te[5]! - ts[5]! === 8) {
    const mask = hex(text, ts[5]!, te[5]!);
    if (mask < 0) return null;
    opts = ` -p ${Math.floor(Number(text.slice(ts[4], te[4])) / hz)}${mask === 0xffffffff ? '' : ` -M ${dotted(mask)}`}`;
  } else if (n !== 3) return null;
  r.svc = `${sw} ${hp}`;
  r.rsStart = `-a ${r.svc} -r `;
  return `-A ${r.svc} -s ${text.slice(ts[2], te[2])}${opts}`;
}

/**
 * `0A141E29:0050` → `10.20.30.41:80`, `[2020:0000:…:0001]:0050` → `[2020::1]:80`, as hostPort()
 * writes them (`${host}:${port}`); null when not that shape (then hostPort decides).
 */
function hostPortAt(s: string, start: number, end: number): string | null {
  if (end - start < 6 || s.charCodeAt(end - 5) !== 58) return null; // ':'
  const port = hex(s, end - 4, end);
  if (port < 0) return null;
  if (s.charCodeAt(start) === 91 && s.charCodeAt(end - 6) === 93) { // '[' ']'
    const ip = parseIp(s.slice(start + 1, end - 6)); // (memoised: real servers repeat)
    return ip && ip.family === 'IPv6' ? `[${ip.text}]:${port}` : null;
  }
  const v4 = end - start === 13 ? hex(s, start, start + 8) : -1;
  return v4 < 0 ? null : `${dotted(v4)}:${port}`;
}

/** The kernel's forwarding names (METHOD) and protocols (SWITCH), matched in place. */
function methodAt(s: string, start: number, end: number): string | undefined {
  for (const name in METHOD) if (isWord(s, start, end, name)) return METHOD[name];
  return undefined;
}

function switchAt(s: string, start: number, end: number): string | undefined {
  for (const name in IPVSADM_SWITCH) if (isWord(s, start, end, name)) return SWITCH[name];
  return undefined;
}

/** Upper-case hex digits (HEX8, HEX4) → their value; -1 when another char is there. */
function hex(s: string, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

const dotted = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** One line, read as text (what fastLine does not read): a header, IPv6, fwmark, or a failure. */
function slowLine(r: Reader, raw: string, lineNo: number, hz: number | undefined, out: string[]): void {
  const fail = (why: string): never => { throw new StateParseError(TOOL, lineNo, raw, why); };
  const line = raw.trim();
  if (line === '' || line.startsWith('IP Virtual Server version') || line.startsWith('Prot ') || line.startsWith('-> RemoteAddress')) return;
  const t = line.split(/\s+/);
  if (t[0] === '->') {
    if (r.svc === '') fail('real server before any service');
    if (r.svc === '-') return;
    const hp = hostPort(t[1] ?? '', fail);
    const method = METHOD[t[2] ?? ''] ?? fail(`unknown forwarding method ${t[2]}`);
    const weight = t[3] ?? '';
    if (!/^\d+$/.test(weight)) fail('bad weight');
    out.push(`-a ${r.svc} -r ${hp.host}:${hp.port} ${method} -w ${weight}`);
    return;
  }
  if (t[0] === 'FWM') {
    if (!HEX8.test(t[1] ?? '')) fail(`bad fwmark ${t[1]}`);
    r.svc = '-';
    return;
  }
  let k = 1;
  const sw = SWITCH[t[0]!] ?? fail(`unknown protocol ${t[0]}`);
  const hp = hostPort(t[k++] ?? '', fail);
  const v6 = hp.v6;
  r.svc = `${sw} ${hp.host}:${hp.port}`;
  r.rsStart = `-a ${r.svc} -r `;
  const sched = t[k++] ?? fail('no scheduler');
  let opts = '';
  for (; k < t.length; k++) {
    if (t[k] === 'ops') opts += ' -o';
    else if (t[k] === 'persistent') {
      const jiffies = t[++k] ?? '';
      if (!/^\d+$/.test(jiffies)) fail('bad persistence timeout');
      if (hz === undefined) fail('a persistent service, but the kernel HZ is unknown');
      opts += ` -p ${Math.floor(Number(jiffies) / hz!)}`;
      const mask = netmaskOf(t[++k] ?? '', v6, fail);
      if (mask !== undefined) opts += ` -M ${mask}`;
    } else fail(`unknown service attribute ${t[k]}`);
  }
  out.push(`-A ${r.svc} -s ${sched}${opts}`);
}
