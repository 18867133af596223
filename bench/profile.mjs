#!/usr/bin/env node
// CPU-profiles one ipvsc run and lists the top self-time functions, mapped to src/ file:line.
//   node bench/profile.mjs [--top N] [--dir DIR] -- compile -f FILE --hostname-override node-0 -o OUT
// (dist/ is built without source maps; a dist function is mapped to its src/*.ts declaration by
// name, falling back to the dist line marked "dist".)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Self time per function from a .cpuprofile: [{ name, url, line, selfMs, pct }], descending. */
export function summarise(profile, top = 10) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dts = profile.timeDeltas ?? [];
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dts[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const agg = new Map();
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    const key = `${cf.functionName}|${cf.url}|${cf.lineNumber}`;
    const e = agg.get(key) ?? { name: cf.functionName || '(anonymous)', url: cf.url, line: cf.lineNumber + 1, col: cf.columnNumber + 1, us: 0 };
    e.us += us;
    agg.set(key, e);
  }
  return [...agg.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ ...e, where: locate(e), selfMs: e.us / 1000, pct: (100 * e.us) / total }));
}

const srcCache = new Map();
function locate(e) {
  if (!e.url) return e.name.startsWith('(') ? 'V8' : '(native)';
  if (e.url.startsWith('node:')) return `${e.url}:${e.line}`;
  let file = e.url.startsWith('file://') ? fileURLToPath(e.url) : e.url;
  const distDir = path.join(ROOT, 'dist') + path.sep;
  if (!file.startsWith(distDir)) {
    const rel = path.relative(ROOT, file);
    return `${rel.startsWith('..') ? file : rel}:${e.line}`;
  }
  const src = path.join(ROOT, 'src', file.slice(distDir.length)).replace(/\.js$/, '.ts');
  const distRel = `${path.relative(ROOT, file)}:${e.line}`;
  if (!fs.existsSync(src) || e.name === '(anonymous)') return `${path.relative(ROOT, src)} (${distRel})`;
  if (!srcCache.has(src)) srcCache.set(src, fs.readFileSync(src, 'utf8').split('\n'));
  const lines = srcCache.get(src);
  const n = e.name.replace(/^(get|set) /, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pats = [
    new RegExp(`\\bfunction\\*?\\s+${n}\\b`),
    new RegExp(`\\b(const|let|var)\\s+${n}\\s*[:=]`),
    new RegExp(`^\\s*(public |private |protected |static |async |readonly |get |set )*${n}\\s*[(<]`),
    new RegExp(`\\b${n}\\s*[:=]\\s*(async\\s*)?(\\(|function)`),
  ];
  for (const re of pats) {
    const i = lines.findIndex((l) => re.test(l));
    if (i >= 0) return `${path.relative(ROOT, src)}:${i + 1}`;
  }
  return `${path.relative(ROOT, src)} (${distRel})`;
}

/** Runs `node --cpu-prof bin/ipvsc.js ARGS` and returns the summary. */
export function profileRun(ipvscArgs, { top = 10, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipvsc-prof-')) } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const before = new Set(fs.readdirSync(dir));
  const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, path.join(ROOT, 'bin/ipvsc.js'), ...ipvscArgs], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (!file) throw new Error(`no .cpuprofile written (exit ${r.status}): ${r.stderr}`);
  const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  return { file: path.join(dir, file), exitCode: r.status, wallMs: (profile.endTime - profile.startTime) / 1000, top: summarise(profile, top) };
}

export function formatTop(res) {
  const out = [`  profile ${res.file} (${(res.wallMs / 1000).toFixed(2)} s profiled)`];
  res.top.forEach((e, i) => out.push(`  ${String(i + 1).padStart(2)}. ${e.pct.toFixed(1).padStart(5)}% ${e.selfMs.toFixed(0).padStart(6)} ms  ${e.name}  ${e.where}`));
  return out.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(0, dd) : [];
  const rest = dd >= 0 ? argv.slice(dd + 1) : argv;
  const opt = (name, d) => (own.includes(name) ? own[own.indexOf(name) + 1] : d);
  if (rest.length === 0) {
    process.stderr.write('usage: node bench/profile.mjs [--top N] [--dir DIR] -- IPVSC-ARGS…\n');
    process.exit(2);
  }
  const res = profileRun(rest, { top: Number(opt('--top', 10)), ...(opt('--dir') ? { dir: opt('--dir') } : {}) });
  process.stdout.write(formatTop(res) + '\n');
}
