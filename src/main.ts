/**
 * The ipvsc command: parses the command line, runs one command, and turns every outcome into an
 * exit code. The one top-level catch: user mistakes (UsageError) exit 1 with a message, anything
 * else is a bug and exits 70 with a request to report it; never a stack trace for a user mistake.
 */
import { UnknownWordError, parseArgs } from './cli/args.js';
import type { Io } from './cli/context.js';
import { EXIT, ipvscVersion, processIo } from './cli/context.js';
import { helpText } from './cli/help.js';
import { UsageError } from './diag/diagnostic.js';

export async function main(argv: readonly string[], rawIo: Io = processIo()): Promise<number> {
  // stdin is read once and kept: a command may compile its inputs twice (--all-nodes, a
  // --refresh=changed that falls back to a full refresh), and a second read of `-f -` would see
  // an empty input, a plan that deletes everything.
  let stdin: Buffer | undefined;
  const io: Io = { ...rawIo, readStdin: () => (stdin ??= rawIo.readStdin()) };
  try {
    const args = parseArgs(argv);
    switch (args.command) {
      // Commands are loaded on demand: compile never pays for diff or the plan code.
      case 'compile':
        return (await import('./cli/commands/compile.js')).runCompile(args, io);
      case 'validate':
        return (await import('./cli/commands/validate.js')).runValidate(args, io);
      case 'plan':
        return await (await import('./cli/commands/plan.js')).runPlan(args, io);
      case 'apply':
        return await (await import('./cli/commands/apply.js')).runApply(args, io);
      case 'state':
        return await (await import('./cli/commands/state.js')).runState(args, io);
      case 'version':
        io.stdout(`ipvsc ${ipvscVersion()}\n`);
        return EXIT.ok;
      case 'help':
        io.stdout(helpText(ipvscVersion()));
        return EXIT.ok;
    }
  } catch (thrown) {
    const e = thrown instanceof UnknownWordError ? await thrown.withSuggestion() : thrown;
    if (e instanceof UsageError) {
      io.stderr(`error: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
      return EXIT.invalid;
    }
    const err = e as Error;
    io.stderr(`internal error: ${err?.message ?? String(e)}\nThis is a bug in ipvsc; please report it with the command line and this trace:\n${err?.stack ?? ''}\n`);
    return EXIT.internal;
  }
}
