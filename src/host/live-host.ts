/**
 * The real node: the only module that starts processes. execa with argv arrays and the payload
 * on stdin; never a shell, never a command line built from rendered text.
 */
import { execa } from 'execa';
import type { Command, CommandResult, Host } from './host.js';
import { readStateWith } from './read-state.js';
import type { StateSnapshot } from '../state/snapshot.js';

/** Tool → executable. `-w` waits for the xtables lock instead of failing. */
const BINARIES: Record<Command['tool'], string> = {
  ipvsadm: 'ipvsadm', ipset: 'ipset', iptables: 'iptables', ip6tables: 'ip6tables',
  'iptables-save': 'iptables-save', 'ip6tables-save': 'ip6tables-save',
  'iptables-restore': 'iptables-restore', 'ip6tables-restore': 'ip6tables-restore',
  ip: 'ip', sysctl: 'sysctl', uname: 'uname',
};

export class LiveHost implements Host {
  constructor(private readonly nodeName: string, private readonly env: Readonly<Record<string, string>> = {}) {}

  readState(): Promise<StateSnapshot> {
    return readStateWith((c) => this.run(c), this.nodeName);
  }

  async run(cmd: Command): Promise<CommandResult> {
    try {
      const r = await execa(BINARIES[cmd.tool], [...cmd.args], {
        ...(cmd.input !== undefined ? { input: cmd.input } : { stdin: 'ignore' }),
        reject: false,
        shell: false,
        timeout: 120_000,
        env: { LC_ALL: 'C', ...this.env },
        extendEnv: true,
        stripFinalNewline: false,
      });
      return { exitCode: r.exitCode ?? (r.failed ? 127 : 0), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? (r.failed && !r.exitCode ? r.message : '')) };
    } catch (e) {
      return { exitCode: 127, stdout: '', stderr: (e as Error).message };
    }
  }
}
