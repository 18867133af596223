/**
 * IP addresses and CIDRs, parsed and printed the way Go's net package (and so kube-proxy) does.
 *
 * Why not node:net? `isIP` only says yes/no; kube-proxy's behaviour depends on Go's rules:
 * an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) *is* IPv4 (To4() != nil) and prints as
 * `1.2.3.4`; IPv6 prints compressed, lower case (RFC 5952); IPv4 with leading zeros is rejected
 * (Go ≥ 1.17). Pure code: no I/O.
 */

export type Family = 'IPv4' | 'IPv6';

/** A parsed address: family, canonical text and a key whose string order is numeric order. */
export interface Ip {
  readonly family: Family;
  readonly text: string;
  /** `4` + 8 hex digits or `6` + 32 hex digits: comparing keys compares addresses (IPv4 first). */
  readonly key: string;
  readonly bytes: readonly number[];
}

export interface Cidr {
  readonly family: Family;
  /** Network address (host bits cleared). */
  readonly ip: Ip;
  readonly prefix: number;
  /** Normalised `network/prefix`. */
  readonly text: string;
}

function parseV4(s: string): number[] | null {
  // Hand-rolled (no split, no regex): this runs for every address of every input (issue #5).
  const out: number[] = [];
  let n = 0;
  let digits = 0;
  let lead0 = false;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      // Empty part, or a leading zero: Go rejects "1..2.3" and "010.0.0.1" (octal ambiguity).
      if (digits === 0 || (lead0 && digits > 1) || n > 255 || out.length === 4) return null;
      out.push(n);
      n = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || digits === 3) return null;
    if (digits === 0) lead0 = c === 0x30;
    n = n * 10 + (c - 0x30);
    digits++;
  }
  return out.length === 4 ? out : null;
}

function parseV6(s: string): number[] | null {
  if (s.length < 2 || s.length > 45) return null;
  let tail: number[] = [];
  let body = s;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    body = s.slice(0, lastColon + 1) + '0:0'; // placeholder groups, replaced below
  }
  const dbl = body.indexOf('::');
  if (dbl !== body.lastIndexOf('::')) return null;
  // Colon-separated groups of 1 to 4 hex digits, scanned in place (no split, no regex per group).
  const groupsOf = (part: string): number[] | null => {
    const out: number[] = [];
    if (part === '') return out;
    let v = 0;
    let digits = 0;
    for (let i = 0; i <= part.length; i++) {
      const c = i < part.length ? part.charCodeAt(i) : 0x3a;
      if (c === 0x3a) {
        if (digits === 0) return null;
        out.push(v);
        v = 0;
        digits = 0;
        continue;
      }
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0 || digits === 4) return null;
      v = v * 16 + d;
      digits++;
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = groupsOf(body.slice(0, dbl));
    const rest = groupsOf(body.slice(dbl + 2));
    if (!head || !rest) return null;
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    const all = groupsOf(body);
    if (!all || all.length !== 8) return null;
    groups = all;
  }
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

/**
 * RFC 5952: the run of zero groups an IPv6 address is compressed at: the longest run of at least
 * two, the first one on a tie; start -1 when there is none. Shared with state/scan.ts, which
 * recognises text already printed this way.
 */
export function longestZeroRun(groups: readonly number[]): { start: number; len: number } {
  let start = -1;
  let len = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > len) { start = i; len = j - i; }
    i = j;
  }
  return { start, len };
}

function formatV6(b: readonly number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  const { start: bestStart, len: bestLen } = longestZeroRun(groups);
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    out += (out === '' || out.endsWith(':') ? '' : ':') + groups[i]!.toString(16);
  }
  return out;
}

/** `6` + 32 hex digits, four per 16-bit group (cheaper than sixteen 2-digit pieces). */
function v6Key(b: readonly number[]): string {
  let k = '6';
  for (let i = 0; i < 16; i += 2) k += (((b[i]! << 8) | b[i + 1]!) + 0x10000).toString(16).slice(1);
  return k;
}

/** `v4text`: the input, when it is already canonical dotted decimal (parseV4 accepted it). */
function makeIp(bytes: number[], v4text?: string): Ip {
  const mapped = bytes.length === 16 && bytes[10] === 0xff && bytes[11] === 0xff && bytes.slice(0, 10).every((x) => x === 0);
  if (bytes.length === 4 || mapped) {
    const v4 = bytes.length === 4 ? bytes : bytes.slice(12);
    const word = ((v4[0]! << 24) | (v4[1]! << 16) | (v4[2]! << 8) | v4[3]!) >>> 0;
    const text = v4text ?? `${v4[0]!}.${v4[1]!}.${v4[2]!}.${v4[3]!}`;
    return { family: 'IPv4', text, key: '4' + word.toString(16).padStart(8, '0'), bytes: v4 };
  }
  return { family: 'IPv6', text: formatV6(bytes), key: v6Key(bytes), bytes };
}

