/**
 * The real node: the only module that starts processes (through run-process.ts), with argv arrays
 * and the payload on stdin; never a shell, never a command line built from rendered text.
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
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
    // Kernel files and `uname -r` are read in this process, as the tools would print them: no
    // process to start (each costs 0.2-0.6 s under the VM's TCG: a `--refresh=changed` apply
    // reads the boot id first, issue #5), and /proc/net/ip_vs (4 MB at 10k Services, the last
    // read of a full apply) comes in one go instead of through a pipe that fills whenever this
    // thread is busy. The kernel builds a /proc file inside each read() anyway.
    if (cmd.tool === 'cat' && cmd.input === undefined) return Promise.resolve(catFiles(cmd.args));
    if (cmd.tool === 'uname' && cmd.args.length === 1 && cmd.args[0] === '-r') return Promise.resolve({ exitCode: 0, stdout: `${release()}\n`, stderr: '' });
    return runProcess(BINARIES[cmd.tool], cmd.args, {
      ...(cmd.input !== undefined ? { input: cmd.input } : {}),
      env: { ...process.env, LC_ALL: 'C', ...this.env },
    });
  }
}

/** `cat FILE...`: the files' text, or exit 1 with cat's message for each that cannot be read. */
export function catFiles(paths: readonly string[]): CommandResult {
  let stdout = '';
  let stderr = '';
  for (const p of paths) {
    try {
      stdout += readFileSync(p, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      stderr += `cat: ${p}: ${STRERROR[err.code ?? ''] ?? err.message}\n`;
    }
  }
  return { exitCode: stderr === '' ? 0 : 1, stdout, stderr };
}

/** strerror() of the errors a read of a kernel file meets, as cat prints them. */
const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory', EACCES: 'Permission denied', EISDIR: 'Is a directory', EPERM: 'Operation not permitted', EIO: 'Input/output error',
  ENOTDIR: 'Not a directory', ELOOP: 'Too many levels of symbolic links', ENXIO: 'No such device or address', EINVAL: 'Invalid argument',
};
