import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { basename, join } from 'node:path';
import {
  canonicalRule, parseIptablesListRules, parseIptablesSave, parseIptablesSaveDetailed, splitRuleLine, tokenizeRule, trySplitRuleLine,
} from '../../../src/state/parse-iptables.js';
import type { Family } from '../../../src/model/net.js';
import { StateParseError } from '../../../src/state/types.js';
import type { LiveIptables } from '../../../src/state/types.js';
import { fixtures, goldenFiles, read, stdoutOf, TOOL_OUTPUT } from './_fixtures.js';

/**
 * What a restore file leaves in a fresh namespace: each table's chains hold the `-A` rules in
 * order; `-I CHAIN N` inserts at N. Canonicalised with the same canonicalRule.
 */
function applyRestore(text: string, family: Family, onto: LiveIptables = {}): LiveIptables {
  let table = '';
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) { table = line.slice(1); onto[table] ??= { chains: new Map() }; continue; }
    const t = onto[table]!;
    if (line.startsWith(':')) { const n = line.slice(1).split(' ')[0]!; t.chains.set(n, { name: n, rules: [] }); continue; }
    const r = splitRuleLine(line);
    let c = t.chains.get(r.chain);
    if (!c) t.chains.set(r.chain, (c = { name: r.chain, rules: [] }));
    const rule = canonicalRule(r.spec, family);
    if (r.op === 'A') c.rules.push(rule);
    else c.rules.splice((r.position ?? 1) - 1, 0, rule);
  }
  return onto;
}

/** Table → chain → rules, dropping empty chains (a fresh namespace lists empty built-ins). */
const flat = (t: LiveIptables): Record<string, Record<string, string[]>> => {
  const out: Record<string, Record<string, string[]>> = {};
  for (const [name, table] of Object.entries(t)) {
    if (!table) continue;
    for (const c of table.chains.values()) if (c.rules.length) (out[name] ??= {})[c.name] = c.rules;
  }
  return out;
};

const RT = join(TOOL_OUTPUT, 'iptables');

test('round trip: golden iptables.restore loaded by the real iptables (nft + legacy) and saved back canonicalises equal', () => {
  const saves = fixtures(RT, /^roundtrip-.*\.save$/);
  assert.ok(saves.length >= 10, `${saves.length} round-trip fixtures`);
  let differingRaw = 0;
  let rules = 0;
  for (const save of saves) {
    const family: Family = /-ip6(-legacy)?\.save$/.test(save) ? 'IPv6' : 'IPv4';
    const input = read(save.replace(/\.save$/, '.restore'));
    const live = parseIptablesSaveDetailed(read(save));
    assert.is(live.family, family, basename(save));
    assert.equal(live.notes, [], basename(save));
    assert.equal(flat(live.tables), flat(applyRestore(input, family)), basename(save));
    const savedRaw = new Set<string>();
    for (const t of Object.values(live.tables)) for (const c of t!.chains.values()) {
      rules += c.rules.length;
      for (const raw of c.raw!) savedRaw.add(raw);
    }
    for (const line of input.split('\n')) {
      const r = trySplitRuleLine(line);
      if (r && !savedRaw.has(r.spec)) differingRaw++;
    }
  }
  assert.ok(rules > 300, `${rules} rules compared`);
  // what we wrote and what the kernel printed differ as text (marks, /32, REJECT, \' …)
  assert.ok(differingRaw > 100, `${differingRaw} written rules not printed back verbatim (normalisation exercised)`);
});

test('round trip input is the golden file minus the -m ipvs lines only', () => {
  for (const save of fixtures(RT, /^roundtrip-.*\.restore$/)) {
    const m = /^roundtrip-(.+?)(-ip6)?(-legacy)?\.restore$/.exec(basename(save))!;
    const golden = read(join(TOOL_OUTPUT, '..', '..', 'golden', 'cases', m[1]!, 'expected', m[2] ? 'ip6tables.restore' : 'iptables.restore'));
    assert.is(read(save), golden.split('\n').filter((l) => !l.includes(' -m ipvs ')).join('\n'), basename(save));
  }
});

