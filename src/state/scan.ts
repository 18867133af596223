/**
 * Allocation-light helpers for the tool-output parsers (a 10k-Service node prints ~130k lines):
 * whitespace tokenising without a regex per line (as token bounds or strings), digit runs, and
 * address text that is already canonical (what parseIp would give back unchanged: IPv4 and
 * IPv6) recognised in place, with sort keys, so the common case never calls parseIp.
 * Pure; every helper agrees exactly with the slower spelling it replaces (named on each;
 * test/unit/state/scan.test.ts checks them against it).
 */
import { longestZeroRun, parseIp } from '../model/net.js';

/** Whether a char code is JavaScript whitespace (`\s`, the set String#trim removes). */
export function isWs(c: number): boolean {
  return c <= 32 ? c === 32 || (c >= 9 && c <= 13) : c >= 160 && isWsAbove127(c);
}

function isWsAbove127(c: number): boolean {
  return c === 160 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * The tokens of `s.slice(start, end).trim().split(/\s+/)` for a non-blank slice, as bounds into
 * `s`: token k is `s.slice(starts[k], ends[k])`. The arrays are reused between lines (their
 * lengths are not trimmed). Returns the token count; 0 when the slice is blank. `sep`: a char
 * code that separates tokens too.
 */
export function wsBounds(s: string, start: number, end: number, starts: number[], ends: number[], sep = -1): number {
  let n = 0;
  let i = start;
  while (i < end) {
    let c = s.charCodeAt(i);
    while (isWs(c) || c === sep) {
      if (++i >= end) return n;
      c = s.charCodeAt(i);
    }
    starts[n] = i;
    do c = s.charCodeAt(++i); while (i < end && !isWs(c) && c !== sep);
    ends[n++] = i;
  }
  return n;
}

/**
 * The first index of char code `c` in `s.slice(start, end)` (as an index into `s`), or `end`.
 * Unlike indexOf, it never reads past `end` (a field without a comma must not send the search
 * through the rest of a 2 MB save).
 */
export function indexIn(s: string, c: number, start: number, end: number): number {
  let i = start;
  while (i < end && s.charCodeAt(i) !== c) i++;
  return i;
}

/** Whether `s.slice(start, end)` is `word`. */
export const isWord = (s: string, start: number, end: number, word: string): boolean =>
  end - start === word.length && s.startsWith(word, start);

/**
 * `s.slice(start, end).trim().split(/\s+/)` for a non-blank slice, into `out` (reused between
 * lines: its length is set to the token count). Returns the token count; 0 when the slice is blank.
 */
export function splitWs(s: string, out: string[], start = 0, end = s.length): number {
  let n = 0;
  let i = start;
  while (i < end) {
    while (i < end && isWs(s.charCodeAt(i))) i++;
    if (i >= end) break;
    const from = i;
    while (i < end && !isWs(s.charCodeAt(i))) i++;
    out[n++] = s.slice(from, i);
  }
  out.length = n;
  return n;
}

/**
 * Whether `s.slice(start, end)` is a dotted-quad IPv4 address in the canonical form parseIp
 * prints (no leading zeros, each part ≤ 255): then parseIp(text).text === text.
 */
export function isCanonicalV4(s: string, start = 0, end = s.length): boolean {
  return canonicalV4(s, start, end) >= 0;
}

/**
 * The number of a canonical IPv4 address (isCanonicalV4), else -1; for such text
 * parseIp(text).key === ipv4Key(number).
 */
export function canonicalV4(s: string, start = 0, end = s.length): number {
  let value = 0; // int32: shifts and ors never overflow into a bail-out (as value * 256 would)
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) { // '.'
      if (digits === 0 || dots === 3) return -1;
      value = (value << 8) | part;
      part = 0;
      digits = 0;
      dots++;
      continue;
    }
    if (c < 48 || c > 57) return -1;
    if (digits > 0 && part === 0) return -1; // leading zero
    part = part * 10 + (c - 48);
    if (part > 255) return -1;
    digits++;
  }
  if (dots !== 3 || digits === 0) return -1;
  // unsigned, turned into a double without >>> 0 (whose int32 speculation fails at 128.0.0.0)
  return (((value << 8) | part) ^ -2147483648) + 2147483648;
}

/** parseIp(text).key for an IPv4 address of this numeric value: `4` + 8 hex digits. */
export const ipv4Key = (value: number): string => '4' + value.toString(16).padStart(8, '0');

/**
 * Number(s.slice(start, end)) for a non-empty run of ASCII digits (`/^\d+$/`), else -1. Up to 15
 * digits are summed in place (exact below 2^53, as Number reads them); longer runs go through Number.
 */
export function uintAt(s: string, start: number, end: number): number {
  if (start >= end) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return end - start <= 15 ? v : Number(s.slice(start, end));
}