const ipCache = new Map<string, Ip | null>();

/** Parses an IP the way Go's net.ParseIP does; null when it is not one. Memoised (hot path). */
export function parseIp(s: string): Ip | null {
  const hit = ipCache.get(s);
  if (hit !== undefined) return hit;
  let result: Ip | null = null;
  if (typeof s === 'string' && s.length <= 45) {
    const v4 = s.includes(':') ? null : parseV4(s);
    // parseV4 accepts only canonical text (no leading zeros, no other forms): reuse the input
    // string instead of building a 7-piece copy, for every address of every input (issue #5).
    if (v4) result = makeIp(v4, s);
    else if (s.includes(':')) {
      const v6 = parseV6(s);
      if (v6) result = makeIp(v6);
    }
  }
  // Bounded memo: a 50k-Service node has a few hundred thousand distinct address strings.
  if (ipCache.size > 2_000_000) ipCache.clear();
  ipCache.set(s, result);
  return result;
}

/** Parses `addr/prefix`, normalising to the network address (`10.0.0.1/8` → `10.0.0.0/8`). */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const addr = s.slice(0, slash);
  const pfx = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(pfx)) return null;
  const prefix = Number(pfx);
  // A mapped IPv4 written in IPv6 CIDR form keeps IPv6 bit lengths in Go; keep it simple and
  // parse the address part on its own, then check the prefix against the family.
  const raw = addr.includes(':') ? parseV6(addr) : parseV4(addr);
  if (!raw) return null;
  const bits = raw.length * 8;
  if (prefix > bits) return null;
  const net = raw.map((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  const ip = raw.length === 4 ? makeIp(net) : ipFromV6Bytes(net);
  return { family: raw.length === 4 ? 'IPv4' : 'IPv6', ip, prefix, text: `${ip.text}/${prefix}` };
}

/** An IPv6 CIDR stays IPv6 even when its network address looks mapped. */
function ipFromV6Bytes(bytes: number[]): Ip {
  return { family: 'IPv6', text: formatV6(bytes), key: v6Key(bytes), bytes };
}

/** Whether `cidr` contains `ip` (families must match). */
export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  if (cidr.family !== ip.family) return false;
  const a = cidr.ip.bytes;
  const b = ip.bytes;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

export const isLoopback = (ip: Ip): boolean =>
  ip.family === 'IPv4' ? ip.bytes[0] === 127 : ip.text === '::1';

/** IPv6 link-local unicast fe80::/10. */
export const isLinkLocalV6 = (ip: Ip): boolean =>
  ip.family === 'IPv6' && ip.bytes[0] === 0xfe && (ip.bytes[1]! & 0xc0) === 0x80;

export const isUnspecified = (ip: Ip): boolean => ip.bytes.every((b) => b === 0);

export const isLinkLocalUnicast = (ip: Ip): boolean =>
  ip.family === 'IPv4' ? ip.bytes[0] === 169 && ip.bytes[1] === 254 : isLinkLocalV6(ip);

export const isLinkLocalMulticast = (ip: Ip): boolean =>
  ip.family === 'IPv4'
    ? ip.bytes[0] === 224 && ip.bytes[1] === 0 && ip.bytes[2] === 0
    : ip.bytes[0] === 0xff && (ip.bytes[1]! & 0x0f) === 0x02;

/** Host CIDR of an address: `/32` or `/128`. */
export const hostCidr = (ip: Ip): string => `${ip.text}/${ip.family === 'IPv4' ? 32 : 128}`;

/** `ip:port`, IPv6 bracketed (the form ipvsadm and kube-proxy's endpoint strings use). */
export const joinHostPort = (ip: string, port: number): string =>
  ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;

export const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Address order of docs/artifacts.md: IPv4 before IPv6, then numeric. Unparsable text last. */
export function compareIpText(a: string, b: string): number {
  const pa = parseIp(a);
  const pb = parseIp(b);
  if (pa && pb) return compareKeys(pa.key, pb.key);
  if (pa) return -1;
  if (pb) return 1;
  return compareKeys(a, b);
}
