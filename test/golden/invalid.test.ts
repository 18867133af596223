/**
 * Invalid-input cases: every folder under invalid/ must be refused by `ipvsc compile` with exit 1,
 * exactly the expected error diagnostics (code, file:line:col, JSON path), no stack trace, and
 * nothing written.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { listCases, readFlags, readText } from '../helpers/cases.js';
import { runCli } from '../helpers/run-cli.js';

const ROOT = join(import.meta.dirname, 'invalid');
const cases = listCases(ROOT);
const EXPECTED_AT_LEAST = 160;

test('finds the invalid-input cases', () => {
  assert.ok(cases.length >= EXPECTED_AT_LEAST, `found ${cases.length} cases, expected at least ${EXPECTED_AT_LEAST}`);
});

interface JsonDiag { severity: string; code: string; file?: string; pos?: { line: number; col: number }; path?: string; summary: string }

for (const c of cases) {
  test(`refuses ${c.name}`, async () => {
    const want = readText(join(c.dir, 'expected', 'errors.txt'));
    assert.ok(want !== undefined, `${c.name} has no expected/errors.txt`);
    const tmp = mkdtempSync(join(tmpdir(), 'ipvsc-invalid-'));
    const out = join(tmp, 'out');
    try {
      const input = join(c.dir, 'input');
      const files = readdirSync(input).filter((f) => f !== 'flags' && f !== 'stdin');
      const stdin = readText(join(input, 'stdin'));
      const fileArgs = [...files.map((f) => ['-f', join(input, f)]).flat(), ...(stdin !== undefined ? ['-f', '-'] : [])];
      const r = await runCli(['compile', ...fileArgs, ...readFlags(c.dir), '--json', '-o', out], { cwd: input, ...(stdin !== undefined ? { stdin } : {}) });
      assert.is(r.code, Number(readText(join(c.dir, 'expected', 'exit-code'))?.trim() ?? 1), `exit code; stderr:\n${r.stderr}`);
      assert.not.match(r.stderr, /internal error|\n\s+at /, 'no stack trace');
      assert.not.ok(existsSync(out), 'nothing written');
      let got: string[] = [];
      if (r.stderr.trim().startsWith('{')) {
        const diags = (JSON.parse(r.stderr) as { diagnostics: JsonDiag[] }).diagnostics;
        got = diags.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.file ? `${relative(input, join(input, d.file))}${d.pos ? `:${d.pos.line}:${d.pos.col}` : ''}` : '-'} ${d.path || '-'}`);
      } else {
        got = [r.stderr.trim().split('\n')[0]!];
      }
      assert.equal(got, want.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test.run();
