/** Mistyped commands and flags: a "did you mean" hint, worked out after parsing (args.ts loads no ajv). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../../helpers/run-cli.js';

test('a mistyped command or flag gets the closest name; a far one the generic hint', async () => {
  const cmd = await runCli(['compil']);
  assert.is(cmd.code, 1);
  assert.is(cmd.stderr, 'error: unknown command "compil"\n  hint: did you mean compile?\n');
  const flag = await runCli(['plan', '--hostnme-override', 'x']);
  assert.is(flag.stderr, 'error: unknown flag --hostnme-override\n  hint: did you mean --hostname-override?\n');
  const far = await runCli(['plan', '--zzzzzzzzzz']);
  assert.is(far.stderr, 'error: unknown flag --zzzzzzzzzz\n  hint: run ipvsc help for the list of flags\n');
});

test.run();
