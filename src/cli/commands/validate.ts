/** `ipvsc validate`: every check compile does, nothing written. */
import { hasErrors } from '../../diag/diagnostic.js';
import type { ParsedArgs } from '../args.js';
import type { Io } from '../context.js';
import { EXIT } from '../context.js';
import { compileFromArgs } from '../inputs.js';
import { printDiagnostics } from '../print-diagnostics.js';

export function runValidate(args: ParsedArgs, io: Io): number {
  const res = compileFromArgs(args, io);
  printDiagnostics(res.diags, args, io);
  if (hasErrors(res.diags)) return EXIT.invalid;
  const n = res.inputs?.manifests.length ?? 0;
  io.stderr(`valid: ${n} object(s) in ${res.files.length} file(s), ${res.state?.virtualServers.length ?? 0} virtual server(s)\n`);
  return EXIT.ok;
}
