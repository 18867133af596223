/** Diagnostics to stderr, as text or (--json) JSON; kept apart from the compiler so plan and apply load fast. */
import type { Diagnostic } from '../diag/diagnostic.js';
import { formatDiagnostics, diagnosticsToJson } from '../diag/format.js';
import type { ParsedArgs } from './args.js';
import { flagSet } from './args.js';
import type { Io } from './context.js';

export function printDiagnostics(diags: readonly Diagnostic[], args: ParsedArgs, io: Io): void {
  if (flagSet(args, 'json')) {
    if (diags.length) io.stderr(diagnosticsToJson(diags));
    return;
  }
  if (diags.length) io.stderr(formatDiagnostics(diags));
}
