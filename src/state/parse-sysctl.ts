/**
 * Parser of sysctl readings into `{ 'net/ipv4/vs/conntrack': '1', … }` (slash form, the form
 * docs/artifacts.md's manifest uses). Pure: the text is passed in.
 */
import { StateParseError } from './types.js';

/**
 * A sysctl name in slash form. Dot form (`net.ipv4.conf.eth0/100.rp_filter`, what `sysctl`
 * prints) swaps `.` and `/` (sysctl writes a `.` inside a component, e.g. a VLAN interface
 * `eth0.100`, as `/`); slash form and `/proc/sys/…` paths are kept as they are.
 */
export function canonicalSysctlName(name: string): string {
  let n = name.trim().replace(/^\/proc\/sys\//, '');
  const dot = n.indexOf('.');
  const slash = n.indexOf('/');
  if (dot >= 0 && (slash < 0 || dot < slash)) n = n.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
  return n.replace(/^\/+/, '');
}

/**
 * `name = value` lines (`sysctl KEY…`, `sysctl -a`, `sysctl -w …` echo) and `name=value` lines
 * (sysctl.conf, `/proc/sys/…=value`), names in either form, → slash-form name → value (runs of
 * blanks in multi-value settings collapsed to one space). Blank and `#`/`;` comment lines skipped;
 * a later line for the same name wins.
 *
 * Real sample (`sysctl -w net.ipv4.vs.conntrack=1 …`, procps-ng 4.0.2; `sysctl net/ipv4/vs/conntrack`
 * also prints the dot form):
 * ```
 * net.ipv4.vs.conntrack = 1
 * net.ipv4.vs.expire_nodest_conn = 1
 * net.ipv4.ip_forward = 1
 * net.ipv4.conf.all.arp_announce = 2
 * ```
 * and (`printf "%s=" /proc/sys/…; cat …`):
 * ```
 * /proc/sys/net/ipv4/vs/conntrack=1
 * ```
 */
export function parseSysctlLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new StateParseError('sysctl', i + 1, rawLine, 'expected "name = value"');
    const name = canonicalSysctlName(line.slice(0, eq));
    if (name === '' || /\s/.test(name)) throw new StateParseError('sysctl', i + 1, rawLine, 'bad name');
    out[name] = line.slice(eq + 1).trim().replace(/\s+/g, ' ');
  });
  return out;
}
