/**
 * DesiredState → the artifact files (docs/artifacts.md). Pure: templates arrive as text (and,
 * after a build, as precompiled specs).
 *
 * The templates only join ready-made lines (kube-proxy's LineBuffer idea): every word of every
 * line is built here from validated, typed values, so no input string reaches an artifact
 * unchecked. Handlebars is compiled with noEscape (it would turn `"` into `&quot;` inside
 * iptables comments) and strict (a missing field throws instead of rendering nothing).
 *
 * Long runs of lines (a set's entries, a virtual server's real servers, a chain's rules) go
 * through the `lines` helper rather than `{{#each}}`: at 10k Services the per-item block calls
 * of `each` cost ~3x the join (issue #5), and the templates still show every section's layout.
 *
 * Compiling the three templates cost ~75 ms of every compile, and loading handlebars with its
 * compiler another ~80 ms (issue #5). `npm run build` therefore precompiles them
 * (scripts/build-templates.mjs → dist/templates.generated.cjs, stamped with the digest of the
 * template texts), and the templates then need only handlebars' small runtime. The specs are
 * used only when that digest matches the texts read from templates/; otherwise (no build, or an
 * edited template) the texts are compiled here with the full handlebars, loaded only then.
 * Measured on the loaded 2-CPU host (medians, interleaved runs): a small compile 0.29 → 0.24 s,
 * 1k Services 0.49 → 0.45 s; the runtime itself still costs ~25 ms to load.
 */
import { createHash } from 'node:crypto';
import type HandlebarsNs from 'handlebars';
import type { TemplateName } from '../load/read-assets.js';
import { joinHostPort } from '../model/net.js';
import { JUMP_RULES, KUBE_CHAINS, jumpRuleSpec } from '../model/names.js';
import type { Protocol } from '../model/names.js';
import type { DesiredState, FamilyPass, IpSet, VirtualServer } from '../model/types.js';
import { lazyRequire } from '../util/lazy-require.js';

/**
 * The module `npm run build` generated (read-assets.ts readPrebuiltTemplates): one precompiled
 * spec per template file name, and `__templatesDigest`.
 */
export type PrebuiltTemplates = Readonly<Record<string, unknown>>;

/**
 * The template texts read from templates/, and the build's precompiled specs when there are
 * any. A plain record of texts is Templates too: it is compiled at first use.
 */
export type Templates = Readonly<Record<TemplateName, string>> & { readonly prebuilt?: PrebuiltTemplates | undefined };

export interface Artifacts {
  readonly 'ipvsadm.restore': string;
  readonly 'ipset.restore': string;
  readonly 'iptables.restore': string;
  readonly 'ip6tables.restore'?: string;
}

/** The template each artifact is rendered with. */
const TEMPLATE_OF = { ipvsadm: 'ipvsadm.restore.hbs', ipset: 'ipset.restore.hbs', iptables: 'iptables.restore.hbs' } as const satisfies Record<string, TemplateName>;
type Kind = keyof typeof TEMPLATE_OF;

export interface CompiledTemplates extends Record<Kind, HandlebarsTemplateDelegate> {
  /** prebuilt: the build's specs on handlebars/runtime; compiled: the texts, compiled now. */
  readonly source: 'prebuilt' | 'compiled';
}

/** Same options on both paths: scripts/build-templates.mjs precompiles with these. */
// Frozen, and handed to handlebars as copies: its compile adds fields (data: true) to the options object.
export const TEMPLATE_OPTIONS = Object.freeze({ noEscape: true, strict: true } as const);

/**
 * What scripts/build-templates.mjs stamps into the prebuilt module: the template texts, the
 * compile options (they are compiled into the specs) and the handlebars version that built them
 * (a spec from 4.7 needs 4.7's runtime helpers, though 4.3–4.7 share one compiler revision).
 */
export function templatesDigest(texts: Readonly<Record<TemplateName, string>>, handlebarsVersion: string): string {
  const h = createHash('sha256');
  h.update(`handlebars ${handlebarsVersion}\0${JSON.stringify(TEMPLATE_OPTIONS)}\0`);
  for (const name of Object.values(TEMPLATE_OF)) h.update(`${name}\0${texts[name]}\0`);
  return h.digest('hex');
}

// Both loaded on first use, never both: the runtime (22 modules) for the prebuilt specs, the
// full package (45 modules: parser, compiler, source-map) only when the texts must be compiled
// here. In-process: runtime + specs ~30 ms, full load + compile + first render ~100 ms.
const handlebarsRuntime = lazyRequire<typeof HandlebarsNs>('handlebars/runtime');
const handlebarsFull = lazyRequire<typeof HandlebarsNs>('handlebars');

const compiledCache = new WeakMap<Templates, CompiledTemplates>();

/** `{{lines xs}}`: each string of xs followed by a newline. */
const linesHelper = (xs: readonly string[]): string => (xs.length ? xs.join('\n') + '\n' : '');

/**
 * The template functions: the prebuilt specs when they were built from exactly these texts,
 * else the texts compiled now. Cached per Templates value.
 */
export function compileTemplates(t: Templates): CompiledTemplates {
  let c = compiledCache.get(t);
  if (!c) {
    const kinds = Object.keys(TEMPLATE_OF) as Kind[];
    const p = t.prebuilt;
    // Specs built by another handlebars (upgraded in node_modules without a rebuild) or with
    // other options are compiled from the texts: the stamp covers both, and each spec's own
    // compiler revision must still be the runtime's (hb.template would throw).
    const rt = p !== undefined ? (handlebarsRuntime() as unknown as { VERSION: string; COMPILER_REVISION: number }) : undefined;
    const usable = p !== undefined && rt !== undefined && p['__templatesDigest'] === templatesDigest(t, rt.VERSION)
      && kinds.every((k) => (p[TEMPLATE_OF[k]] as { compiler?: unknown[] } | null | undefined)?.compiler?.[0] === rt.COMPILER_REVISION);
    const hb = (usable ? handlebarsRuntime() : handlebarsFull()).create();
    hb.registerHelper('lines', linesHelper);
    const make = usable
      ? (k: Kind) => hb.template(p[TEMPLATE_OF[k]] as TemplateSpecification)
      : (k: Kind) => hb.compile(t[TEMPLATE_OF[k]], { ...TEMPLATE_OPTIONS });
    c = { ipvsadm: make('ipvsadm'), ipset: make('ipset'), iptables: make('iptables'), source: usable ? 'prebuilt' : 'compiled' };
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
  return compileTemplates(templates).iptables({
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
  return compileTemplates(templates).ipvsadm({ timeouts: set, services: lines });
}

export function renderIpset(sets: readonly IpSet[], templates: Templates): string {
  return compileTemplates(templates).ipset({ sets: sets.map((s) => ({ create: setCreateLine(s), adds: s.entries.map((e) => `add ${s.name} ${e}`) })) });
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
