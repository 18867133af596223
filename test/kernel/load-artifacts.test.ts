/**
 * Every golden case's expected artifacts load into the real tools, in a fresh network namespace
 * on this host (root): `ipset restore -exist`, `iptables-restore --test --noflush`, then a real
 * `iptables-restore -w --noflush` (and ip6tables). This kernel has no xt_ipvs, so the
 * KUBE-IPVS-OUT-FILTER `-m ipvs` rules are left out here; vm-tests/load-in-vm.sh loads the full
 * files, ipvsadm.restore included, in the VM.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCases } from '../helpers/cases.js';
import { isOneKernelElement, parseIpsetSave } from '../../src/state/parse-ipset.js';

const ROOT = join(import.meta.dirname, '..', 'golden', 'cases');
const cases = listCases(ROOT);
const ns = `ipvsc-load-${process.pid}`;

function sh(args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync(args[0]!, args.slice(1), { input, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
const inNs = (args: string[], input?: string) => sh(['ip', 'netns', 'exec', ns, ...args], input);

test('finds the golden cases', () => {
  assert.ok(cases.length >= 60, `found ${cases.length}`);
});

for (const c of cases) {
  test(`real tools load ${c.name}`, () => {
    assert.is(sh(['ip', 'netns', 'add', ns]).code, 0, 'ip netns add');
    try {
      const dir = join(c.dir, 'expected');
      const ipset = inNs(['ipset', 'restore', '-exist'], readFileSync(join(dir, 'ipset.restore'), 'utf8'));
      assert.is(ipset.code, 0, `ipset restore: ${ipset.out}`);
      // apply's read-back proves a set it filled by `ipset list -t`'s entry count (host/read-state.ts
      // readFilledSets): each distinct `add` line of an artifact must be one element of the kernel's.
      // And isOneKernelElement's claim: such entries are printed back by `ipset save` as written.
      const restoreText = readFileSync(join(dir, 'ipset.restore'), 'utf8');
      const restore = restoreText.split('\n');
      for (const set of parseIpsetSave(restoreText)) {
        const name = set.name;
        const adds = new Set(restore.filter((l) => l.startsWith(`add ${name} `)));
        const head = inNs(['ipset', 'list', '-t', name]);
        assert.is(head.code, 0, `ipset list -t ${name}: ${head.out}`);
        assert.is(/^Number of entries: (\d+)$/m.exec(head.out)?.[1], String(adds.size), `${name}: the kernel counts each added entry once`);
        if (!set.entries.every((e) => isOneKernelElement(e, set.type, set.family))) continue;
        const saved = inNs(['ipset', 'save', name]).out.split('\n').filter((l) => l.startsWith('add '));
        assert.equal(new Set(saved), adds, `${name}: ipset save prints each entry as written`);
      }
      for (const [file, tool] of [['iptables.restore', 'iptables-restore'], ['ip6tables.restore', 'ip6tables-restore']] as const) {
        if (!existsSync(join(dir, file))) continue;
        const text = readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => !l.includes(' -m ipvs ')).join('\n');
        const t = inNs([tool, '--test', '--noflush'], text);
        assert.is(t.code, 0, `${tool} --test: ${t.out}`);
        const r = inNs([tool, '-w', '--noflush'], text);
        assert.is(r.code, 0, `${tool}: ${r.out}`);
        const saved = inNs([tool.replace('-restore', '-save')]);
        const want = text.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith('-I ')).length;
        const have = saved.out.split('\n').filter((l) => l.startsWith('-A ')).length;
        assert.is(have, want, `${tool}: every rule is in the kernel`);
      }
    } finally {
      sh(['ip', 'netns', 'del', ns]);
    }
  });
}

test.run();
