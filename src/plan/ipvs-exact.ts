/**
 * A fast check of an IPVS read-back: does the table, as procIpVsToSave writes /proc/net/ip_vs in
 * `ipvsadm -Sn` form, hold each of the desired services exactly, line for line? Pure.
 *
 * Why: a full apply at 10k Services reads back ~20k services and ~77k real servers; parsing and
 * diffing them costs ~0.2 s of JavaScript on the host and ~1.9 s under the VM's TCG, after the
 * last kernel command (issue #5). Comparing the text with the lines the desired services would
 * read as costs a fraction of that. `true` only when every desired service matches exactly; any
 * other answer (`false`) sends the caller to the full parse and diff, which also says what differs.
 *
 * The kernel lists a service's real servers newest first (ip_vs_new_dest: list_add_rcu at the
 * head of svc->destinations), so a service loaded by one `ipvsadm -R` in artifact order reads
 * back in reverse; that is the order compared. One edited later (a real server added among
 * others) reads in another order and goes to the full diff, which sorts.
 *
 *   /proc/net/ip_vs (hash order)              procIpVsToSave
 *   TCP  0A141E29:0050 rr                      -A -t 10.20.30.41:80 -s rr
 *     -> 0AB40002:1F90      Masq    0  0  0    -a -t 10.20.30.41:80 -r 10.180.0.2:8080 -m -w 0
 *     -> 0AB40001:0050      Masq    1  3  1    -a -t 10.20.30.41:80 -r 10.180.0.1:80 -m -w 1
 *   UDP  0A60000A:0035 rr  persistent 2700000 FFFFFFFF  (HZ 250)   -A -u 10.96.0.10:53 -s rr -p 10800
 */
import type { ForwardMethod, LiveVirtualServer } from '../state/types.js';
import { ipvsadmRef } from '../state/types.js';
import { hostPortEnd, isCanonicalUint, isCanonicalV4, isCanonicalV6, numberEnd } from '../state/scan.js';

type VsRef = Pick<LiveVirtualServer, 'protocol' | 'address' | 'port'>;

const METHOD_SWITCH: Readonly<Record<ForwardMethod, string>> = { masq: '-m', route: '-g', tunnel: '-i' };

/**
 * Whether `save` (procIpVsToSave's text of the whole table) holds every service of `want` exactly,
 * each once, as procIpVsToSave writes a service the kernel holds (real servers newest first), and
 * none of the `touched` services `want` leaves out (the steps deleted them):
 *
 *   -A -t 10.20.30.41:80 -s rr                 (-p SECONDS when persistent)
 *   -a -t 10.20.30.41:80 -r 10.180.0.2:8080 -m -w 0
 *   -a -t 10.20.30.41:80 -r 10.180.0.1:80 -m -w 1
 *
 * Compared in place (no line is built: ~100k at 10k Services). Other services of `save` are only
 * checked to be what they seem: named canonically (so none is a touched one spelled otherwise)
 * with their real servers under them, as in procIpVsToSave's or `ipvsadm -Sn`'s text (a recorded
 * state's); any other text answers false. So does what that form does not show or writes otherwise
 * (scheduler flags, netmasks, thresholds, fwmark services): the full diff decides.
 */
