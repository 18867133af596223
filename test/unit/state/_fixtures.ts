/** Fixture helpers shared by the state parser tests (not a test file itself). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TOOL_OUTPUT = join(REPO, 'test', 'fixtures', 'tool-output');
export const TOOL_ERRORS = join(REPO, 'test', 'fixtures', 'tool-errors');
export const GOLDEN = join(REPO, 'test', 'golden', 'cases');

export const read = (path: string): string => readFileSync(path, 'utf8');

/** Files in `dir` whose name matches `re`, sorted; throws when none match (a glob that matches nothing must fail). */
export function fixtures(dir: string, re: RegExp): string[] {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f)) : [];
  if (files.length === 0) throw new Error(`no fixture matches ${re} in ${dir}`);
  return files;
}

/** `expected/<file>` of every golden case that has it; throws when none. */
export function goldenFiles(file: string): { name: string; path: string }[] {
  const out = readdirSync(GOLDEN).sort()
    .map((name) => ({ name, path: join(GOLDEN, name, 'expected', file) }))
    .filter((c) => existsSync(c.path));
  if (out.length === 0) throw new Error(`no golden case has expected/${file}`);
  return out;
}

/** The `## input` section of a tool-errors record (`N: text` lines) as the original text. */
export function errorRecordInput(path: string): string {
  const lines = read(path).split('\n');
  const start = lines.indexOf('## input (line numbers added here, not in the file)');
  if (start < 0) throw new Error(`${path}: no input section`);
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l.startsWith('## ')) break;
    out.push(l.replace(/^\d+: ?/, ''));
  }
  return out.join('\n') + '\n';
}

/** A capture's stdout part: `cap` appends `### stderr (exit N):` when the command wrote to stderr. */
export const stdoutOf = (text: string): string => text.split('\n### stderr')[0]!;
