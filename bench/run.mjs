#!/usr/bin/env node
// ipvsc benchmark: medians over repeated whole-process runs of compile / plan against the parse
// floor, peak RSS, artifact sizes and iptables rule counts, checked against the issue's targets.
// node: builtins only. Run `npm run bench` (builds first) or `node bench/run.mjs` after a build.
//
//   node bench/run.mjs [--runs N] [--quick] [--json] [--profile] [--workdir DIR] [--seed S]
//                      [--vm | --no-vm] [--vm-services N]
//
//   --runs N     repetitions per measurement (default 5; 3 with --quick)
//   --quick      CI size: 1k and 10k Services only, 3 runs
//   --json       also write the raw numbers to bench/results.json
//   --profile    CPU-profile every missed timing target once and list the top 10 self-time spots
//   --workdir    where inputs, outputs and the recorded state go (default $TMPDIR/ipvsc-bench)
//   --vm         also time apply in the IPVS VM (bench/apply-in-vm.sh via test/vm/run.sh): default
//                in full mode when the VM is set up (root, test/vm/setup.sh ran); --no-vm skips it
//   --vm-services  Services for the VM apply timings (default 10000)
//
// Each measurement is one child process (`node bin/ipvsc.js …`, or bench/floor.mjs for the
// floor): wall time via process.hrtime around the spawn, peak RSS via `/usr/bin/time -f %M`
// when present, else via bench/measure.mjs (process.resourceUsage().maxRSS at exit).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const IPVSC = path.join(ROOT, 'bin/ipvsc.js');
const HOST = 'node-0';

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    workdir: { type: 'string', default: path.join(os.tmpdir(), 'ipvsc-bench') },
    seed: { type: 'string', default: '1' },
    vm: { type: 'boolean' },
    'no-vm': { type: 'boolean', default: false },
    'vm-services': { type: 'string', default: '10000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (opt.help) {
  process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 20).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