/** Whether `s.slice(start, end)` is a non-empty run of ASCII digits (`/^\d+$/`). */
export function isDigits(s: string, start = 0, end = s.length): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Digits that Number() reads back to the same text: `0`, or no leading zero (at most 15 digits). */
export function isCanonicalUint(s: string, start = 0, end = s.length): boolean {
  const n = end - start;
  if (n === 0 || n > 15) return false;
  if (n > 1 && s.charCodeAt(start) === 48) return false;
  return isDigits(s, start, end);
}

const groups: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

/**
 * Whether `s.slice(start, end)` is IPv6 text in the canonical form parseIp prints (RFC 5952:
 * lower case, no leading zeros, the longest run of ≥ 2 zero groups compressed, the first on a
 * tie; no dotted tail; not IPv4-mapped, which parseIp reads as IPv4). For such text
 * parseIp(text).text === text. Leaves the address's 8 groups in `groups` (for ipv6SortKey).
 */
export function isCanonicalV6(s: string, start = 0, end = s.length): boolean {
  if (end - start < 2 || end - start > 39) return false;
  let n = 0; // groups written
  let dbl = -1; // groups before `::`
  let i = start;
  if (s.charCodeAt(i) === 58) { // `::…`
    if (s.charCodeAt(i + 1) !== 58) return false;
    dbl = 0;
    i += 2;
  }
  while (i < end) {
    let g = 0;
    let digits = 0;
    for (; i < end; i++) {
      const c = s.charCodeAt(i);
      const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (v < 0) break;
      if (digits > 0 && g === 0) return false; // leading zero
      g = g * 16 + v;
      if (++digits > 4) return false;
    }
    if (digits === 0 || n === 8) return false;
    groups[n++] = g;
    if (i === end) break;
    if (s.charCodeAt(i++) !== 58 || i === end) return false; // `:` and more
    if (s.charCodeAt(i) === 58) { // `::`
      if (dbl >= 0) return false;
      dbl = n;
      i++;
    }
  }
  const missing = 8 - n;
  if (dbl < 0 ? missing !== 0 : missing < 2) return false; // parseIp compresses runs of ≥ 2 only
  if (dbl >= 0) {
    for (let k = n - 1; k >= dbl; k--) groups[k + missing] = groups[k]!;
    for (let k = dbl; k < dbl + missing; k++) groups[k] = 0;
  }
  // the run parseIp would compress must be the one written as `::`
  const { start: bestStart, len: bestLen } = longestZeroRun(groups);
  if (dbl < 0 ? bestStart >= 0 : bestStart !== dbl || bestLen !== missing) return false;
  return !(groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff);
}

/**
 * A sort key of the address isCanonicalV6 last accepted: `6` + its 8 groups as one UTF-16 code
 * unit each. Among IPv6 keys it orders as parseIp's key (`6` + 32 hex digits) does, and against
 * IPv4 keys (`4`…) and others by its first char, as that one does.
 */
export function ipv6SortKey(): string {
  return '6' + String.fromCharCode(groups[0]!, groups[1]!, groups[2]!, groups[3]!, groups[4]!, groups[5]!, groups[6]!, groups[7]!);
}

/**
 * A key that orders addresses as parseIp(text).key does (`s.slice(start, end)`): parseIp's key
 * for IPv4, ipv6SortKey's form for IPv6; null when the text is not an address. Canonical text
 * needs no parseIp.
 */
export function addressSortKey(s: string, start = 0, end = s.length): string | null {
  const v4 = canonicalV4(s, start, end);
  if (v4 >= 0) return ipv4Key(v4);
  if (isCanonicalV6(s, start, end)) return ipv6SortKey();
  const key = parseIp(s.slice(start, end))?.key;
  if (key === undefined || !key.startsWith('6')) return key ?? null;
  let out = '6';
  for (let i = 1; i < key.length; i += 4) out += String.fromCharCode(parseInt(key.slice(i, i + 4), 16));
  return out;
}

/** The position after `n` written at `at` as String(n) writes it (no further digit); else -1. */
export function numberEnd(s: string, at: number, n: number): number {
  const t = String(n);
  if (!s.startsWith(t, at)) return -1;
  const c = s.charCodeAt(at + t.length);
  return c >= 48 && c <= 57 ? -1 : at + t.length;
}

/**
 * The position after `address:port` written at `at` as joinHostPort writes it (`10.0.0.1:80`,
 * `[fd00::1]:80`), compared in place; else -1.
 */
export function hostPortEnd(s: string, at: number, address: string, port: number): number {
  let p = at;
  if (address.includes(':')) {
    if (s.charCodeAt(p) !== 91 || !s.startsWith(address, p + 1) || s.charCodeAt(p + 1 + address.length) !== 93) return -1; // '[' ']'
    p += 2 + address.length;
  } else {
    if (!s.startsWith(address, p)) return -1;
    p += address.length;
  }
  return s.charCodeAt(p) === 58 ? numberEnd(s, p + 1, port) : -1; // ':'
}
