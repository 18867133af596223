/**
 * A node recorded as a state directory (plain tool outputs; README "State directory"). Plans run
 * against it without root; commands are recorded, not run, so tests and --dry-run can show them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, CommandResult, Host, StateQuery } from './host.js';
import { STATE_FILES } from '../state/snapshot.js';
import type { StateFile, StateSnapshot } from '../state/snapshot.js';
import { UsageError } from '../diag/diagnostic.js';

export function readStateDir(dir: string): StateSnapshot {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new UsageError(`cannot read state directory ${dir}: ${(e as Error).message}`, 'create it with ipvsc state save DIR, or by hand (README: State directory)');
  }
  const snap: StateSnapshot = {};
  for (const n of names) if (n in STATE_FILES) snap[n as StateFile] = readFileSync(join(dir, n), 'utf8');
  return snap;
}

export class RecordedHost implements Host {
  readonly commands: Command[] = [];
  constructor(private readonly snapshot: StateSnapshot) {}

  static fromDir(dir: string): RecordedHost {
    return new RecordedHost(readStateDir(dir));
  }

  /**
   * The recorded files; with a query, only the files it names, whole (more than a narrowed live
   * read returns, which a query allows). Virtual services asked for from `ipvsadm.list` come with
   * `ipvsadm.save` too: a state directory may hold only the save format.
   */
  readState(query?: StateQuery): Promise<StateSnapshot> {
    if (!query) return Promise.resolve(this.snapshot);
    const files = new Set<StateFile>(query.files);
    if (query.ipvsServices && files.has('ipvsadm.list')) files.add('ipvsadm.save');
    const out: StateSnapshot = {};
    for (const f of files) if (this.snapshot[f] !== undefined) out[f] = this.snapshot[f];
    return Promise.resolve(out);
  }

  run(cmd: Command): Promise<CommandResult> {
    this.commands.push(cmd);
    return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' });
  }
}
