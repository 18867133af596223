/**
 * Golden plan cases: every folder under plans/ holds a cluster (input/), a node's state as the
 * real tools print it (live/, see plans/README.md) and the expected plan (expected/). The runner
 * plans input/ against live/ through the CLI, as text (--no-color) and as --json, and compares
 * both and the --detailed-exitcode exit code (0 = no changes, 2 = changes) with expected/.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCases, readFlags, readText } from '../helpers/cases.js';
import { runCli } from '../helpers/run-cli.js';

const ROOT = join(import.meta.dirname, 'plans');
const cases = listCases(ROOT);
/** Guard against an empty run: uvu exits 0 when nothing is found. */
const EXPECTED_AT_LEAST = 16;
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
/**
 * state_digest cannot be reviewed by hand: expected/plan.json holds `"<digest>"`; the runner checks
 * the form, records the digest and checks its meaning below (same owned state ⇔ same digest).
 */
const DIGEST = /"state_digest": "(sha256:[0-9a-f]{64})"/;
const digests = new Map<string, string>();
const maskDigest = (json: string): string => json.replace(DIGEST, '"state_digest": "<digest>"');

test('finds the golden plan cases', () => {
  assert.ok(cases.length >= EXPECTED_AT_LEAST, `found ${cases.length} cases, expected at least ${EXPECTED_AT_LEAST}`);
});

for (const c of cases) {
  test(`plan ${c.name}`, async () => {
    const expected = join(c.dir, 'expected');
    const live = join(c.dir, 'live');
    // git keeps no empty directory: an empty node may have no live/ at all.
    if (!existsSync(live)) mkdirSync(live, { recursive: true });
    const argv = ['plan', '-f', join(c.dir, 'input'), '--state', live, ...readFlags(c.dir), '--detailed-exitcode'];
    const text = await runCli([...argv, '--no-color']);
    const json = await runCli([...argv, '--json']);
    const wantCode = readText(join(expected, 'exit-code'));
    if (UPDATE && wantCode === undefined) {
      mkdirSync(expected, { recursive: true });
      writeFileSync(join(expected, 'exit-code'), `${text.code}\n`);
      writeFileSync(join(expected, 'plan.txt'), text.stdout);
      writeFileSync(join(expected, 'plan.json'), maskDigest(json.stdout));
    }
    const want = {
      code: readText(join(expected, 'exit-code')),
      txt: readText(join(expected, 'plan.txt')),
      json: readText(join(expected, 'plan.json')),
    };
    assert.ok(want.code !== undefined && want.txt !== undefined && want.json !== undefined, `${c.name}: expected/ needs exit-code, plan.txt and plan.json`);
    const code = Number(want.code.trim());
    assert.ok(code === 0 || code === 2, `${c.name}/expected/exit-code must be 0 or 2`);
    assert.is(text.code, code, `${c.name}: exit ${text.code}, expected ${code}\n${text.stderr}`);
    assert.is(json.code, code, `${c.name} (--json): exit ${json.code}, expected ${code}\n${json.stderr}`);
    assert.fixture(text.stdout, want.txt, `${c.name}/plan.txt`);
    const digest = DIGEST.exec(json.stdout)?.[1];
    assert.ok(digest, `${c.name}: no sha256 state_digest in the --json output`);
    digests.set(c.name, digest);
    assert.fixture(maskDigest(json.stdout), want.json, `${c.name}/plan.json`);
    // The JSON must agree with the exit code and be well-formed.
    const parsed = JSON.parse(json.stdout) as { changes: unknown[] };
    assert.is(parsed.changes.length > 0, code === 2, `${c.name}: changes in plan.json vs exit code`);
  });
}

const digestOf = (prefix: string): string | undefined => [...digests].find(([n]) => n.startsWith(prefix))?.[1];

test('state_digest changes with the owned state', () => {
  // 02 and 08 differ only in one real server's weight (1 vs 0).
  assert.ok(digestOf('02-') && digestOf('08-'));
  assert.is.not(digestOf('02-'), digestOf('08-'));
});

// The saved-plan digest covers only owned state: case 13 is case 02 plus foreign state (Docker's
// chains, other sets and virtual servers), so a foreign change never makes a saved plan stale.
test('state_digest ignores foreign state', () => {
  assert.is(digestOf('13-'), digestOf('02-'));
});

test.run();
