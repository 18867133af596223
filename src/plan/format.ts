/**
 * A plan for people (grouped by subsystem, `+ ~ -`, colour on a terminal) and for pipelines
 * (`--json`, versioned by format_version). Pure.
 */
import type { Change, Plan, Subsystem } from './types.js';
import { isEmptyPlan } from './types.js';

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
  const paint = (c: Change, s: string): string => (colour ? `${COLOUR[c.action]}${s}${RESET}` : s);
  const lines: string[] = [];
  if (isEmptyPlan(plan)) {
    lines.push(`No changes. Node ${plan.node || '(unnamed)'} matches the desired state.`);
    for (const d of plan.draining) lines.push(`  draining: ${d}`);
    return lines.join('\n') + '\n';
  }
  lines.push(`ipvsc will perform the following actions on node ${plan.node || '(unnamed)'}:`, '');
  for (const sub of ORDER) {
    const cs = plan.changes.filter((c) => c.subsystem === sub);
    if (cs.length === 0) continue;
    lines.push(`# ${TITLES[sub]}`);
    // Creations/updates before deletions, as apply runs them.
    for (const c of cs) {
      const value = describe(c);
      lines.push(paint(c, `  ${SYMBOL[c.action]} ${c.kind} ${c.key}${value ? ` ${value}` : ''}`) + (c.origin ? `  (${c.origin})` : ''));
      for (const d of c.detail ?? []) lines.push(`      ${colour && /^[+-]/.test(d) ? `${d.startsWith('+') ? COLOUR.create : COLOUR.delete}${d}${RESET}` : d}`);
    }
    lines.push('');
  }
  for (const d of plan.draining) lines.push(`  draining (no change): ${d}`);
  lines.push(`Plan: ${plan.summary.add} to add, ${plan.summary.change} to change, ${plan.summary.destroy} to destroy.`);
  return lines.join('\n') + '\n';
}

function describe(c: Change): string {
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  if (c.action === 'update' && c.before !== undefined && c.after !== undefined) return `${show(c.before)} → ${show(c.after)}`;
  if (c.kind === 'entry' || c.kind === 'address') return '';
  if (c.action === 'create' && c.after !== undefined) return `(${show(c.after)})`;
  return '';
}

/** The JSON form (documented in the README: "Plan JSON"). */
export function planToJson(plan: Plan): object {
  return {
    format_version: plan.formatVersion,
    node: plan.node,
    state_digest: plan.stateDigest,
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
