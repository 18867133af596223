/**
 * Parser of `ipset save` output into LiveIpSet[] with entries in ipvsc's canonical entry text
 * (docs/artifacts.md, reference §2.2), so that a set compares entry by entry with the compiled one.
 * Pure: the text is passed in.
 */
import { compareIpText, parseCidr, parseIp } from '../model/net.js';
import { addressSortKey, canonicalV4, indexIn, ipv4Key, ipv6SortKey, isCanonicalUint, isCanonicalV6, isDigits, splitWs, uintAt } from './scan.js';
import { StateParseError } from './types.js';
import type { LiveIpSet } from './types.js';
import type { IpSet } from '../model/types.js';

const TOOL = 'ipset';

/** Protocol numbers ipset may print (getprotobynumber) → the names ipvsc writes. */
const PROTO_NAMES: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp', '1': 'icmp', '58': 'ipv6-icmp' };
const PROTO_RANK: Record<string, number> = { tcp: 0, udp: 1, sctp: 2 };

/** Tokens of a save line: whitespace-separated, `"…"` quoted (entry comments). */
function tokens(line: string): string[] {
  const out: string[] = [];
  if (!line.includes('"')) {
    splitWs(line, out);
    return out;
  }
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

type Family = 'IPv4' | 'IPv6';

function canonIp(s: string, family: Family | undefined): string | null {
  const ip = parseIp(s);
  if (!ip) return null;
  // An IPv4-mapped address stored in an inet6 set stays IPv6 there (Go's view would make it IPv4).
  if (family === 'IPv6' && ip.family === 'IPv4') return s.toLowerCase();
  return ip.text;
}

function canonNet(s: string, family: Family | undefined): string | null {
  // ipset prints host nets (/32, /128) without a prefix: give them one, as ipvsc writes CIDRs.
  if (!s.includes('/')) {
    const ip = parseIp(s);
    if (!ip) return null;
    return `${canonIp(s, family)}/${s.includes(':') ? 128 : 32}`;
  }
  return parseCidr(s)?.text ?? null;
}

function canonProtoPort(s: string): string | null {
  const colon = s.indexOf(':');
  const proto = colon < 0 ? 'tcp' : s.slice(0, colon).toLowerCase(); // ipset's default protocol is tcp
  const port = colon < 0 ? s : s.slice(colon + 1);
  if (!/^[a-z0-9-]+$/.test(proto) || !/^\d+$/.test(port)) return null;
  return `${PROTO_NAMES[proto] ?? proto}:${Number(port)}`;
}

/**
 * One entry (the element part of an `add` line) in ipvsc's canonical text for the set type:
 * `hash:ip` → `IP`; `hash:ip,port` → `IP,proto:PORT`; `hash:ip,port,ip` → `IP,proto:PORT,IP2`;
 * `hash:ip,port,net` → `IP,proto:PORT,CIDR`; `bitmap:port` → `PORT`. Other types: the fields
 * canonicalised by shape. Returns null when the element does not parse.
 */
export function canonicalIpsetEntry(entry: string, type: string, family?: Family): string | null {
  return canonicalEntry(entry, kindsOf(type), type.startsWith('bitmap:port'), family);
}

/**
 * Whether an entry in ipvsc's canonical text adds exactly one element to a set of this type, and
 * one that `ipset save` prints back as the same text. apply's read-back proves a set it filled by
 * the kernel's entry count (host/read-state.ts readFilledSets) only when every entry passes, so
 * the count can neither be made up by an entry that adds several elements nor by two texts that
 * are one element. Conservative: an address field is a plain canonical address of the set's
 * family (a CIDR there adds every address in it; an IPv4-mapped IPv6 text prints otherwise), a
 * port is `tcp|udp|sctp:N` (no range), a net field a masked CIDR shorter than a host (ipset prints
 * host nets without their /32), a bitmap:port entry one number (no range). ipvsc's compile writes
 * only such entries, except host CIDRs in source ranges; a hand-edited `--from` artifact may not.
 */
export function isOneKernelElement(entry: string, type: string, family?: Family): boolean {
  if (type.startsWith('bitmap:port')) return /^(?:0|[1-9]\d{0,4})$/.test(entry) && Number(entry) <= 65535;
  const kinds = kindsOf(type);
  const fields = entry.split(',');
  if (family === undefined || kinds.length !== fields.length) return false;
  for (let i = 0; i < kinds.length; i++) {
    const f = fields[i]!;
    switch (kinds[i]) {
      case 'ip': {
        const ip = parseIp(f);
        if (!ip || ip.family !== family || ip.text !== f) return false;
        break;
      }
      case 'port': {
        const m = /^(?:tcp|udp|sctp):(0|[1-9]\d{0,4})$/.exec(f);
        if (!m || Number(m[1]) > 65535) return false;
        break;
      }
      case 'net': {
        const c = parseCidr(f);
        if (!c || c.family !== family || c.text !== f || c.prefix === (family === 'IPv4' ? 32 : 128)) return false;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

/** `hash:ip,port` → `['ip', 'port']`. */
const kindsOf = (type: string): string[] => (type.includes(':') ? type.slice(type.indexOf(':') + 1).split(',') : []);

function canonicalEntry(entry: string, kinds: readonly string[], bitmapPort: boolean, family: Family | undefined): string | null {
  if (bitmapPort) {
    return isDigits(entry) ? String(Number(entry)) : null;
  }
  const fields = entry.split(',');
  if (kinds.length !== fields.length) return null;
  const out: string[] = [];
  for (const [i, kind] of kinds.entries()) {
    const f = fields[i]!;
    let c: string | null;
    if (kind === 'ip') c = f.includes('/') ? canonNet(f, family) : canonIp(f, family);
    else if (kind === 'net') c = canonNet(f, family);
    else if (kind === 'port') c = canonProtoPort(f);
    else if (kind === 'mac') c = f.toLowerCase();
    else c = f;
    if (c === null) return null;
    out.push(c);
  }
  return out.join(',');
}

/** Field-wise order of docs/artifacts.md: addresses, then protocol (tcp, udp, sctp), then port, CIDRs. */
export function compareIpsetEntries(a: string, b: string): number {
  const fa = a.split(',');
  const fb = b.split(',');
  for (let i = 0; i < Math.max(fa.length, fb.length); i++) {
    const x = fa[i] ?? '';
    const y = fb[i] ?? '';
    if (x === y) continue;
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
    const px = /^([a-z0-9-]+):(\d+)$/.exec(x);
    const py = /^([a-z0-9-]+):(\d+)$/.exec(y);
    if (px && py && !x.includes('.') && !parseIp(x) && !parseIp(y)) {
      const rx = PROTO_RANK[px[1]!] ?? 99;
      const ry = PROTO_RANK[py[1]!] ?? 99;
      if (rx !== ry) return rx - ry;
      if (px[1] !== py[1]) return px[1]! < py[1]! ? -1 : 1;
      return Number(px[2]) - Number(py[2]);
    }
    const cx = x.split('/');
    const cy = y.split('/');
    const byIp = compareIpText(cx[0]!, cy[0]!);
    if (byIp !== 0) return byIp;
    return Number(cx[1] ?? -1) - Number(cy[1] ?? -1);
  }
  return 0;
}

/** Entry options that change the match (kept in the entry text); counters/timeouts/comments are dropped. */
const ENTRY_FLAGS = new Set(['nomatch']);
const ENTRY_OPTS_WITH_VALUE = new Set(['timeout', 'packets', 'bytes', 'comment', 'skbmark', 'skbprio', 'skbqueue']);

/**
 * `ipset save` (all sets, or one) → sets in the order listed, each with its canonical, sorted,
 * de-duplicated entries. The create line keeps everything after the type as `options`
 * (newer ipset adds `bucketsize 12 initval 0x…` — seen with ipset 7.17 on kernels 6.1 and 6.18; initval differs per set and per creation).
 *
 * Real sample (`ipset save`, ipset v7.17, kernel 6.1; entries come in hash order):
 * ```
 * create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0xbaaf6086
 * add KUBE-CLUSTER-IP 10.96.0.10,udp:53
 * add KUBE-CLUSTER-IP 10.20.30.41,sctp:80
 * add KUBE-CLUSTER-IP 10.20.30.41,tcp:80
 * create KUBE-LOAD-BALANCER-SOURCE-CIDR hash:ip,port,net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x10009f3f
 * add KUBE-LOAD-BALANCER-SOURCE-CIDR 1.2.3.4,tcp:80,10.0.0.0/8
 * create KUBE-NODE-PORT-TCP bitmap:port range 0-65535
 * add KUBE-NODE-PORT-TCP 30080
 * create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x…
 * add KUBE-6-CLUSTER-IP 2001:db8::1:1,sctp:3001
 * ```
 * Seen on this ipset (host check): protocol numbers are printed as names (`132:81` → `sctp:81`,
 * `47:0` → `gre:0`); a `hash:ip,port,net` host net (`/32`, `/128`) is printed WITHOUT its prefix;
 * a `bitmap:port` range add is listed port by port; IPv6 is printed compressed lower case.
 */
export function parseIpsetSave(text: string): LiveIpSet[] {
  const sets = new Map<string, SetShape>();
  // `add NAME ` of the last set created: its add lines (which follow it) skip the lookup.
  let lastPrefix = '';
  let last: SetShape | undefined;
  let lineNo = 0;
  for (let pos = 0; pos <= text.length; ) {
    const start = pos;
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    pos = nl + 1;
    lineNo++;
    if (lastPrefix !== '' && text.startsWith(lastPrefix, start)) {
      if (last!.addCanonical(text, start + lastPrefix.length, nl)) continue;
    }
    const s = parseLine(text.slice(start, nl), lineNo, sets);
    if (s) {
      last = s;
      lastPrefix = /^[^\s"\\]+$/.test(s.set.name) ? `add ${s.set.name} ` : '';
    }
  }
  return finishSets(sets.values());
}

/** The sets with their entries sorted and deduplicated. */
function finishSets(shapes: Iterable<SetShape>): LiveIpSet[] {
  const out: LiveIpSet[] = [];
  for (const shape of shapes) {
    shape.set.entries = shape.sortedEntries();
    out.push(shape.set);
  }
  return out;
}

/**
 * What parseIpsetSave reads back from the ipset.restore that render writes for these sets
 * (`create NAME TYPE family inet|inet6 hashsize 1024 maxelem 65536`, `create NAME bitmap:port
 * range 0-65535`, `add NAME ENTRY`), built without the text. Null when something would not read
 * back as itself (a token with blanks or quotes, an entry the set type does not accept, a
 * duplicate set): then parse the text, which reports it.
 */
export function setsFromModel(sets: readonly IpSet[]): LiveIpSet[] | null {
  const shapes = new Map<string, SetShape>();
  for (const m of sets) {
    if (!isToken(m.name) || !isToken(m.type) || shapes.has(m.name)) return null;
    const set: LiveIpSet = m.type === 'bitmap:port'
      ? { name: m.name, type: m.type, options: 'range 0-65535', entries: [] }
      : { name: m.name, type: m.type, options: `family ${m.family === 'IPv4' ? 'inet' : 'inet6'} hashsize 1024 maxelem 65536`, entries: [] };
    if (m.type !== 'bitmap:port') set.family = m.family === 'IPv4' ? 'IPv4' : 'IPv6';
    const shape = new SetShape(set);
    for (const e of m.entries) {
      if (shape.addCanonical(e, 0, e.length)) continue; // (canonical text has no blank or quote)
      if (!isToken(e)) return null;
      const c = canonicalEntry(e, shape.kinds, shape.bitmapPort, set.family);
      if (c === null) return null;
      shape.add(c);
    }
    shapes.set(m.name, shape);
  }
  return finishSets(shapes.values());
}

/** One token of a save line, read as itself. */
const isToken = (s: string): boolean => s !== '' && !/[\s"\\]/.test(s);

// Field kinds with a fast path, and how many bits their sort number takes.
const IP = 1;
const PORT = 2;
const NET = 3;
const BITMAP_PORT = 4;
const BITS = [0, 32, 18, 38, 17];
const SHIFT = new Float64Array(BITS.map((b) => 2 ** b));
const KIND_CODE: ReadonlyMap<string, number> = new Map([['ip', IP], ['port', PORT], ['net', NET]]);
/** fieldNumber: the field is canonical but has no sort number (IPv6, a port above 65535). */
const NO_NUMBER = -2;

/**
 * A set being read: what its type says about its elements, and its entries. An entry that is
 * canonical text in place (addCanonical) also gets sort numbers: its fields packed in slots of
 * ≤ 52 bits that order exactly as entrySortKey does, equal only for the same text. While every
 * entry has them the set sorts on them; otherwise as sortEntries. (Typed arrays and one object
 * shape: this runs 50k times per save, mostly before the JIT has optimised it.)
 */
class SetShape {
  /** `hash:ip,port` → `['ip', 'port']`. */
  readonly kinds: readonly string[];
  readonly bitmapPort: boolean;
  readonly entries: string[] = [];
  private readonly codes: readonly number[];
  /** Field k goes into number slotOf[k]; `slots` numbers per entry. */
  private readonly slotOf: number[] = [];
  private readonly slots: number = 0;
  /** The entries' numbers, `slots` per entry (`count` used); null once an entry has none. */
  private keys: Float64Array | null = new Float64Array(1024);
  private count = 0;
  private readonly scratch = new Float64Array(4);

  constructor(readonly set: LiveIpSet) {
    this.kinds = kindsOf(set.type);
    this.bitmapPort = set.type.startsWith('bitmap:port');
    this.codes = this.bitmapPort ? [BITMAP_PORT] : this.kinds.map((k) => KIND_CODE.get(k) ?? 0);
    if (this.codes.includes(0)) this.codes = [];
    for (let k = 0, used = 52; k < this.codes.length; k++) {
      const bits = BITS[this.codes[k]!]!;
      if (used + bits > 52) { this.slots++; used = 0; }
      used += bits;
      this.slotOf.push(this.slots - 1);
    }
  }

  /** An entry from canonicalEntry (without sort numbers). */
  add(entry: string): void {
    this.entries.push(entry);
    this.keys = null;
  }

  /**
   * Adds `text.slice(start, end)` when it is an element that canonicalEntry would give back
   * unchanged, checked in place (canonical addresses, canonical IPv4 networks,
   * `tcp|udp|sctp:PORT`, ports); false means "ask canonicalEntry", not "invalid".
   */
  addCanonical(text: string, start: number, end: number): boolean {
    const { codes, scratch, slotOf, slots } = this;
    if (codes.length === 0) return false;
    let numbered = true;
    for (let j = 0; j < slots; j++) scratch[j] = 0;
    for (let k = 0, from = start; k < codes.length; k++) {
      const comma = indexIn(text, 44, from, end); // ','
      if ((comma === end) !== (k === codes.length - 1)) return false;
      const code = codes[k]!;
      const v = fieldNumber(text, from, comma, code);
      if (v === -1) return false;
      if (v === NO_NUMBER) numbered = false;
      else {
        const j = slotOf[k]!;
        // a network is its address (32 bits), then its prefix length (6 bits)
        scratch[j] = code === NET ? (scratch[j]! * SHIFT[IP]! + v) * 64 + netPrefix : scratch[j]! * SHIFT[code]! + v;
      }
      from = comma + 1;
    }
    this.entries.push(text.slice(start, end));
    let keys = this.keys;
    if (keys === null) return true;
    if (!numbered) {
      this.keys = null;
      return true;
    }
    if (this.count + slots > keys.length) {
      keys = new Float64Array(keys.length * 2);
      keys.set(this.keys!);
      this.keys = keys;
    }
    for (let j = 0; j < slots; j++) keys[this.count++] = scratch[j]!;
    return true;
  }

  /** The entries in sortEntries' order, each once. */
  sortedEntries(): string[] {
    const { keys, slots, entries } = this;
    if (keys === null) return sortEntries([...new Set(entries)]);
    const cmp = (a: number, b: number): number => {
      for (let j = 0; j < slots; j++) {
        const d = keys[a * slots + j]! - keys[b * slots + j]!;
        if (d !== 0) return d;
      }
      return 0;
    };
    if (isAscending(keys, entries.length, slots)) return entries; // in order, each once (our own artifacts)
    const out: string[] = [];
    for (const i of entries.map((_, i) => i).sort(cmp)) {
      const e = entries[i]!;
      if (out.length === 0 || e !== out[out.length - 1]) out.push(e);
    }
    return out;
  }
}

/** Whether n tuples of `slots` numbers are in strictly ascending order. */
function isAscending(keys: Float64Array, n: number, slots: number): boolean {
  for (let i = slots; i < n * slots; i += slots) {
    let j = 0;
    while (j < slots && keys[i - slots + j] === keys[i + j]) j++;
    if (j === slots || keys[i - slots + j]! > keys[i + j]!) return false;
  }
  return true;
}

/** The prefix length of the network fieldNumber last read (it returns the address). */
let netPrefix = 0;

/**
 * A field in the canonical text canonicalEntry writes → its sort number, in fieldSortKey's
 * order (a network: its address, the prefix in netPrefix); NO_NUMBER when canonical without
 * one; -1 when not canonical (or not one checked here).
 */
function fieldNumber(text: string, start: number, end: number, code: number): number {
  switch (code) {
    case IP: {
      const v4 = canonicalV4(text, start, end);
      return v4 >= 0 ? v4 : isCanonicalV6(text, start, end) ? NO_NUMBER : -1;
    }
    case PORT: {
      const rank = text.startsWith('tcp:', start) ? 0 : text.startsWith('udp:', start) ? 1 : text.startsWith('sctp:', start) ? 2 : -1;
      const port = rank < 0 ? -1 : canonicalPort(text, start + (rank === 2 ? 5 : 4), end);
      return port < 0 ? port : rank * 65536 + port;
    }
    case NET: {
      const slash = indexIn(text, 47, start, end); // '/'
      if (slash === end || end - slash > 3) return -1;
      const ip = canonicalV4(text, start, slash);
      const prefix = canonicalPort(text, slash + 1, end);
      if (ip < 0 || prefix < 0 || prefix > 32) return -1;
      if (prefix < 32 && (prefix === 0 ? ip : ip << prefix) !== 0) return -1; // host bits set
      netPrefix = prefix;
      return ip;
    }
    case BITMAP_PORT: return canonicalPort(text, start, end);
    default: return -1;
  }
}

/** Canonical digits (no leading zero): the number when ≤ 65535, else NO_NUMBER; -1 when not digits. */
function canonicalPort(text: string, start: number, end: number): number {
  if (!isCanonicalUint(text, start, end)) return -1;
  const v = end - start > 5 ? 65536 : uintAt(text, start, end);
  return v > 65535 ? NO_NUMBER : v;
}

/** One line, by its tokens; returns the set a create line made. */
function parseLine(rawLine: string, lineNo: number, sets: Map<string, SetShape>): SetShape | undefined {
  const line = rawLine.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  const fail = (why: string): never => { throw new StateParseError(TOOL, lineNo, rawLine, why); };
  const t = tokens(line);
  const [cmd, name] = t;
  if (!name) fail('missing set name');
  if (cmd === 'create' || cmd === '-N' || cmd === 'n') {
    const type = t[2] ?? fail('missing set type');
    const rest = t.slice(3);
    const s: LiveIpSet = { name: name!, type, options: rest.join(' '), entries: [] };
    const fam = rest[rest.indexOf('family') + 1];
    if (rest.includes('family')) {
      if (fam === 'inet') s.family = 'IPv4';
      else if (fam === 'inet6') s.family = 'IPv6';
      else fail(`unknown family ${fam ?? ''}`);
    } else if (type.startsWith('hash:')) s.family = 'IPv4'; // ipset's default family
    if (sets.has(name!)) fail('duplicate create');
    const shape = new SetShape(s);
    sets.set(name!, shape);
    return shape;
  } else if (cmd === 'add' || cmd === '-A' || cmd === 'a') {
    const shape = sets.get(name!) ?? fail('add before create');
    const { set: s, kinds, bitmapPort } = shape;
    const elem = t[2] ?? fail('missing element');
    const c = canonicalEntry(elem, kinds, bitmapPort, s.family) ?? fail(`cannot parse ${s.type} element ${elem}`);
    const extra: string[] = [];
    for (let k = 3; k < t.length; k++) {
      const opt = t[k]!;
      if (ENTRY_FLAGS.has(opt)) extra.push(opt);
      else if (ENTRY_OPTS_WITH_VALUE.has(opt)) k++;
      else fail(`unknown entry option ${opt}`);
    }
    shape.add(extra.length ? [c, ...extra].join(' ') : c);
  } else fail(`unknown command ${cmd ?? ''}`);
  return undefined;
}

/**
 * compareIpsetEntries' order, decorate-sort style: the sort key of each entry is computed once
 * (a 10k-Service node has ~100k entries; parsing addresses in the comparator dominated plan time).
 */
function sortEntries(entries: string[]): string[] {
  const keyed = entries.map((e) => ({ e, k: entrySortKey(e) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : compareIpsetEntries(a.e, b.e)));
  return keyed.map((x) => x.e);
}

function entrySortKey(entry: string): string {
  let key = '';
  for (let from = 0; from <= entry.length; ) {
    let comma = entry.indexOf(',', from);
    if (comma < 0) comma = entry.length;
    key += (from > 0 ? '|' : '') + fieldSortKey(entry.slice(from, comma));
    from = comma + 1;
  }
  return key;
}

/** `80` → `000080`, `tcp:80` → `100tcp:00080`, `10.0.0.0/8` → `24 0a000000/008` (no space). */
function fieldSortKey(f: string): string {
  // fast paths first: the shapes of a 10k-Service node's entries
  const v4 = canonicalV4(f);
  if (v4 >= 0) return `2${ipv4Key(v4)}/000`;
  if (isCanonicalV6(f)) return `2${ipv6SortKey()}/000`;
  const rank = f.startsWith('tcp:') ? 0 : f.startsWith('udp:') ? 1 : f.startsWith('sctp:') ? 2 : -1;
  if (rank >= 0 && isDigits(f, rank === 2 ? 5 : 4)) {
    const colon = rank === 2 ? 4 : 3;
    return `10${rank}${f.slice(0, colon)}:${f.slice(colon + 1).padStart(5, '0')}`;
  }
  if (isDigits(f)) return `0${f.padStart(5, '0')}`;
  const pp = /^([a-z0-9-]+):(\d+)$/.exec(f);
  if (pp && !f.includes('.')) return `1${String(PROTO_RANK[pp[1]!] ?? 99).padStart(2, '0')}${pp[1]}:${pp[2]!.padStart(5, '0')}`;
  const [addr, prefix] = f.split('/');
  const key = addressSortKey(addr ?? '');
  return key !== null ? `2${key}/${(prefix ?? '').padStart(3, '0')}` : `3${f}`;
}
