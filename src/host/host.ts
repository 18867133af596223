/**
 * The one narrow seam between ipvsc and the kernel (kube-proxy's per-tool interfaces, knftables'
 * Fake, publint's Vfs). Everything that touches the node goes through a Host:
 * LiveHost runs the real tools (host/run-process.ts: argv arrays, payloads on stdin, never a shell);
 * RecordedHost reads a state directory and records the commands it is asked to run.
 */
import type { StateFile, StateSnapshot } from '../state/snapshot.js';
import type { LiveVirtualServer } from '../state/types.js';

/** The tools ipvsc may run; nothing else is ever executed. */
export type Tool = 'ipvsadm' | 'ipset' | 'iptables' | 'ip6tables' | 'iptables-save' | 'ip6tables-save' | 'iptables-restore' | 'ip6tables-restore' | 'ip' | 'sysctl' | 'uname' | 'cat';

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

/**
 * Part of the node's state, for apply's read-back of what its steps touched. A host returns at
 * least what was asked for, and may return more (a recorded host returns whole files).
 */
export interface StateQuery {
  /** The state files to read; a missing tool or object still reads as an absent file. */
  readonly files: readonly StateFile[];
  /**
   * With `ipvsadm.list`: only these virtual services, one `ipvsadm -Ln -t|-u|--sctp-service
   * VIP:PORT` each, concatenated (a service that does not exist is left out).
   */
  readonly ipvsServices?: readonly Pick<LiveVirtualServer, 'protocol' | 'address' | 'port'>[];
  /**
   * With `ipvsadm.list` and no `ipvsServices`: the whole table may be read from `/proc/net/ip_vs`
   * (one read, not one netlink request per service) and returned as `ipvsadm.save`. It shows
   * neither scheduler flags nor persistence engines (state/proc-ip-vs.ts): only for reads that
   * need neither.
   */
  readonly ipvsFromProc?: boolean;
  /** With `ipset.save`: only these sets (`ipset save NAME` each; a missing set is left out). */
  readonly ipsets?: readonly string[];
  /**
   * With `ipset.save`: also these entries of these sets, as `ipset save` would print them: the
   * set's `create` line from `ipset list -t NAME`, an `add` line for each entry `ipset test`
   * finds (a missing set is left out, a missing entry too).
   */
  readonly ipsetEntries?: readonly { readonly set: string; readonly entries: readonly string[] }[];
  /**
   * With `ipset.save` and `ipsets`: sets an `ipset restore` that exited 0 has just filled with
   * these entries (created, or rebuilt and swapped in), each one kernel element as the kernel
   * prints it (parse-ipset.ts isOneKernelElement): apply's read-back only. Each is read with
   * `ipset list -t NAME`; when the kernel counts as many entries as are listed here, the set
   * reads as its `create` line and these entries (every one was added, so there is no other),
   * else whole with `ipset save NAME`. A missing set is left out.
   */
  readonly ipsetsFilled?: readonly { readonly set: string; readonly entries: readonly string[] }[];
  /**
   * With `kube-ipvs0.addr`: only these addresses (`ip -o addr show dev kube-ipvs0 to ADDR/LEN`
   * each); the file is still absent when the link is.
   */
  readonly addresses?: readonly string[];
  /** With `iptables.save` / `ip6tables.save`: only these tables (`iptables-save -t TABLE` each). */
  readonly tables?: readonly string[];
}

export interface Host {
  /**
   * Reads the node's state as tool outputs (the files of a state directory): what a plan needs
   * (a live host reads the IPVS table once, as ipvsadm.list; a recorded host returns all it has),
   * or the part a query names. Throws when a narrowed read fails for another reason than absence.
   */
  readState(query?: StateQuery): Promise<StateSnapshot>;
  run(cmd: Command): Promise<CommandResult>;
}

export const commandText = (c: Command): string =>
  [c.tool, ...c.args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))].join(' ');
