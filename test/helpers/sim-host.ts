/**
 * A node for apply tests without a kernel: it answers reads from one recorded state directory
 * (RecordedHost's query semantics) and moves to another state after a given number of mutating
 * commands, as a kernel would after the steps. Every read and command is recorded.
 */
import { join } from 'node:path';
import type { Command, CommandResult, Host, StateQuery } from '../../src/host/host.js';
import { RecordedHost, readStateDir } from '../../src/host/recorded-host.js';
import type { StateSnapshot } from '../../src/state/snapshot.js';

export const PLANS = join(import.meta.dirname, '..', 'golden', 'plans');
export const liveOf = (plansCase: string): StateSnapshot => readStateDir(join(PLANS, plansCase, 'live'));

export class SimHost implements Host {
  readonly commands: Command[] = [];
  readonly reads: (StateQuery | undefined)[] = [];
  /** `run TOOL` and `read FILES` (`read *` for a full read), in order. */
  readonly events: string[] = [];
  private mutating = 0;
  private current: RecordedHost;

  /**
   * `states(n)`: the node's state after n mutating commands (n = 0: before any); `failNarrowReads`
   * makes every read with a query fail, as a tool that cannot answer.
   */
  constructor(private readonly states: (n: number) => StateSnapshot, private readonly opts: { failNarrowReads?: boolean } = {}) {
    this.current = new RecordedHost(states(0));
  }

  readState(query?: StateQuery): Promise<StateSnapshot> {
    this.reads.push(query);
    this.events.push(`read ${query ? query.files.join(',') : '*'}`);
    if (query && this.opts.failNarrowReads) return Promise.reject(new Error('cannot read the node state: ipvsadm -Ln exited 2: injected'));
    return this.current.readState(query);
  }

  run(cmd: Command): Promise<CommandResult> {
    this.commands.push(cmd);
    this.events.push(`run ${cmd.tool}`);
    if (cmd.mutating) this.current = new RecordedHost(this.states(++this.mutating));
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' });
  }
}
