/**
 * A plan for people (grouped by subsystem, `+ ~ -`, colour on a terminal) and for pipelines
 * (`--json`, versioned by format_version). Pure.
 */
import type { Change, Plan, Subsystem } from './types.js';
import { isEmptyPlan } from './types.js';
import type { Touched } from './scope.js';

const SYMBOL = { create: '+', update: '~', delete: '-' } as const;
const COLOUR = { create: '\x1b[32m', update: '\x1b[33m', delete: '\x1b[31m' } as const;
const RESET = '\x1b[0m';
const TITLES: Record<Subsystem, string> = {
  sysctl: 'sysctls and IPVS timeouts',
  'kube-ipvs0': 'kube-ipvs0 (dummy link and its addresses)',
  ipset: 'ipsets',
  ipvs: 'IPVS virtual and real servers',
  iptables: 'iptables (kube-proxy chains and jumps)',
};
const ORDER: readonly Subsystem[] = ['sysctl', 'kube-ipvs0', 'ipset', 'ipvs', 'iptables'];

export function formatPlanText(plan: Plan, colour: boolean): string {
  const pieces: string[] = [];
  writePlanText(plan, colour, (s) => void pieces.push(s));
  return pieces.join('');
}

/** Lines per piece that writePlanText passes to `write`. */
const PIECE_LINES = 1024;

/**
 * formatPlanText, passed to `write` in pieces of PIECE_LINES lines: a full 10k-Service plan is
 * 8 MB in 140k lines, which then die young instead of all living until one join.
 */
export function writePlanText(plan: Plan, colour: boolean, write: (s: string) => void): void {
  const lines: string[] = [];
  const line = (s: string): void => {
    if (lines.push(s) < PIECE_LINES) return;
    write(lines.join('\n') + '\n');
    lines.length = 0;
  };
  const end = (): void => {
    if (lines.length) write(lines.join('\n') + '\n');
  };
  if (isEmptyPlan(plan)) {
    line(`No changes. Node ${plan.node || '(unnamed)'} matches the desired state.`);
    for (const d of plan.draining) line(`  draining: ${d}`);
    end();
    return;
  }
  line(`ipvsc will perform the following actions on node ${plan.node || '(unnamed)'}:`);
  line('');
  // One pass to group by subsystem (plan order kept within each).
  const bySubsystem = new Map<Subsystem, Change[]>(ORDER.map((sub) => [sub, []]));
  for (const c of plan.changes) bySubsystem.get(c.subsystem)?.push(c);
  for (const sub of ORDER) {
    const cs = bySubsystem.get(sub)!;
    if (cs.length === 0) continue;
    line(`# ${TITLES[sub]}`);
    // Creations/updates before deletions, as apply runs them.
    for (const c of cs) {
      const value = describe(c);
      const text = `  ${SYMBOL[c.action]} ${c.kind} ${c.key}${value ? ` ${value}` : ''}`;
      line((colour ? `${COLOUR[c.action]}${text}${RESET}` : text) + (c.origin ? `  (${c.origin})` : ''));
      if (c.detail) for (const d of c.detail) line(`      ${colour && /^[+-]/.test(d) ? `${d.startsWith('+') ? COLOUR.create : COLOUR.delete}${d}${RESET}` : d}`);
    }
    line('');
  }
  for (const d of plan.draining) line(`  draining (no change): ${d}`);
  line(`Plan: ${plan.summary.add} to add, ${plan.summary.change} to change, ${plan.summary.destroy} to destroy.`);
  end();
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function describe(c: Change): string {
  if (c.action === 'update' && c.before !== undefined && c.after !== undefined) return `${show(c.before)} → ${show(c.after)}`;
  if (c.kind === 'entry' || c.kind === 'address') return '';
  if (c.action === 'create' && c.after !== undefined) return `(${show(c.after)})`;
  return '';
}

/**
 * The JSON form (documented in the README: "Plan JSON"). `scope`: the keys a `--refresh=changed`
 * plan read; the plan then says so (`refresh`), since it cannot show drift outside them. A full
 * plan has no `refresh` field (an addition: format_version stays 1.0).
 */
export function planToJson(plan: Plan, scope?: Touched): object {
  return {
    format_version: plan.formatVersion,
    node: plan.node,
    state_digest: plan.stateDigest,
    ...(scope ? { refresh: refreshJson(scope) } : {}),
    summary: plan.summary,
    changes: plan.changes.map((c) => ({
      subsystem: c.subsystem,
      action: c.action,
      kind: c.kind,
      key: c.key,
      ...(c.before !== undefined ? { before: c.before } : {}),
      ...(c.after !== undefined ? { after: c.after } : {}),
      ...(c.origin ? { origin: c.origin } : {}),
      ...(c.detail ? { detail: c.detail } : {}),
    })),
    draining: plan.draining,
  };
}

/** What a `--refresh=changed` plan read of the node: every other key was taken as last applied. */
function refreshJson(t: Touched): object {
  const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
  return {
    mode: 'changed',
    read: {
      sysctls: sorted(t.sysctls),
      ipvs_timeouts: t.timeouts,
      kube_ipvs0_link: t.link,
      kube_ipvs0_addresses: sorted(t.addresses),
      virtual_services: sorted(t.ipvs.keys()),
      whole_sets: sorted([...t.ipsets].filter((n) => !t.entries.has(n))),
      set_entries: Object.fromEntries(sorted(t.entries.keys()).map((n) => [n, sorted(t.entries.get(n)!)])),
      iptables_tables: sorted(t.tables),
    },
  };
}
