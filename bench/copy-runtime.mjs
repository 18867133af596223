#!/usr/bin/env node
// node bench/copy-runtime.mjs SRC DEST
//
// Copies what `ipvsc` needs at run time (package.json, bin, dist, schemas, templates and the closure
// of its production dependencies under node_modules) from the checkout SRC to DEST, as an install
// on a node's own disk would hold it. bench/apply-in-vm.sh runs ipvsc from such a copy on the VM's
// tmpfs: from the 9p-shared checkout every one of the ~210 module files node loads costs a 9p
// round trip under TCG (~10 s per process start), which no real node pays.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const [src, dest] = process.argv.slice(2);
if (!src || !dest) {
  process.stderr.write('usage: node bench/copy-runtime.mjs SRC DEST\n');
  process.exit(2);
}
const readPkg = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
for (const f of ['package.json', 'bin', 'dist', 'schemas', 'templates']) {
  if (existsSync(join(src, f))) cpSync(join(src, f), join(dest, f), { recursive: true, dereference: true });
}
/** Where node would find package `name` when required from `from` (walking up node_modules). */
function resolveDir(name, from) {
  for (let d = from; ; d = dirname(d)) {
    const c = join(d, 'node_modules', name);
    if (existsSync(join(c, 'package.json'))) return c;
    if (dirname(d) === d || relative(src, d).startsWith('..')) return null;
  }
}
const seen = new Set();
const queue = Object.keys(readPkg(src).dependencies ?? {}).map((n) => [n, src]);
while (queue.length) {
  const [name, from] = queue.shift();
  const dir = resolveDir(name, from);
  if (!dir || seen.has(dir)) continue;
  seen.add(dir);
  const p = readPkg(dir);
  for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) queue.push([d, dir]);
}
for (const dir of seen) cpSync(dir, join(dest, relative(src, dir)), { recursive: true, dereference: true });
process.stderr.write(`copy-runtime: ${seen.size} packages to ${dest}\n`);
