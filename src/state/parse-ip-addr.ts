/**
 * Parsers of iproute2's address listing: `ip -o addr show [dev IFACE]` (one line per address) and
 * `ip -j addr show [dev IFACE]` (JSON). Pure: the text is passed in.
 */
import { parseIp } from '../model/net.js';
import type { Family } from '../model/net.js';
import { StateParseError } from './types.js';
import { isCanonicalV4, isCanonicalV6, isDigits, isWord, isWs, wsBounds } from './scan.js';

export interface IfaceAddress {
  iface: string;
  /** Canonical IP text. */
  ip: string;
  prefix: number;
  family: Family;
  /** `host`, `link`, `global`, … when printed. */
  scope?: string;
}

function makeAddr(iface: string, addr: string, prefixText: string | undefined, scope: string | undefined): IfaceAddress | null {
  const v6 = addr.includes(':');
  // canonical text (the common case) is its own canonical text, without parseIp
  const text = (v6 ? isCanonicalV6(addr) : isCanonicalV4(addr)) ? addr : canonicalText(addr, v6);
  if (text === null) return null;
  const max = v6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  const out: IfaceAddress = { iface, ip: text, prefix, family: v6 ? 'IPv6' : 'IPv4' };
  if (scope !== undefined) out.scope = scope;
  return out;
}

/** parseIp's text, except that an IPv4-mapped address written as IPv6 stays IPv6 text. */
function canonicalText(addr: string, v6: boolean): string | null {
  const ip = parseIp(addr);
  if (!ip) return null;
  return v6 && ip.family === 'IPv4' ? addr.toLowerCase() : ip.text;
}

/**
 * `ip -o addr show` (all interfaces, or `dev X`) → one entry per inet/inet6 address, in the
 * order listed. The `@peer` suffix of an interface name is dropped; with `peer ADDR/N` the
 * local address is the one after `inet` and the prefix comes from the peer.
 *
 * Real sample (`ip -o addr`, iproute2 6.1; `\` is literal, ip's continuation marker):
 * ```
 * 1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
 * 1: lo    inet6 ::1/128 scope host \       valid_lft forever preferred_lft forever
 * 2: eth0    inet 192.168.0.10/24 scope global eth0\       valid_lft forever preferred_lft forever
 * 2: eth0    inet6 fe80::8b0:2aff:fe21:4e79/64 scope link \       valid_lft forever preferred_lft forever
 * 5: kube-ipvs0    inet 10.20.30.41/32 scope global kube-ipvs0\       valid_lft forever preferred_lft forever
 * 5: kube-ipvs0    inet6 2020::1/128 scope global \       valid_lft forever preferred_lft forever
 * ```
 */
export function parseIpAddrOneline(text: string): IfaceAddress[] {
  const out: IfaceAddress[] = [];
  // the current line as token bounds (no closure or array per line: 12k lines on a 10k node)
  const ts: number[] = [];
  const te: number[] = [];
  let n = 0;
  let lineNo = 0;
  let from = 0;
  let to = 0;
  const fail = (why: string): never => { throw new StateParseError('ip -o addr', lineNo, text.slice(from, to), why); };
  const tok = (k: number): string | undefined => (k < n ? text.slice(ts[k], te[k]) : undefined);
  const find = (word: string): number => {
    for (let k = 0; k < n; k++) if (isWord(text, ts[k]!, te[k]!, word)) return k;
    return -1;
  };
  for (let pos = 0; pos <= text.length; pos = to + 1) {
    from = pos;
    to = text.indexOf('\n', pos);
    if (to < 0) to = text.length;
    lineNo++;
    // line.trim().replace(/\\/g, ' ').split(/\s+/): a backslash at either end makes an empty token there
    let start = from;
    let end = to;
    while (start < end && isWs(text.charCodeAt(start))) start++;
    while (end > start && isWs(text.charCodeAt(end - 1))) end--;
    if (start === end) continue;
    n = wsBounds(text, start, end, ts, te, BACKSLASH);
    if (text.charCodeAt(start) === BACKSLASH) { ts.splice(0, 0, start); te.splice(0, 0, start); n++; }
    if (text.charCodeAt(end - 1) === BACKSLASH) { ts[n] = end; te[n++] = end; }
    if (!(n > 0 && te[0]! - ts[0]! > 1 && text.charCodeAt(te[0]! - 1) === 58 && isDigits(text, ts[0], te[0]! - 1))) fail('expected "N: IFACE …"');
    let iface = tok(1) ?? fail('missing interface');
    if (iface.endsWith(':') || iface.includes('@')) iface = iface.replace(/:$/, '').replace(/@.*$/, '');
    // `link/ether …` lines of `ip -o link`-style output are not addresses
    if (n < 3 || !(isWord(text, ts[2]!, te[2]!, 'inet') || isWord(text, ts[2]!, te[2]!, 'inet6'))) continue;
    const local = tok(3) ?? fail('missing address');
    const slash = local.indexOf('/');
    const addr = slash < 0 ? local : local.slice(0, slash);
    const ownPfx = slash < 0 ? undefined : local.slice(slash + 1, nextSlash(local, slash + 1));
    const peerAt = ownPfx === undefined ? find('peer') : -1;
    const pfx = ownPfx ?? (peerAt > 0 ? tok(peerAt + 1)?.split('/')[1] : undefined);
    const scopeAt = find('scope');
    out.push(makeAddr(iface, addr, pfx, scopeAt > 0 ? tok(scopeAt + 1) : undefined) ?? fail(`bad address ${local}`));
  }
  return out;
}

/** The end of the `/`-separated part that starts at `from` (split('/') semantics). */
function nextSlash(s: string, from: number): number {
  const i = s.indexOf('/', from);
  return i < 0 ? s.length : i;
}

const BACKSLASH = 92;

interface JsonAddrInfo { family?: string; local?: string; prefixlen?: number; scope?: string }
interface JsonLink { ifname?: string; addr_info?: JsonAddrInfo[] }

/**
 * `ip -j addr show [dev X]` → the same entries as parseIpAddrOneline.
 *
 * Real sample (`ip -j addr show dev kube-ipvs0`, cut):
 * ```
 * [{"ifindex":5,"ifname":"kube-ipvs0","flags":["BROADCAST","NOARP"],"mtu":1500,"qdisc":"noop",
 *   "operstate":"DOWN",…,"addr_info":[{"family":"inet","local":"10.20.30.41","prefixlen":32,
 *   "scope":"global","label":"kube-ipvs0","valid_life_time":4294967295,…},…]}]
 * ```
 */
export function parseIpAddrJson(text: string): IfaceAddress[] {
  let data: unknown;
  try {
    data = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch (e) {
    throw new StateParseError('ip -j addr', 1, text.slice(0, 80), `not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(data)) throw new StateParseError('ip -j addr', 1, text.slice(0, 80), 'expected a JSON array');
  const out: IfaceAddress[] = [];
  for (const link of data as JsonLink[]) {
    const iface = link.ifname ?? '';
    for (const a of link.addr_info ?? []) {
      if ((a.family !== 'inet' && a.family !== 'inet6') || a.local === undefined) continue;
      const e = makeAddr(iface, a.local, a.prefixlen === undefined ? undefined : String(a.prefixlen), a.scope);
      if (!e) throw new StateParseError('ip -j addr', 1, JSON.stringify(a), 'bad address');
      out.push(e);
    }
  }
  return out;
}
