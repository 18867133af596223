/**
 * Fault injection for the kernel tests (issue #6): wraps a Host and, at the k-th mutating
 * command, either fails it without running it (`fail-step=K`) or runs it and then kills the
 * process with SIGKILL (`kill-after-step=K`). Enabled only through IPVSC_TEST_FAULT, read by the
 * CLI; never active otherwise.
 */
import type { Command, CommandResult, Host, StateQuery } from './host.js';
import type { StateSnapshot } from '../state/snapshot.js';

export type Fault = { readonly kind: 'fail' | 'kill'; readonly step: number };

export function parseFault(spec: string | undefined): Fault | undefined {
  const m = spec ? /^(fail-step|kill-after-step)=(\d+)$/.exec(spec) : null;
  if (!m) return undefined;
  return { kind: m[1] === 'fail-step' ? 'fail' : 'kill', step: Number(m[2]) };
}

export class FaultHost implements Host {
  private mutating = 0;
  /** Rollback commands after an injected failure must run for real. */
  private fired = false;
  constructor(private readonly inner: Host, private readonly fault: Fault, private readonly kill: () => void) {}

  readState(query?: StateQuery): Promise<StateSnapshot> {
    return this.inner.readState(query);
  }

  async run(cmd: Command): Promise<CommandResult> {
    if (!cmd.mutating || this.fired) return this.inner.run(cmd);
    this.mutating++;
    if (this.mutating !== this.fault.step) return this.inner.run(cmd);
    this.fired = true;
    if (this.fault.kind === 'fail') return { exitCode: 1, stdout: '', stderr: `injected failure at mutating command ${this.fault.step} (IPVSC_TEST_FAULT)` };
    const r = await this.inner.run(cmd);
    this.kill();
    return r;
  }
}