test('VM captures (nft + legacy, IPv4 + IPv6, with the -m ipvs rule): KUBE chains equal the payload; jumps on top of Docker rules', () => {
  const dirs = ['iptables-nft', 'iptables-legacy', 'ip6tables-nft', 'ip6tables-legacy'];
  let n = 0;
  for (const d of dirs) {
    const family: Family = d.startsWith('ip6') ? 'IPv6' : 'IPv4';
    const dir = join(TOOL_OUTPUT, d);
    const [save] = fixtures(dir, /^save\.txt$/);
    const [input] = fixtures(dir, /^restore-input\.txt$/);
    const live = parseIptablesSave(stdoutOf(read(save!)));
    const want = flat(applyRestore(read(input!), family));
    for (const [table, chains] of Object.entries(want)) {
      for (const [chain, rules] of Object.entries(chains)) {
        const got = live[table]!.chains.get(chain)!.rules;
        if (chain.startsWith('KUBE-')) assert.equal(got, rules, `${d} ${table} ${chain}`);
        else assert.equal(got.slice(0, rules.length), rules, `${d} ${table} ${chain} (jumps first)`);
        n += rules.length;
      }
    }
    const out = live.filter!.chains.get('KUBE-IPVS-OUT-FILTER')!.rules;
    const vip = family === 'IPv4' ? '1.2.3.4/32' : '2001:db8::1/128';
    assert.equal(out, [`-s ${vip} -m ipvs --vproto 6 --vaddr ${vip} --vport 80 -j DROP`], d);
    assert.is(live.filter!.chains.get('INPUT')!.policy, 'ACCEPT');
    assert.is(live.filter!.chains.get('KUBE-FORWARD')!.policy, undefined);
  }
  assert.ok(n > 100);
});

