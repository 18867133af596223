/**
 * argv → a typed command line. Pure (Terraform's arguments/ package): no defaults that need the
 * environment, no side effects; unknown flags are usage errors with a "did you mean".
 */
import { UsageError } from '../diag/diagnostic.js';
import { KUBE_PROXY_FLAGS } from '../config/flags.js';
import type { FlagValue } from '../config/resolve-config.js';

export type Command = 'compile' | 'validate' | 'plan' | 'apply' | 'state' | 'version' | 'help';
const COMMANDS: readonly Command[] = ['compile', 'validate', 'plan', 'apply', 'state', 'version', 'help'];

interface OwnFlag {
  readonly name: string;
  readonly short?: string;
  readonly value: boolean;
  readonly repeat?: boolean;
  readonly help: string;
}

/** ipvsc's own flags (kube-proxy's are in config/flags.ts). */
export const OWN_FLAGS: readonly OwnFlag[] = [
  { name: 'filename', short: 'f', value: true, repeat: true, help: 'input file, directory (recursive *.yaml, *.yml, *.json) or - for stdin; repeatable' },
  { name: 'output-dir', short: 'o', value: true, help: 'compile: write the artifacts into this directory' },
  { name: 'node-ip', value: true, repeat: true, help: 'an address of the node (repeatable); default: the Node object\'s addresses' },
  { name: 'config', value: true, help: 'a KubeProxyConfiguration file (as kube-proxy --config)' },
  { name: 'check', value: false, help: 'compile: compare with the files in -o instead of writing; exit 2 when they differ' },
  { name: 'all-nodes', value: false, help: 'compile: one output folder per Node object, DIR/<node>/' },
  { name: 'json', value: false, help: 'machine-readable output (diagnostics, plan)' },
  { name: 'service-node-port-range', value: true, help: 'the API server\'s node port range, for warnings (default 30000-32767)' },
  { name: 'max-input-bytes', value: true, help: 'refuse inputs larger than this (default 268435456)' },
  { name: 'state', value: true, help: 'plan: read the node state from a saved directory instead of the kernel' },
  { name: 'from', value: true, help: 'plan/apply: use artifacts already compiled into this directory' },
  { name: 'detailed-exitcode', value: false, help: 'plan: exit 0 no changes, 1 error, 2 changes' },
  { name: 'out', value: true, help: 'plan: save the plan to this file, for ipvsc apply FILE' },
  { name: 'no-color', value: false, help: 'no colour (also NO_COLOR=1)' },
  { name: 'refresh', value: true, help: 'plan/apply: full (default) reads the whole node; changed reads only the keys whose desired state changed since the last apply' },
  { name: 'applied-dir', value: true, help: 'plan/apply: where the record of the last successful apply is kept (default /var/lib/ipvsc/applied)' },
  { name: 'destroy', value: false, help: 'plan/apply: remove everything ipvsc owns on the node (kube-proxy --cleanup; ownership as in any plan: --ipvs-exclude-cidrs, fwmark services and foreign state stay)' },
  { name: 'allow-empty', value: false, help: 'apply: allow an apply that deletes every virtual server (empty input)' },
  { name: 'dry-run', value: false, help: 'apply: print every command and payload, run none' },
  { name: 'auto-approve', value: false, help: 'apply: do not ask for confirmation on a terminal' },
  { name: 'lock-timeout', value: true, help: 'apply: how long to wait for another apply (default 60s)' },
  { name: 'lock-file', value: true, help: 'apply: lock file (default /run/ipvsc.lock)' },
  { name: 'help', short: 'h', value: false, help: 'show help' },
  { name: 'version', value: false, help: 'print the version' },
];

/** kube-proxy flags that choose what the process does rather than what it programs. */
const KUBE_PROXY_RUN_MODES: ReadonlyMap<string, string> = new Map([
  ['cleanup', 'ipvsc plan --destroy shows what kube-proxy --cleanup would remove, and ipvsc apply --destroy removes it'],
  ['init-only', 'ipvsc apply sets the sysctls and IPVS timeouts as part of every apply'],
]);