const RUNS = opt.runs ? Number(opt.runs) : opt.quick ? 3 : 5;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer, got ${opt.runs}`);
const SIZES = opt.quick ? [1000, 10000] : [1000, 10000, 50000];
const FORMATS = ['yaml', 'json'];
const ENDPOINTS = 3;
const NODES = 3;
const WORK = path.resolve(opt.workdir);

if (!fs.existsSync(path.join(ROOT, 'dist/main.js'))) {
  process.stderr.write('bench: dist/main.js missing; run `npm run build` (or `npm run bench`)\n');
  process.exit(2);
}
fs.mkdirSync(WORK, { recursive: true });

const log = (s) => process.stderr.write(s + '\n');
const k = (n) => (n >= 1000 ? `${n / 1000}k` : String(n));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---------------------------------------------------------------- measuring one child process
const TIME = fs.existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0 ? '/usr/bin/time' : null;

/** One child `node ARGS…`: { ms, rssKB, code, stdout, stderr }. */
function measureOnce(nodeArgs, okCodes = [0]) {
  const rssFile = path.join(WORK, `.rss-${process.pid}`);
  fs.rmSync(rssFile, { force: true });
  const [cmd, args] = TIME
    ? [TIME, ['-f', '%M', '-o', rssFile, process.execPath, ...nodeArgs]]
    : [process.execPath, [path.join(BENCH, 'measure.mjs'), rssFile, ...nodeArgs]];
  return new Promise((resolve, reject) => {
    const out = [];
    const err = [];
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (!okCodes.includes(code)) return reject(new Error(`node ${nodeArgs.join(' ')} exited ${code}\n${stderr.slice(-2000)}`));
      let rssKB = NaN;
      try {
        rssKB = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop());
      } catch {
        /* no number: leave NaN */
      }
      resolve({ ms, rssKB, code, stdout, stderr });
    });
  });
}

/** RUNS runs of one command: medians plus the raw samples. */
async function measure(label, nodeArgs, okCodes) {
  const samples = [];
  for (let i = 0; i < RUNS; i++) samples.push(await measureOnce(nodeArgs, okCodes));
  const r = {
    label,
    ms: median(samples.map((s) => s.ms)),
    rssMB: median(samples.map((s) => s.rssKB)) / 1024,
    samplesMs: samples.map((s) => +s.ms.toFixed(1)),
    samplesRssKB: samples.map((s) => s.rssKB),
    last: samples.at(-1),
  };
  log(`  ${label.padEnd(34)} ${(r.ms / 1000).toFixed(3)} s  ${r.rssMB.toFixed(0)} MB  [${r.samplesMs.map((x) => (x / 1000).toFixed(2)).join(' ')}]`);
  return r;
}

// ---------------------------------------------------------------- inputs
function input(n, fmt) {
  const file = path.join(WORK, `cluster-${k(n)}-e${ENDPOINTS}-n${NODES}-s${opt.seed}.${fmt}`);
  if (!fs.existsSync(file)) {
    log(`generating ${path.basename(file)}`);
    const r = spawnSync(process.execPath, [path.join(BENCH, 'gen-cluster.mjs'), '--services', String(n), '--endpoints', String(ENDPOINTS), '--nodes', String(NODES), '--format', fmt, '--seed', opt.seed, '--out', file + '.tmp'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`gen-cluster failed for ${file}`);
    fs.renameSync(file + '.tmp', file);
  }
  return file;
}

// ---------------------------------------------------------------- artifact statistics
function artifactStats(dir) {
  const files = {};
  for (const f of fs.readdirSync(dir).sort()) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    files[f] = { bytes: Buffer.byteLength(text), lines: text.split('\n').filter((l) => l !== '').length };
  }
  const rules = (f) => {
    const p = path.join(dir, f);
    const lines = fs.existsSync(p) ? fs.readFileSync(p, 'utf8').split('\n') : [];
    const all = lines.filter((l) => /^-[AI] /.test(l));
    const isOut = (l) => /^-A KUBE-IPVS-OUT-FILTER /.test(l);
    const otherRules = all.filter((l) => !isOut(l));
    return { total: all.length, outFilter: all.length - otherRules.length, other: otherRules.length, otherRules };
  };
  return { files, iptables: rules('iptables.restore'), ip6tables: rules('ip6tables.restore') };
}

// ---------------------------------------------------------------- recorded state from artifacts
const BUILTIN = {
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** iptables-restore --noflush input (`-I BUILTIN 1` jumps) → what iptables-save would print after it. */
export function restoreToSave(text, tool) {
  const out = [`# Generated by ${tool}-save v1.8.9 (nf_tables) on ${new Date(0).toUTCString()}`];
  let table = null;
  let chains = [];
  let rules = new Map();
  const flush = () => {
    for (const c of BUILTIN[table] ?? []) out.push(`:${c} ACCEPT [0:0]`);
    out.push(...chains);
    for (const [, rs] of rules) out.push(...rs);
    out.push('COMMIT', `# Completed on ${new Date(0).toUTCString()}`);
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1);
      chains = [];
      rules = new Map((BUILTIN[table] ?? []).map((c) => [c, []]));
      out.push(line);
    } else if (line.startsWith(':')) chains.push(line);
    else if (line === 'COMMIT') flush();
    else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1];
      if (!rules.has(chain)) rules.set(chain, []);
      rules.get(chain).push(line);
    } else if (line.startsWith('-I ')) {
      const m = /^-I (\S+) 1 (.*)$/.exec(line);
      if (!m) throw new Error(`unexpected insert line: ${line}`);
      if (!rules.has(m[1])) rules.set(m[1], []);
      rules.get(m[1]).unshift(`-A ${m[1]} ${m[2]}`); // each `-I X 1` lands before the earlier ones
    } else if (line.trim() !== '' && !line.startsWith('#')) throw new Error(`unexpected ${tool} line: ${line}`);
  }
  return out.join('\n') + '\n';
}

