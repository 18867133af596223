/**
 * The one narrow seam between ipvsc and the kernel (kube-proxy's per-tool interfaces, knftables'
 * Fake, publint's Vfs). Everything that touches the node goes through a Host:
 * LiveHost runs the real tools (execa, argv arrays, payloads on stdin, never a shell);
 * RecordedHost reads a state directory and records the commands it is asked to run.
 */
import type { StateSnapshot } from '../state/snapshot.js';

/** The tools ipvsc may run; nothing else is ever executed. */
export type Tool = 'ipvsadm' | 'ipset' | 'iptables' | 'ip6tables' | 'iptables-save' | 'ip6tables-save' | 'iptables-restore' | 'ip6tables-restore' | 'ip' | 'sysctl' | 'uname';

export interface Command {
  readonly tool: Tool;
  readonly args: readonly string[];
  /** Payload on stdin (restore files). */
  readonly input?: string;
  /** Whether it changes the node (false for reads): dry-run prints these, idempotence counts them. */
  readonly mutating: boolean;
}

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Host {
  /** Reads the node's state as tool outputs (the files of a state directory). */
  readState(): Promise<StateSnapshot>;
  run(cmd: Command): Promise<CommandResult>;
}

export const commandText = (c: Command): string =>
  [c.tool, ...c.args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))].join(' ');
