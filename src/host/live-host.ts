/**
 * The real node: the only module that starts processes (through run-process.ts), with argv arrays
 * and the payload on stdin; never a shell, never a command line built from rendered text.
 */
import { performance } from 'node:perf_hooks';
import { runProcess } from './run-process.js';
import type { Command, CommandResult, Host, StateQuery } from './host.js';
import { commandText } from './host.js';
import { readStateWith } from './read-state.js';
import type { StateSnapshot } from '../state/snapshot.js';
import type { Timings } from './timings.js';
import { NO_TIMINGS, sizeText } from './timings.js';

/** Tool → executable. `-w` waits for the xtables lock instead of failing. */
const BINARIES: Record<Command['tool'], string> = {
  ipvsadm: 'ipvsadm', ipset: 'ipset', iptables: 'iptables', ip6tables: 'ip6tables',
  'iptables-save': 'iptables-save', 'ip6tables-save': 'ip6tables-save',
  'iptables-restore': 'iptables-restore', 'ip6tables-restore': 'ip6tables-restore',
  ip: 'ip', sysctl: 'sysctl', uname: 'uname', cat: 'cat',
};

export class LiveHost implements Host {
  constructor(private readonly nodeName: string, private readonly env: Readonly<Record<string, string>> = {}, private readonly timings: Timings = NO_TIMINGS) {}

  readState(query?: StateQuery): Promise<StateSnapshot> {
    return readStateWith((c) => this.run(c), this.nodeName, query);
  }

  async run(cmd: Command): Promise<CommandResult> {
    if (!this.timings.enabled) return this.exec(cmd);
    const t0 = performance.now();
    const r = await this.exec(cmd);
    const stdin = cmd.input !== undefined ? ` <stdin ${sizeText(Buffer.byteLength(cmd.input))}>` : '';
    this.timings.note(`  run ${commandText({ ...cmd, args: cmd.args.slice(0, 6) })}${stdin} -> exit ${r.exitCode}, ${sizeText(r.stdout.length)}`, performance.now() - t0);
    return r;
  }

  private exec(cmd: Command): Promise<CommandResult> {
    return runProcess(BINARIES[cmd.tool], cmd.args, {
      ...(cmd.input !== undefined ? { input: cmd.input } : {}),
      env: { ...process.env, LC_ALL: 'C', ...this.env },
    });
  }
}