export interface ParsedArgs {
  readonly command: Command;
  readonly positionals: readonly string[];
  /** ipvsc's own flags: name → values in order. */
  readonly own: ReadonlyMap<string, readonly string[]>;
  readonly kubeProxy: readonly FlagValue[];
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const own = new Map<string, string[]>();
  const kubeProxy: FlagValue[] = [];
  let command: Command | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (a === '-' || !a.startsWith('-')) {
      if (command === undefined && a !== '-') {
        if (!(COMMANDS as readonly string[]).includes(a)) throw new UnknownWordError(`unknown command ${JSON.stringify(a)}`, a, COMMANDS, `commands: ${COMMANDS.join(', ')}`);
        command = a as Command;
      } else positionals.push(a);
      continue;
    }
    // --name=value, --name value, -f value, -fvalue, and Terraform's single-dash -out=FILE.
    let name: string;
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--')) {
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    } else if (a.length > 2 && (!OWN_FLAGS.some((f) => f.short === a[1]) || OWN_FLAGS.some((f) => f.name === (eq >= 0 ? a.slice(1, eq) : a.slice(1))))) {
      name = eq >= 0 ? a.slice(1, eq) : a.slice(1);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    } else {
      const f = OWN_FLAGS.find((x) => x.short === a[1]);
      if (!f) throw new UsageError(`unknown flag ${a}`, 'run ipvsc help for the list of flags');
      name = f.name;
      inline = a.length > 2 ? a.slice(2).replace(/^=/, '') : undefined;
    }
    const mine = OWN_FLAGS.find((f) => f.name === name);
    const kp = KUBE_PROXY_FLAGS.find((f) => f.name === name);
    if (!mine && !kp) {
      const mode = KUBE_PROXY_RUN_MODES.get(name);
      if (mode) throw new UsageError(`unknown flag --${name}: kube-proxy's --${name} is a run mode, not a setting`, mode);
      const all = [...OWN_FLAGS.map((f) => f.name), ...KUBE_PROXY_FLAGS.map((f) => f.name)];
      throw new UnknownWordError(`unknown flag --${name}`, name, all, 'run ipvsc help for the list of flags');
    }
    const takesValue = mine ? mine.value : kp!.kind !== 'bool';
    let value = inline;
    if (takesValue && value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag --${name} needs a value`);
      value = argv[++i]!;
    }
    if (mine) {
      if (!mine.value && value !== undefined && !['true', 'false'].includes(value)) throw new UsageError(`flag --${name} takes no value`);
      const list = own.get(name) ?? [];
      if (list.length > 0 && !mine.repeat) throw new UsageError(`flag --${name} given more than once`);
      list.push(value ?? 'true');
      own.set(name, list);
    } else kubeProxy.push({ name, value });
  }
  if (own.has('version')) command ??= 'version';
  if (own.has('help')) command = 'help';
  return { command: command ?? 'help', positionals, own, kubeProxy };
}

/**
 * A mistyped command or flag. Its "did you mean" is worked out on the way out (main): the edit
 * distance lives beside the schema validator, whose ajv only compiling should pay to load.
 */
export class UnknownWordError extends UsageError {
  constructor(message: string, readonly word: string, readonly options: readonly string[], fallbackHint: string) {
    super(message, fallbackHint);
  }

  async withSuggestion(): Promise<UsageError> {
    const { closest } = await import('../validate/check-schema.js');
    const c = closest(this.word, this.options);
    if (!c) return this;
    return new UsageError(this.message, `did you mean ${c.length > 1 && this.options.includes(c) && !COMMANDS.includes(c as Command) ? '--' : ''}${c}?`);
  }
}

export const flagValue = (p: ParsedArgs, name: string): string | undefined => p.own.get(name)?.at(-1);
export const flagValues = (p: ParsedArgs, name: string): readonly string[] => p.own.get(name) ?? [];
export const flagSet = (p: ParsedArgs, name: string): boolean => {
  const v = flagValue(p, name);
  return v !== undefined && v !== 'false';
};
