#!/usr/bin/env node
// The whole test suite, as the README's one test command runs it (`npm test`).
//
// 1. When run as root (and not --no-kernel), installs the Debian packages the kernel tests need
//    (ipset, iptables, iproute2, ipvsadm, and qemu + a Debian kernel for the IPVS VM).
// 2. Builds dist/ (the CLI tests run the built binary too).
// 3. Runs every test file in its own process (uvu), collects the counts, and ends with the line
//    `N passed, N failed` (and `, N skipped` when kernel tests cannot run here).
// Unit and golden tests need no privileges; test/kernel/ needs root (network namespaces);
// test/vm-tests/ needs root and the VM of test/vm/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const USAGE = `usage: node scripts/test.mjs [--no-kernel] [--only GROUP]
  --no-kernel   skip the kernel tests (no package install, no VM)
  --only GROUP  run one group: unit, golden, kernel (network namespaces) or vm (the IPVS VM)
As root without --no-kernel it installs Debian packages and downloads the VM's kernel first.`;
// An unknown word must not fall through to a full run (which installs packages as root).
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--only') i++;
  else if (args[i] !== '--no-kernel') {
    const help = args[i] === '--help' || args[i] === '-h';
    (help ? console.log : console.error)(help ? USAGE : `unknown argument ${JSON.stringify(args[i])}\n${USAGE}`);
    process.exit(help ? 0 : 2);
  }
}
const noKernel = args.includes('--no-kernel');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
if (args.includes('--only') && !['unit', 'golden', 'kernel', 'vm'].includes(only ?? '')) {
  console.error(`--only needs one of unit, golden, kernel, vm\n${USAGE}`);
  process.exit(2);
}
const isRoot = process.getuid?.() === 0;

function sh(cmd, argv, opts = {}) {
  return spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', ...opts });
}

function files(dir) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out = [];
  for (const n of readdirSync(abs).sort()) {
    const p = join(abs, n);
    if (statSync(p).isDirectory()) out.push(...files(join(dir, n)));
    else if (n.endsWith('.test.ts')) out.push(join(dir, n));
  }
  return out;
}

const groups = [
  { name: 'unit', dirs: ['test/unit'], kernel: false },
  { name: 'golden', dirs: ['test/golden'], kernel: false },
  { name: 'kernel', dirs: ['test/kernel'], kernel: true },
  { name: 'vm', dirs: ['test/vm-tests'], kernel: true },
].filter((g) => !only || g.name === only);

const wantKernel = !noKernel && groups.some((g) => g.kernel);
if (wantKernel && isRoot) {
  console.log('== setup: Debian packages and the IPVS VM (test/vm/setup.sh)');
  const r = sh('bash', ['test/vm/setup.sh']);
  if (r.status !== 0) console.log('!! setup failed: kernel tests will report failures');
}

console.log('== build');
// The same steps as `npm run build`: tsc, then the prebuilt schema validators and templates.
if (sh('npx', ['tsc', '-p', 'tsconfig.build.json']).status !== 0 || sh(process.execPath, ['scripts/build-validators.mjs']).status !== 0 || sh(process.execPath, ['scripts/build-templates.mjs']).status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

let passed = 0, failed = 0, skipped = 0;
const report = [];
for (const g of groups) {
  for (const f of g.dirs.flatMap(files)) {
    if (g.kernel && (noKernel || !isRoot)) {
      skipped++;
      report.push(`SKIP ${f} (${noKernel ? '--no-kernel' : 'needs root'})`);
      continue;
    }
    console.log(`== ${f}`);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', f], { cwd: root, encoding: 'utf8', timeout: g.name === 'vm' ? 45 * 60_000 : 15 * 60_000, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } });
    const out = (r.stdout ?? '') + (r.stderr ?? '');
    process.stdout.write(out.split('\n').filter((l) => !/^\s*$/.test(l) || false).slice(-400).join('\n') + '\n');
    const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? NaN);
    const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
    const sk = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (Number.isNaN(total) || total === 0) {
      failed++;
      report.push(`FAIL ${f}: ran no test (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}) ${secs}s`);
      continue;
    }
    // uvu's skips would be tests not run: count them as failures, never as passes.
    passed += ok;
    failed += total - ok + sk;
    if (r.status !== 0 && total === ok) failed++;
    report.push(`${total - ok + sk === 0 && r.status === 0 ? 'ok  ' : 'FAIL'} ${relative(root, join(root, f))}: ${ok}/${total} ${secs}s`);
  }
}
console.log('\n== summary');
for (const l of report) console.log(l);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