export function ipvsReadBackMatches(save: string, want: readonly LiveVirtualServer[], touched: Iterable<VsRef>): boolean {
  /** `-t 10.0.0.1:80` → the service; null once its block matched; undefined when it must be absent. */
  const byRef = new Map<string, LiveVirtualServer | null | undefined>();
  for (const v of want) {
    if (v.fwmark !== undefined || v.flags.length || v.netmask !== undefined) return false;
    byRef.set(ipvsadmRef(v), v);
  }
  if (byRef.size !== want.length) return false;
  // touched and not desired (deleted): must not be there
  for (const t of touched) {
    const ref = ipvsadmRef(t);
    if (!byRef.has(ref)) byRef.set(ref, undefined);
  }
  let matched = 0;
  // From the first line to the last, nothing but services and their real servers.
  if (save !== '' && !save.startsWith('-A ')) return false;
  let at = save === '' ? -1 : 0;
  while (at >= 0) {
    // `-A -t 10.0.0.1:80 -s rr`: the service ends where its scheduler begins
    const sched = save.indexOf(' -s ', at);
    const ref = save.slice(at + 3, sched);
    const v = byRef.get(ref);
    if (v === undefined) {
      // Another service, which must be one for sure: the same text would name the same service
      // (canonical), and its real-server lines are its own (none of a touched one among them).
      if (byRef.has(ref) || !isCanonicalRef(ref)) return false; // deleted, still there; or not sure
      at = otherBlockEnd(save, save.indexOf('\n', at) + 1, ref);
      if (at === -2) return false;
      continue;
    }
    if (v === null) return false; // listed twice
    const end = blockEnd(save, sched + 4, ref, v);
    if (end < 0 || (end < save.length && !save.startsWith('-A ', end))) return false; // or a real server more
    byRef.set(ref, null);
    matched++;
    at = end < save.length ? end : -1;
  }
  return matched === want.length;
}

/**
 * The next service line after a service of another's real servers (from `p`): -1 at the end,
 * -2 when a line there is not `-a REF -r …` of that service.
 */
function otherBlockEnd(s: string, p: number, ref: string): number {
  while (p > 0 && p < s.length) {
    if (s.startsWith('-A ', p)) return p;
    if (!s.startsWith('-a ', p) || !s.startsWith(ref, p + 3) || !s.startsWith(' -r ', p + 3 + ref.length)) return -2;
    p = s.indexOf('\n', p) + 1;
  }
  return p === s.length ? -1 : -2; // (0: no final newline)
}

/** `-t 10.0.0.1:80`, `--sctp-service [fd00::1]:443`: a switch and a canonical address and port. */
function isCanonicalRef(ref: string): boolean {
  const sw = ref.startsWith('-t ') || ref.startsWith('-u ') ? 3 : ref.startsWith('--sctp-service ') ? 15 : -1;
  if (sw < 0) return false;
  const colon = ref.lastIndexOf(':');
  const port = Number(ref.slice(colon + 1));
  if (!isCanonicalUint(ref, colon + 1) || port > 65535) return false;
  if (ref.charCodeAt(sw) === 91) return ref.charCodeAt(colon - 1) === 93 && isCanonicalV6(ref, sw + 1, colon - 1); // '[' ']'
  return isCanonicalV4(ref, sw, colon);
}

/** Where `v`'s block ends (its scheduler at `p`), when it reads exactly as written above; else -1. */
function blockEnd(s: string, p: number, ref: string, v: LiveVirtualServer): number {
  if (!s.startsWith(v.scheduler, p)) return -1;
  p += v.scheduler.length;
  if (v.timeout) p = s.startsWith(' -p ', p) ? numberEnd(s, p + 4, v.timeout) : -1;
  if (p < 0 || s.charCodeAt(p) !== 10) return -1; // '\n'
  p++;
  const rs = v.realServers;
  for (let i = rs.length - 1; i >= 0; i--) {
    const r = rs[i]!;
    if (r.upperThreshold || r.lowerThreshold) return -1;
    if (!s.startsWith('-a ', p) || !s.startsWith(ref, p + 3) || !s.startsWith(' -r ', p + 3 + ref.length)) return -1;
    p = hostPortEnd(s, p + 7 + ref.length, r.address, r.port);
    const m = METHOD_SWITCH[r.method];
    if (p < 0 || s.charCodeAt(p) !== 32 || !s.startsWith(m, p + 1) || !s.startsWith(' -w ', p + 1 + m.length)) return -1;
    p = numberEnd(s, p + 5 + m.length, r.weight);
    if (p < 0 || s.charCodeAt(p) !== 10) return -1;
    p++;
  }
  return p;
}

