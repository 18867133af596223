/**
 * Golden compile cases: every folder under cases/ is compiled through the CLI and each artifact
 * is compared byte for byte with expected/ (written by hand from the reference; see README.md).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listCases, readFlags, readText } from '../helpers/cases.js';
import { runCli } from '../helpers/run-cli.js';

const ROOT = join(import.meta.dirname, 'cases');
const cases = listCases(ROOT);
/** Guard against an empty run: uvu exits 0 when nothing is found. */
const EXPECTED_AT_LEAST = 60;
const ARTIFACTS = ['ipvsadm.restore', 'ipset.restore', 'iptables.restore', 'ip6tables.restore'];

test('finds the golden cases', () => {
  assert.ok(cases.length >= EXPECTED_AT_LEAST, `found ${cases.length} cases, expected at least ${EXPECTED_AT_LEAST}`);
});

for (const c of cases) {
  test(`compile ${c.name}`, async () => {
    const expected = join(c.dir, 'expected');
    assert.ok(existsSync(join(expected, 'ipvsadm.restore')), `${c.name} has no expected/ipvsadm.restore`);
    const out = mkdtempSync(join(tmpdir(), 'ipvsc-golden-'));
    try {
      const r = await runCli(['compile', '-f', join(c.dir, 'input'), ...readFlags(c.dir), '-o', out]);
      assert.is(r.code, 0, `exit ${r.code}\n${r.stderr}`);
      for (const name of ARTIFACTS) {
        const want = readText(join(expected, name));
        const have = readText(join(out, name));
        if (want === undefined) {
          assert.is(have, undefined, `${name} was written but the case expects none`);
          continue;
        }
        if (process.env['UPDATE_GOLDEN'] === '1' && have !== undefined && have !== want) writeFileSync(join(expected, name), have);
        assert.fixture(have ?? '<missing>', want, `${c.name}/${name}`);
      }
      const wantAddrs = readText(join(expected, 'kube-ipvs0.txt'));
      if (wantAddrs !== undefined) {
        const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { kubeIpvs0: string[] };
        assert.equal(manifest.kubeIpvs0, wantAddrs.split('\n').filter((l) => l.trim() !== ''), 'kube-ipvs0 addresses');
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test.run();
