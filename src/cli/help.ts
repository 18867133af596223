/** The help text, generated from the flag tables so it cannot drift from what is accepted. */
import { KUBE_PROXY_FLAGS } from '../config/flags.js';
import { OWN_FLAGS } from './args.js';

export function helpText(version: string): string {
  const own = columns(OWN_FLAGS.map((f) => [`  ${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ' VALUE' : ''}`, f.help]));
  const kp = columns(KUBE_PROXY_FLAGS.map((f) => [`  --${f.name}${f.kind === 'bool' ? '' : ' VALUE'}`, f.help]));
  return `ipvsc ${version}: kube-proxy's IPVS mode as a declarative compiler

Usage:
  ipvsc compile  -f INPUT... [flags] -o DIR     write ipvsadm.restore, ipset.restore, iptables.restore
                                                (+ ip6tables.restore) and manifest.json
  ipvsc validate -f INPUT... [flags]            check the inputs, write nothing
  ipvsc plan     -f INPUT... [--state DIR]      show what apply would change on this node
  ipvsc apply    -f INPUT... | PLANFILE         change the node, atomically, with rollback
  ipvsc plan|apply --destroy [--config FILE]    remove everything ipvsc owns (kube-proxy --cleanup)
  ipvsc state save DIR                          save this node's state (ipvsadm, ipset, iptables…)
  ipvsc version

Exit codes: 0 ok / no changes, 1 invalid input, 2 changes (plan --detailed-exitcode,
compile --check), 3 apply failed (rolled back), 70 internal error.

ipvsc flags:
${own}

kube-proxy flags (same names, defaults and meaning as kube-proxy):
${kp}
`;
}

/** Flag and help text in two columns: the help starts two spaces after the longest flag. */
function columns(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, help]) => flag.padEnd(width) + help).join('\n');
}
