/**
 * DesiredState → the artifact files (docs/artifacts.md). Pure: templates arrive as text.
 *
 * The templates only join ready-made lines (kube-proxy's LineBuffer idea): every word of every
 * line is built here from validated, typed values, so no input string reaches an artifact
 * unchecked. Handlebars is compiled with noEscape (it would turn `"` into `&quot;` inside
 * iptables comments) and strict (a missing field throws instead of rendering nothing).
 *
 * Long runs of lines (a set's entries, a virtual server's real servers, a chain's rules) go
 * through the `lines` helper rather than `{{#each}}`: at 10k Services the per-item block calls
 * of `each` cost ~3x the join (issue #5), and the templates still show every section's layout.
 */
import Handlebars from 'handlebars';
import type { TemplateName } from '../load/read-assets.js';
import { joinHostPort } from '../model/net.js';
import { JUMP_RULES, KUBE_CHAINS, jumpRuleSpec } from '../model/names.js';
import type { Protocol } from '../model/names.js';
import type { DesiredState, FamilyPass, IpSet, VirtualServer } from '../model/types.js';

export type Templates = Record<TemplateName, string>;

export interface Artifacts {
  readonly 'ipvsadm.restore': string;
  readonly 'ipset.restore': string;
  readonly 'iptables.restore': string;
  readonly 'ip6tables.restore'?: string;
}


type Compiled = Record<'ipvsadm' | 'ipset' | 'iptables', HandlebarsTemplateDelegate>;

const compiledCache = new WeakMap<Templates, Compiled>();

/** `{{lines xs}}`: each string of xs followed by a newline. */
const linesHelper = (xs: readonly string[]): string => (xs.length ? xs.join('\n') + '\n' : '');

function compile(t: Templates): Compiled {
  let c = compiledCache.get(t);
  if (!c) {
    const hb = Handlebars.create();
    hb.registerHelper('lines', linesHelper);
    const opts = { noEscape: true, strict: true };
    c = {
      ipvsadm: hb.compile(t['ipvsadm.restore.hbs'], opts),
      ipset: hb.compile(t['ipset.restore.hbs'], opts),
      iptables: hb.compile(t['iptables.restore.hbs'], opts),
    };
    compiledCache.set(t, c);
  }
  return c;
}

export const protocolSwitch = (p: Protocol): string => (p === 'TCP' ? '-t' : p === 'UDP' ? '-u' : '--sctp-service');

/** `-A -t 10.0.0.1:80 -s rr [-b mh-port] [-p 10800]` */
export function vsLine(v: VirtualServer): string {
  const flags = v.flags.length ? ` -b ${v.flags.join(',')}` : '';
  const persist = v.timeout > 0 ? ` -p ${v.timeout}` : '';
  return `-A ${protocolSwitch(v.protocol)} ${joinHostPort(v.address.text, v.port)} -s ${v.scheduler}${flags}${persist}`;
}

export function rsLines(v: VirtualServer): string[] {
  const head = `-a ${protocolSwitch(v.protocol)} ${joinHostPort(v.address.text, v.port)} -r `;
  return v.realServers.map((r) => `${head}${joinHostPort(r.address.text, r.port)} -m -w ${r.weight}`);
}

export function setCreateLine(s: Pick<IpSet, 'name' | 'type' | 'family'>): string {
  if (s.type === 'bitmap:port') return `create ${s.name} bitmap:port range 0-65535`;
  return `create ${s.name} ${s.type} family ${s.family === 'IPv4' ? 'inet' : 'inet6'} hashsize 1024 maxelem 65536`;
}

export function jumpInsertLines(table: 'nat' | 'filter'): string[] {
  return JUMP_RULES.filter((j) => j.table === table).map((j) => `-I ${j.from} 1 ${jumpRuleSpec(j)}`);
}

export function renderIptables(pass: FamilyPass, templates: Templates, jumps: { nat: readonly string[]; filter: readonly string[] } = { nat: jumpInsertLines('nat'), filter: jumpInsertLines('filter') }): string {
  return compile(templates).iptables({
    nat: { chains: KUBE_CHAINS.nat, rules: pass.nat, jumps: jumps.nat },
    filter: { chains: KUBE_CHAINS.filter, rules: pass.filter, jumps: jumps.filter },
  });
}

export function renderIpvsadm(vss: readonly VirtualServer[], timeouts: DesiredState['timeouts'] | null, templates: Templates): string {
  const set = timeouts && (timeouts.tcp > 0 || timeouts.tcpfin > 0 || timeouts.udp > 0) ? timeouts : null;
  // One flat list of lines: each virtual server's -A line followed by its -a lines.
  const lines: string[] = [];
  for (let i = 0; i < vss.length; i++) {
    const v = vss[i]!;
    lines.push(vsLine(v));
    const rs = rsLines(v);
    for (let j = 0; j < rs.length; j++) lines.push(rs[j]!);
  }
  return compile(templates).ipvsadm({ timeouts: set, services: lines });
}

export function renderIpset(sets: readonly IpSet[], templates: Templates): string {
  return compile(templates).ipset({ sets: sets.map((s) => ({ create: setCreateLine(s), adds: s.entries.map((e) => `add ${s.name} ${e}`) })) });
}

/**
 * The artifact files, each rendered when first read. `plan -f` diffs the model itself and reads
 * only the iptables files: at 10k Services rendering ipvsadm.restore and ipset.restore (and
 * hashing them for the manifest) was ~0.2 s of a plan that never prints them (issue #5).
 * compile, apply and `plan --out` read every file, so for them nothing changes.
 */
export function renderArtifacts(state: DesiredState, templates: Templates): Artifacts {
  const v4 = state.passes.find((p) => p.family === 'IPv4')!;
  const v6 = state.passes.find((p) => p.family === 'IPv6');
  const out = {};
  lazyField(out, 'ipvsadm.restore', () => renderIpvsadm(state.virtualServers, state.timeouts, templates));
  lazyField(out, 'ipset.restore', () => renderIpset(state.passes.flatMap((p) => p.sets), templates));
  lazyField(out, 'iptables.restore', () => renderIptables(v4, templates));
  if (v6) lazyField(out, 'ip6tables.restore', () => renderIptables(v6, templates));
  return out as Artifacts;
}

/** An enumerable property computed on first read, then stored as a plain value. */
function lazyField(o: object, key: string, make: () => string): void {
  Object.defineProperty(o, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = make();
      Object.defineProperty(o, key, { value, enumerable: true, writable: false, configurable: false });
      return value;
    },
  });
}