test('VM captures: second --noflush load duplicates the -I jumps; -c counters; legacy-present warning; -S listing', () => {
  const [second] = fixtures(join(TOOL_OUTPUT, 'iptables-nft'), /^save-after-second-load\.txt$/);
  const input = read(join(TOOL_OUTPUT, 'iptables-nft', 'restore-input.txt'));
  const live = parseIptablesSave(stdoutOf(read(second!)));
  const once = applyRestore(input, 'IPv4');
  const twice = applyRestore(input, 'IPv4', applyRestore(input, 'IPv4'));
  assert.equal(live.nat!.chains.get('PREROUTING')!.rules.slice(0, 2), twice.nat!.chains.get('PREROUTING')!.rules.slice(0, 2));
  assert.equal(live.nat!.chains.get('KUBE-SERVICES')!.rules, once.nat!.chains.get('KUBE-SERVICES')!.rules);
  const counters = parseIptablesSave(stdoutOf(read(fixtures(join(TOOL_OUTPUT, 'iptables-nft'), /^save-counters-filter\.txt$/)[0]!)));
  assert.equal(counters.filter!.chains.get('KUBE-IPVS-FILTER')!.rules, live.filter!.chains.get('KUBE-IPVS-FILTER')!.rules);
  // the warning goes to stderr: parse the record as `2>&1` would give it
  const merged = read(join(TOOL_OUTPUT, 'iptables-nft', 'save-with-legacy-present.txt')).replace(/^### stderr.*\n/m, '');
  const warn = parseIptablesSaveDetailed(merged);
  assert.equal(warn.notes, ['# Warning: iptables-legacy tables present, use iptables-legacy-save to see them']);
  const listed = parseIptablesListRules(stdoutOf(read(fixtures(join(TOOL_OUTPUT, 'iptables-nft'), /^list-nat-S\.txt$/)[0]!)));
  assert.equal(listed.chains.get('KUBE-SERVICES')!.rules, parseIptablesSave(stdoutOf(read(join(TOOL_OUTPUT, 'iptables-nft', 'save.txt')))).nat!.chains.get('KUBE-SERVICES')!.rules);
  assert.is(listed.chains.get('PREROUTING')!.policy, 'ACCEPT');
});

test('canonicalRule is idempotent on every rule line of every golden artifact', () => {
  let n = 0;
  for (const file of ['iptables.restore', 'ip6tables.restore']) {
    for (const c of goldenFiles(file)) {
      for (const line of read(c.path).split('\n')) {
        const r = trySplitRuleLine(line);
        if (!r) continue;
        const fam: Family = file.startsWith('ip6') ? 'IPv6' : 'IPv4';
        const once = canonicalRule(r.spec, fam);
        assert.is(canonicalRule(once, fam), once, `${c.name}: ${line}`);
        n++;
      }
    }
  }
  assert.ok(n > 1000);
});

test('canonicalRule: the known nft/legacy differences', () => {
  const same = (a: string, b: string, fam: Family = 'IPv4'): void => assert.is(canonicalRule(a, fam), canonicalRule(b, fam), `${a} ≡ ${b}`);
  same('-s 1.2.3.4 -j RETURN', '-s 1.2.3.4/32 -j RETURN');
  same('-s 2001:DB8::1 -j RETURN', '-s 2001:db8::1/128 -j RETURN', 'IPv6');
  same('-s 10.1.2.3/8 -j RETURN', '-s 10.0.0.0/255.0.0.0 -j RETURN');
  same('-j MARK --or-mark 0x00004000', '-j MARK --set-xmark 0x4000/0x4000');
  same('-j MARK --xor-mark 0x00004000', '-j MARK --set-xmark 0x4000/0x0');
  same('-j MARK --set-mark 0x1', '-j MARK --set-xmark 0x1/0xffffffff');
  same('-m mark --mark 0x00004000/0x00004000 -j ACCEPT', '-m mark --mark 0x4000/0x4000 -j ACCEPT');
  same('-m mark --mark 16384/0xffffffff -j ACCEPT', '-m mark --mark 0x4000 -j ACCEPT');
  same('-s 1.2.3.4 -m ipvs --vaddr 1.2.3.4 --vproto tcp --vport 80 -j DROP', '-s 1.2.3.4/32 -m ipvs --vproto 6 --vaddr 1.2.3.4/32 --vport 80 -j DROP');
  same('-s 1.2.3.4 -m ipvs --vaddr 1.2.3.4 --vproto sctp --vport 80 -j DROP', '-s 1.2.3.4/32 -m ipvs --vproto 132 --vaddr 1.2.3.4 --vport 80 -j DROP');
  same('-j REJECT', '-j REJECT --reject-with icmp-port-unreachable');
  same('-j REJECT', '-j REJECT --reject-with icmp6-port-unreachable', 'IPv6');
  same('-p tcp --dport 80 -j ACCEPT', '-p tcp -m tcp --dport 80 -j ACCEPT');
  same('-p 6 -m tcp --destination-port 80 -j ACCEPT', '-p tcp -m tcp --dport 80 -j ACCEPT');
  same('-m comment --comment kubernetes -j X', '-m comment --comment "kubernetes" -j X');
  same(`-m comment --comment "with type 'hash ip:port'" -j X`, `-m comment --comment "with type \\'hash ip:port\\'" -j X`);
  same('-m set --match-set S dst,dst ! -i cbr0 -j M', '! -i cbr0 -m set --match-set S dst,dst -j M');
  same('-i ! cbr0 -j M', '! -i cbr0 -j M');
  same('-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT', '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  same('-m addrtype --dst-type LOCAL --src-type LOCAL -j X', '-m addrtype --src-type LOCAL --dst-type LOCAL -j X');
  same('-m mark ! --mark 0x1/0x1 -j RETURN', '-m mark --mark ! 0x1/0x1 -j RETURN');
  // different rules stay different
  const differ = (a: string, b: string): void => assert.is.not(canonicalRule(a), canonicalRule(b), `${a} ≢ ${b}`);
  differ('-s 1.2.3.4 -j RETURN', '! -s 1.2.3.4 -j RETURN');
  differ('-m mark --mark 0x4000/0x4000 -j ACCEPT', '-m mark --mark 0x2000/0x2000 -j ACCEPT');
  differ('-m comment --comment "a b" -j X', '-m comment --comment "a  b" -j X');
  differ('-m set --match-set A dst,dst -m set --match-set B src -j X', '-m set --match-set B src -m set --match-set A dst,dst -j X');
  differ('-j MARK --or-mark 0x4000', '-j MARK --xor-mark 0x4000');
  // exact canonical text
  assert.is(
    canonicalRule('-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully'),
    '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  );
  assert.is(canonicalRule('-m comment --comment "say \\"hi\\" \\\\ ok" -j X'), '-m comment --comment "say \\"hi\\" \\\\ ok" -j X');
});

test('canonicalRule: pairs written with iptables -A and read back with iptables-save on this host (nft, 1.8.9)', () => {
  for (const [written, saved] of [
    ['-m comment --comment x -p tcp --dport 80 -j ACCEPT', '-p tcp -m comment --comment x -m tcp --dport 80 -j ACCEPT'],
    ['-p 6 -m comment --comment kubernetes -j REJECT', '-p tcp -m comment --comment kubernetes -j REJECT --reject-with icmp-port-unreachable'],
    ['-m conntrack --ctstate ESTABLISHED,RELATED -m mark --mark 5 -j MARK --set-mark 3', '-m conntrack --ctstate RELATED,ESTABLISHED -m mark --mark 0x5 -j MARK --set-xmark 0x3/0xffffffff'],
  ] as const) assert.is(canonicalRule(written), canonicalRule(saved), written);
});

test('tokenizeRule: quotes, escapes, single quotes are literal', () => {
  assert.equal(tokenizeRule(`-m comment --comment "a 'b' \\"c\\"" -j X`).map((t) => t.text), ['-m', 'comment', '--comment', `a 'b' "c"`, '-j', 'X']);
  assert.equal(tokenizeRule('-m comment --comment "-j" -j X')[3], { text: '-j', quoted: true });
  assert.is(canonicalRule('-m comment --comment "-j DROP" -j ACCEPT'), '-m comment --comment "-j DROP" -j ACCEPT');
});

test('splitRuleLine', () => {
  assert.equal(splitRuleLine('-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN'), { op: 'A', chain: 'KUBE-SERVICES', spec: '-s 127.0.0.0/8 -j RETURN' });
  assert.equal(splitRuleLine('-I INPUT 1 -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER'),
    { op: 'I', chain: 'INPUT', position: 1, spec: '-m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER' });
  assert.equal(splitRuleLine('-I INPUT -j X'), { op: 'I', chain: 'INPUT', spec: '-j X' });
  assert.equal(splitRuleLine('[12:3400] -A FORWARD -j DOCKER-USER'), { op: 'A', chain: 'FORWARD', spec: '-j DOCKER-USER' });
  assert.is(trySplitRuleLine(':KUBE-SERVICES - [0:0]'), null);
  assert.throws(() => splitRuleLine('COMMIT'), (e: unknown) => e instanceof StateParseError);
});

test('parseIptablesSave: structure and errors', () => {
  const t = parseIptablesSave('# Generated by ip6tables-save v1.8.9 on x\n*filter\n:INPUT DROP [5:100]\n:X - [0:0]\n-A X -j REJECT\nCOMMIT\n');
  assert.is(t.filter!.chains.get('INPUT')!.policy, 'DROP');
  assert.equal(t.filter!.chains.get('X')!.rules, ['-j REJECT --reject-with icmp6-port-unreachable']);
  for (const [text, line] of [
    ['-A X -j Y\n', 1],
    ['*nat\n:X - [0:0]\n-I X 1 -j Y\nCOMMIT\n', 3],
    ['*nat\nbogus\n', 2],
    ['COMMIT\n', 1],
  ] as const) {
    assert.throws(() => parseIptablesSave(text), (e: unknown) => e instanceof StateParseError && e.line === line, text);
  }
});

test.run();