function recordState(outDir, stateDir) {
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });
  const a = (f) => fs.readFileSync(path.join(outDir, f), 'utf8');
  const manifest = JSON.parse(a('manifest.json'));
  fs.writeFileSync(path.join(stateDir, 'ipvsadm.save'), a('ipvsadm.restore'));
  fs.writeFileSync(path.join(stateDir, 'ipset.save'), a('ipset.restore'));
  fs.writeFileSync(path.join(stateDir, 'iptables.save'), restoreToSave(a('iptables.restore'), 'iptables'));
  if (fs.existsSync(path.join(outDir, 'ip6tables.restore'))) fs.writeFileSync(path.join(stateDir, 'ip6tables.save'), restoreToSave(a('ip6tables.restore'), 'ip6tables'));
  fs.writeFileSync(
    path.join(stateDir, 'kube-ipvs0.addr'),
    manifest.kubeIpvs0
      .map((c) => (c.includes(':') ? `5: kube-ipvs0    inet6 ${c} scope global \\       valid_lft forever preferred_lft forever` : `5: kube-ipvs0    inet ${c} scope global kube-ipvs0\\       valid_lft forever preferred_lft forever`))
      .join('\n') + '\n',
  );
  fs.writeFileSync(path.join(stateDir, 'sysctl.txt'), (manifest.sysctls ?? []).map((s) => `${s.name.replace(/\//g, '.')} = ${s.value}`).join('\n') + '\n');
  const node = {
    name: manifest.node?.name ?? HOST,
    kernel: os.release(),
    kubeIpvs0Exists: true,
    interfaces: [{ name: 'eth0', addresses: (manifest.node?.ips ?? []).map((ip) => (ip.includes(':') ? `${ip}/64` : `${ip}/24`)) }],
  };
  fs.writeFileSync(path.join(stateDir, 'node.json'), JSON.stringify(node, null, 2) + '\n');
}

// ---------------------------------------------------------------- run
const machine = {
  date: new Date().toISOString(),
  node: process.version,
  nproc: os.availableParallelism?.() ?? os.cpus().length,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  memTotalGB: +(os.totalmem() / 2 ** 30).toFixed(1),
  kernel: `${os.type()} ${os.release()} ${os.arch()}`,
  rssProbe: TIME ? '/usr/bin/time -f %M' : 'bench/measure.mjs (process.resourceUsage().maxRSS)',
  git: (() => {
    const r = spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : 'unknown';
  })(),
  runs: RUNS,
  mode: opt.quick ? 'quick' : 'full',
};
log(`ipvsc bench (${machine.mode}): ${RUNS} runs each, node ${machine.node}, ${machine.nproc} CPUs, ${machine.memTotalGB} GiB, RSS via ${machine.rssProbe}; workdir ${WORK}`);

const results = { machine, compile: {}, plan: {}, artifacts: {}, targets: [] };
for (const n of SIZES) {
  for (const fmt of FORMATS) {
    const file = input(n, fmt);
    const outDir = path.join(WORK, `out-${k(n)}-${fmt}`);
    fs.rmSync(outDir, { recursive: true, force: true });
    const floor = await measure(`floor ${k(n)} ${fmt}`, [path.join(BENCH, 'floor.mjs'), fmt, file]);
    const compile = await measure(`compile ${k(n)} ${fmt}`, [IPVSC, 'compile', '-f', file, '--hostname-override', HOST, '-o', outDir]);
    // The least JSON compile JavaScript can do (bench/json-sketch.mjs): what the 0.4 s target is up against.
    const sketch = fmt === 'json' && n === 10000 ? await measure(`sketch ${k(n)} ${fmt}`, [path.join(BENCH, 'json-sketch.mjs'), file, path.join(WORK, 'sketch-out')]) : undefined;
    const stats = artifactStats(outDir);
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8'));
    results.compile[`${k(n)}-${fmt}`] = {
      services: n, endpoints: n * ENDPOINTS, format: fmt, inputBytes: fs.statSync(file).size,
      compileMs: compile.ms, compileRssMB: compile.rssMB, floorMs: floor.ms, floorRssMB: floor.rssMB, ratio: compile.ms / floor.ms,
      samples: { compileMs: compile.samplesMs, compileRssKB: compile.samplesRssKB, floorMs: floor.samplesMs, floorRssKB: floor.samplesRssKB },
      artifactDigests: manifest.artifacts,
      ...(sketch ? { sketchMs: sketch.ms } : {}),
    };
    if (fmt === 'yaml') results.artifacts[k(n)] = stats;
  }
  const y = results.compile[`${k(n)}-yaml`].artifactDigests;
  const j = results.compile[`${k(n)}-json`].artifactDigests;
  results.compile[`${k(n)}-json`].sameArtifactsAsYaml = JSON.stringify(y) === JSON.stringify(j);
}

