/** `ipvsc state save DIR`: capture this node's state as plain tool outputs (README "State directory"). */
import { resolve } from 'node:path';
import { UsageError } from '../../diag/diagnostic.js';
import type { ParsedArgs } from '../args.js';
import type { Io } from '../context.js';
import { EXIT } from '../context.js';
import { hostFor } from './plan.js';
import { writeFilesAtomically } from '../write-outputs.js';
import type { Host } from '../../host/host.js';
import { EVERY_FILE } from '../../host/read-state.js';

export async function runState(args: ParsedArgs, io: Io, host?: Host): Promise<number> {
  const [verb, dir] = args.positionals;
  if (verb !== 'save' || !dir) throw new UsageError('usage: ipvsc state save DIR');
  const nodeName = (args.kubeProxy.find((f) => f.name === 'hostname-override')?.value ?? '').toLowerCase();
  const h = host ?? await hostFor({ ...args, own: new Map([...args.own].filter(([k]) => k !== 'state')) }, io, nodeName);
  const snap = await h.readState({ files: EVERY_FILE });
  const files = Object.fromEntries(Object.entries(snap).filter(([, v]) => v !== undefined)) as Record<string, string>;
  writeFilesAtomically(resolve(io.cwd, dir), files, [], 0o600);
  io.stderr(`saved ${Object.keys(files).length} files to ${dir}\n`);
  return EXIT.ok;
}
