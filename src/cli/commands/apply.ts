import type { ParsedArgs } from '../args.js';
import type { Io } from '../context.js';
import { UsageError } from '../../diag/diagnostic.js';

export function runApply(_args: ParsedArgs, _io: Io): Promise<number> {
  return Promise.reject(new UsageError('apply is not available yet'));
}