// plan: 10k Services against the state recorded from compiling them
{
  const n = 10000;
  const stateDir = path.join(WORK, `state-${k(n)}`);
  recordState(path.join(WORK, `out-${k(n)}-yaml`), stateDir);
  for (const fmt of FORMATS) {
    const r = await measure(`plan ${k(n)} ${fmt} vs recorded ${k(n)}`, [IPVSC, 'plan', '-f', input(n, fmt), '--hostname-override', HOST, '--state', stateDir, '--detailed-exitcode'], [0, 2]);
    const summary = r.last.stdout.split('\n').filter((l) => /change|no-op|up to date|nothing|Plan/i.test(l)).slice(-1)[0] ?? r.last.stdout.split('\n')[0];
    results.plan[`${k(n)}-${fmt}`] = { services: n, format: fmt, ms: r.ms, rssMB: r.rssMB, samplesMs: r.samplesMs, exitCode: r.last.code, noChanges: r.last.code === 0, summary: summary?.trim() ?? '', stateDir };
  }
  // The GitOps path: the artifacts compiled earlier (ipvsc compile -o DIR), planned with --from DIR.
  const from = path.join(WORK, `out-${k(n)}-json`);
  const r = await measure(`plan --from ${k(n)} vs recorded ${k(n)}`, [IPVSC, 'plan', '--from', from, '--hostname-override', HOST, '--state', stateDir, '--detailed-exitcode'], [0, 2]);
  results.plan[`${k(n)}-from-dir`] = { services: n, format: 'compiled artifacts (--from)', ms: r.ms, rssMB: r.rssMB, samplesMs: r.samplesMs, exitCode: r.last.code, noChanges: r.last.code === 0, summary: '', stateDir };
}

// ---------------------------------------------------------------- apply in the IPVS VM
const vmReady = fs.existsSync(path.join(ROOT, '.cache/vm/kernel.version')) && process.getuid?.() === 0;
const runVm = opt['no-vm'] ? false : opt.vm ?? (!opt.quick && vmReady);
if (runVm) {
  const n = Number(opt['vm-services']);
  log(`apply in the VM: ${n} Services (bench/apply-in-vm.sh; TCG, ~15 min at 10k)`);
  const r = spawnSync('bash', ['test/vm/run.sh', 'bench/apply-in-vm.sh', String(n)], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, VM_TIMEOUT: process.env.VM_TIMEOUT ?? '3600' }, maxBuffer: 64 * 1024 * 1024 });
  results.apply = { services: n, exitCode: r.status, rows: parseResultLines(r.stdout) };
  if (r.status !== 0) log(`apply-in-vm.sh exited ${r.status}:\n${(r.stdout + r.stderr).slice(-3000)}`);
}

