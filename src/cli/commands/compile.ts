/** `ipvsc compile`: inputs → artifacts in -o DIR (or --check them, or --all-nodes). */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, hasErrors } from '../../diag/diagnostic.js';
import type { Diagnostic } from '../../diag/diagnostic.js';
import type { ParsedArgs } from '../args.js';
import { flagSet, flagValue } from '../args.js';
import type { Io } from '../context.js';
import { EXIT, ipvscVersion } from '../context.js';
import { compileFromArgs, compileRead, readCompileInputs } from '../inputs.js';
import type { Compiled } from '../inputs.js';
import { printDiagnostics } from '../print-diagnostics.js';
import { buildManifest, inputsDigest, manifestText } from '../manifest.js';
import { readIfExists, writeFilesAtomically } from '../write-outputs.js';
import type * as Diff from 'diff';
import { lazyRequire } from '../../util/lazy-require.js';

const diff = lazyRequire<typeof Diff>('diff');

export const OUTPUT_NAMES = ['ipvsadm.restore', 'ipset.restore', 'iptables.restore', 'ip6tables.restore', 'manifest.json'] as const;

export function runCompile(args: ParsedArgs, io: Io): number {
  const out = flagValue(args, 'output-dir');
  if (!out) throw new UsageError('compile needs -o DIR', 'for example: ipvsc compile -f cluster/ --hostname-override node-a -o out/');
  const dir = resolve(io.cwd, out);
  if (flagSet(args, 'all-nodes')) return compileAllNodes(args, io, dir);
  const res = compileFromArgs(args, io);
  printDiagnostics(res.diags, args, io);
  if (hasErrors(res.diags) || !res.artifacts) return EXIT.invalid;
  return emit(res, io, dir, args);
}

function outputFiles(res: Compiled): Record<string, string> {
  const artifacts = res.artifacts!;
  const manifest = buildManifest(res.state!, artifacts, ipvscVersion(), inputsDigest(res.files, { ...res.opts, config: res.inputs!.config }));
  return { ...(artifacts as unknown as Record<string, string>), 'manifest.json': manifestText(manifest) };
}

function emit(res: Compiled, io: Io, dir: string, args: ParsedArgs): number {
  const produced = outputFiles(res);
  if (flagSet(args, 'check')) return check(produced, dir, io);
  writeFilesAtomically(dir, produced, OUTPUT_NAMES);
  io.stderr(`wrote ${Object.keys(produced).length} files to ${dir}\n`);
  return EXIT.ok;
}

/** --check: the committed files must equal what compile would write now. */
function check(produced: Record<string, string>, dir: string, io: Io): number {
  let differ = 0;
  for (const name of OUTPUT_NAMES) {
    const want = produced[name];
    const have = readIfExists(join(dir, name));
    // manifest.json too: its digest depends on the inputs' bytes alone, and apply reads its
    // sysctls and exclude CIDRs, which no other file carries.
    if (want === have) continue;
    differ++;
    io.stdout(diff().createTwoFilesPatch(`${name} (committed)`, `${name} (compiled now)`, have ?? '', want ?? ''));
  }
  if (differ === 0) {
    io.stderr(`${dir} is up to date\n`);
    return EXIT.ok;
  }
  io.stderr(`${differ} file(s) in ${dir} differ from what compile produces now; run ipvsc compile without --check to update them\n`);
  return EXIT.changes;
}

function compileAllNodes(args: ParsedArgs, io: Io, dir: string): number {
  const read = readCompileInputs(args, io);
  const first = compileRead(read);
  const nodeNames = (first.inputs?.nodes ?? []).map((n) => (n.metadata.name ?? '').toLowerCase()).filter((n) => n !== '').sort();
  if (first.inputs && nodeNames.length === 0) {
    printDiagnostics(first.diags, args, io);
    throw new UsageError('--all-nodes needs Node objects among the inputs');
  }
  if (!first.inputs) {
    printDiagnostics(first.diags, args, io);
    return EXIT.invalid;
  }
  const all: Diagnostic[] = [];
  const results: [string, Compiled][] = [];
  for (const name of nodeNames) {
    const res = compileRead(read, name);
    all.push(...res.diags.map((d) => (d.severity === 'warning' && d.code.startsWith('MODEL') ? { ...d, summary: `node ${name}: ${d.summary}` } : d)));
    results.push([name, res]);
  }
  const unique = [...new Map(all.map((d) => [JSON.stringify(d), d])).values()];
  printDiagnostics(unique, args, io);
  if (hasErrors(unique) || results.some(([, r]) => !r.artifacts)) return EXIT.invalid;
  let code: number = EXIT.ok;
  for (const [name, res] of results) {
    const c = emit(res, io, join(dir, name), args);
    if (c !== EXIT.ok) code = c;
  }
  // A node gone from the inputs leaves its folder behind: never deleted (it is the user's), but
  // named, and out of date for --check (a GitOps tree would go on deploying it).
  for (const name of staleNodeDirs(dir, nodeNames)) {
    if (flagSet(args, 'check')) {
      io.stderr(`${join(dir, name)} holds the outputs of node ${name}, which is not among the inputs' Node objects; remove the folder\n`);
      code = EXIT.changes;
    } else io.stderr(`warning: ${join(dir, name)} holds the outputs of node ${name}, which is not among the inputs' Node objects; remove the folder if the node is gone\n`);
  }
  return code;
}

/** Folders of `dir` with a manifest.json (an earlier --all-nodes output) for no node in `nodes`. */
function staleNodeDirs(dir: string, nodes: readonly string[]): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory() && !nodes.includes(e.name) && existsSync(join(dir, e.name, 'manifest.json'))).map((e) => e.name).sort();
}