/** `RESULT [label] key=value …` lines of bench/apply-in-vm.sh → [{ label, key: value… }]. */
function parseResultLines(text) {
  return text.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => {
    const row = { label: '' };
    const toks = l.slice(7).trim().split(/\s+/);
    // A leading word without '=' names the row (c1, c2); other bare words are comments.
    if (toks[0] && !toks[0].includes('=')) row.label = toks.shift();
    for (const tok of toks) {
      const eq = tok.indexOf('=');
      if (eq > 0) row[tok.slice(0, eq)] = Number.isFinite(Number(tok.slice(eq + 1))) ? Number(tok.slice(eq + 1)) : tok.slice(eq + 1);
    }
    return row;
  });
}

// ---------------------------------------------------------------- targets
const T = results.targets;
const c = (key) => results.compile[key];
const target = (id, what, measured, limit, met, cmd) => T.push({ id, what, measured, limit, met, cmd });
const c10y = c('10k-yaml');
const c10j = c('10k-json');
target('compile-10k-yaml', 'compile 10k svc/30k ep, YAML', `${(c10y.compileMs / 1000).toFixed(2)} s = ${c10y.ratio.toFixed(2)}x floor (${(c10y.floorMs / 1000).toFixed(2)} s)`, `<= 2x js-yaml floor (~1.0 s)`, c10y.ratio <= 2, ['compile', '-f', input(10000, 'yaml'), '--hostname-override', HOST, '-o', path.join(WORK, 'prof-out')]);
target('compile-10k-json', 'compile 10k svc/30k ep, JSON', `${(c10j.compileMs / 1000).toFixed(2)} s (JSON.parse floor ${(c10j.floorMs / 1000).toFixed(2)} s; json-sketch.mjs ${(c10j.sketchMs / 1000).toFixed(2)} s)`, '<= 0.4 s', c10j.compileMs <= 400, ['compile', '-f', input(10000, 'json'), '--hostname-override', HOST, '-o', path.join(WORK, 'prof-out')]);
for (const [key, r] of [['yaml', c10y], ['json', c10j]]) target(`rss-10k-${key}`, `peak RSS compile 10k ${key.toUpperCase()}`, `${r.compileRssMB.toFixed(0)} MB`, '<= 400 MB', r.compileRssMB <= 400);
if (!opt.quick) {
  for (const fmt of FORMATS) {
    const g = c(`50k-${fmt}`).compileMs / c(`10k-${fmt}`).compileMs;
    results.compile[`50k-${fmt}`].growthVs10k = g;
    target(`growth-${fmt}`, `compile 50k / 10k time, ${fmt.toUpperCase()}`, `${g.toFixed(2)}x`, '<= 5.5x', g <= 5.5);
  }
} else T.push({ id: 'growth', what: 'compile 50k / 10k time', measured: 'n/a (--quick)', limit: '<= 5.5x', met: null });
const planRow = (key) => results.plan[key];
for (const [key, what] of [['10k-json', 'plan -f 10k JSON vs recorded 10k state'], ['10k-from-dir', 'plan --from DIR (10k compiled) vs recorded 10k state'], ['10k-yaml', 'plan -f 10k YAML vs recorded 10k state']]) {
  const p = planRow(key);
  target(`plan-${key}`, what, `${(p.ms / 1000).toFixed(2)} s${p.noChanges ? ' (no changes)' : ` (exit ${p.exitCode}: changes)`}`, '<= 1.5 s', p.ms <= 1500, ['plan', ...(key === '10k-from-dir' ? ['--from', path.join(WORK, 'out-10k-json')] : ['-f', input(10000, key.endsWith('yaml') ? 'yaml' : 'json')]), '--hostname-override', HOST, '--state', p.stateDir]);
}
if (results.apply) {
  const rows = results.apply.rows;
  const full = rows.find((r) => r.floor_s !== undefined);
  if (full) target('apply-full', `full apply in the VM, ${k(results.apply.services)} Services`, `${full.full_apply_s} s = ${(full.full_apply_s / full.floor_s).toFixed(2)}x bare tools (${full.floor_s} s)`, '<= 1.3x bare tools', full.full_apply_s / full.floor_s <= 1.3);
  for (const r of rows.filter((x) => x.label && x.apply_s !== undefined)) {
    const frac = full ? r.apply_s / full.full_apply_s : NaN;
    const measured = `${r.apply_s} s = ${(100 * frac).toFixed(0)}% of full, ${r.mutating_steps} mutating command(s)`;
    // c1/c2 use --refresh=changed (the incremental path); c0f, the default full refresh, is there
    // for comparison: it reads the whole node to see drift, so it is no incremental target.
    if (r.refresh === 'full') T.push({ id: `apply-${r.label}`, what: `apply ${r.label}, full refresh (reference)`, measured, limit: '-', met: null });
    else target(`apply-${r.label}`, `incremental apply ${r.label} (--refresh=changed)`, measured, '<= 10% of full, <= 5 commands', frac <= 0.1 && r.mutating_steps <= 5);
  }
}
// Flat: no rule outside KUBE-IPVS-OUT-FILTER names a Service address or port (all go through
// ipsets), each N's rule set contains the smaller N's (extra rules only appear once a feature,
// e.g. SCTP + ETP Local, occurs at all), and the two largest N have the same count.
{
  const sets = SIZES.map((n) => ['iptables', 'ip6tables'].flatMap((t) => results.artifacts[k(n)][t].otherRules.map((l) => `${t} ${l}`)));
  const perService = sets.flat().filter((l) => /\s(-d|--dport|--vaddr|--to-destination)\s/.test(l));
  const nested = sets.every((cur, i) => i === 0 || sets[i - 1].every((l) => cur.includes(l)));
  const lastTwoEqual = sets.length < 2 || sets.at(-1).length === sets.at(-2).length;
  const extra = sets.map((cur, i) => (i === 0 ? [] : cur.filter((l) => !sets[i - 1].includes(l))));
  results.iptablesFlat = { otherCounts: Object.fromEntries(SIZES.map((n, i) => [k(n), sets[i].length])), perServiceRules: perService, nested, lastTwoEqual, extraRulesPerStep: Object.fromEntries(SIZES.map((n, i) => [k(n), extra[i]])) };
  const outF = SIZES.map((n) => `${k(n)}:${results.artifacts[k(n)].iptables.outFilter + results.artifacts[k(n)].ip6tables.outFilter}`).join(' ');
  target('iptables-flat', 'iptables rules flat (besides per-LB-VIP OUT-FILTER)', `other ${SIZES.map((n, i) => `${k(n)}:${sets[i].length}`).join(' ')}; OUT-FILTER ${outF}`, 'no per-Service rules, flat', perService.length === 0 && nested && (opt.quick || lastTwoEqual));
  for (const n of SIZES) for (const t of ['iptables', 'ip6tables']) delete results.artifacts[k(n)][t].otherRules;
}

// ---------------------------------------------------------------- report
const s = (ms) => (ms / 1000).toFixed(3);
const pad = (cells, widths, left) => cells.map((x, i) => (i === 0 || left ? String(x).padEnd(widths[i]) : String(x).padStart(widths[i]))).join('  ').trimEnd();
const table = (head, rows, left = false) => {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  return [pad(head, w, left), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map((r) => pad(r, w, left))].join('\n');
};
const lines = [];
lines.push(`ipvsc bench, ${machine.mode} mode, median of ${RUNS} runs; node ${machine.node}, ${machine.nproc} CPUs (${machine.cpu}), ${machine.memTotalGB} GiB RAM, ${machine.kernel}`);
lines.push('');
lines.push('Compile (whole process) vs parse floor (fresh process: read + js-yaml loadAll / JSON.parse)');
lines.push(table(['input', 'MB', 'compile s', 'floor s', 'ratio', 'RSS MB', 'floor RSS MB', '/10k time'], Object.entries(results.compile).map(([key, r]) => [key, (r.inputBytes / 1e6).toFixed(1), s(r.compileMs), s(r.floorMs), r.ratio.toFixed(2) + 'x', r.compileRssMB.toFixed(0), r.floorRssMB.toFixed(0), r.growthVs10k ? r.growthVs10k.toFixed(2) + 'x' : ''])));
lines.push('');
lines.push('Plan (whole process) against the state recorded from compiling the same 10k Services');
lines.push(table(['input', 'plan s', 'RSS MB', 'exit', 'result'], Object.entries(results.plan).map(([key, r]) => [key, s(r.ms), r.rssMB.toFixed(0), r.exitCode, r.noChanges ? 'no changes' : r.summary])));
lines.push('');
if (results.apply) {
  lines.push(`Apply in the IPVS VM (qemu TCG, Debian 6.1 kernel; ${k(results.apply.services)} Services; one run each, seconds)`);
  lines.push(results.apply.rows.map((r) => `RESULT ${r.label ? r.label + ' ' : ''}${Object.entries(r).filter(([key]) => key !== 'label').map(([key, v]) => `${key}=${v}`).join(' ')}`).join('\n') || `(no RESULT lines; apply-in-vm.sh exited ${results.apply.exitCode})`);
  lines.push('');
}
lines.push('Artifacts (YAML input; JSON input gives ' + (Object.values(results.compile).filter((r) => r.format === 'json').every((r) => r.sameArtifactsAsYaml) ? 'byte-identical artifacts' : 'DIFFERENT artifacts') + ')');
const names = [...new Set(SIZES.flatMap((n) => Object.keys(results.artifacts[k(n)].files)))];
lines.push(table(['file', ...SIZES.map((n) => `${k(n)} bytes`), ...SIZES.map((n) => `${k(n)} lines`)], names.map((f) => [f, ...SIZES.map((n) => results.artifacts[k(n)].files[f]?.bytes ?? '-'), ...SIZES.map((n) => results.artifacts[k(n)].files[f]?.lines ?? '-')])));
lines.push('');
lines.push('iptables rules (-A/-I lines): v4 total / v4 KUBE-IPVS-OUT-FILTER / v4 other | v6 total / v6 OUT-FILTER / v6 other');
lines.push(table(['N', 'v4 total', 'v4 OUT-FILTER', 'v4 other', 'v6 total', 'v6 OUT-FILTER', 'v6 other'], SIZES.map((n) => {
  const a = results.artifacts[k(n)];
  return [k(n), a.iptables.total, a.iptables.outFilter, a.iptables.other, a.ip6tables.total, a.ip6tables.outFilter, a.ip6tables.other];
})));
lines.push('');
lines.push('Targets');
lines.push(table(['target', 'measured', 'limit', 'status'], T.map((t) => [t.what, t.measured, t.limit, t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED']), true));
const extra = Object.entries(results.iptablesFlat.extraRulesPerStep).filter(([, ls]) => ls.length);
for (const [n, ls] of extra) lines.push(`  rules first present at ${n} (feature-conditional, set-based): ${ls.map((l) => l.replace(/ -m comment --comment "[^"]*"/, '').slice(0, 110)).join(' | ')}`);
process.stdout.write(lines.join('\n') + '\n');

if (opt.profile) {
  const { profileRun, formatTop } = await import('./profile.mjs');
  for (const t of T.filter((x) => x.met === false && x.cmd)) {
    process.stdout.write(`\nHot spots for missed target "${t.what}" (self time, node --cpu-prof):\n`);
    const r = profileRun(t.cmd, { dir: path.join(WORK, `prof-${t.id}`) });
    t.profile = r;
    process.stdout.write(formatTop(r) + '\n');
  }
}

if (opt.json) {
  for (const t of T) delete t.cmd;
  fs.writeFileSync(path.join(BENCH, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  log(`wrote ${path.relative(process.cwd(), path.join(BENCH, 'results.json'))}`);
}
