/** The help text lists every flag, each with its description in a column of its own. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { helpText } from '../../../src/cli/help.js';
import { OWN_FLAGS } from '../../../src/cli/args.js';
import { KUBE_PROXY_FLAGS } from '../../../src/config/flags.js';

const lines = helpText('0.0.0').split('\n');

test('every flag has a line: the flag, at least two spaces, its help', () => {
  const flags = [
    ...OWN_FLAGS.map((f) => ({ label: `${f.short ? `-${f.short}, ` : ''}--${f.name}${f.value ? ' VALUE' : ''}`, help: f.help })),
    ...KUBE_PROXY_FLAGS.map((f) => ({ label: `--${f.name}${f.kind === 'bool' ? '' : ' VALUE'}`, help: f.help })),
  ];
  assert.ok(flags.length > 40, `${flags.length} flags`);
  for (const f of flags) {
    const line = lines.find((l) => l.trimStart().startsWith(`${f.label}  `));
    assert.ok(line, `no line for ${f.label} with its help two spaces after it`);
    assert.ok(line.endsWith(`  ${f.help}`), line);
  }
});

test('the help column lines up within each table', () => {
  const starts = (re: RegExp): Set<number> => new Set(lines.filter((l) => re.test(l)).map((l) => {
    const m = /^ +\S+(?: VALUE)? {2,}/.exec(l.replace(/^( +-\w,) /, '$1_'));
    assert.ok(m, `no help column in ${JSON.stringify(l)}`);
    return m[0].length;
  }));
  assert.is(starts(/^ {2}(-\w, | {4})--/).size, 1, 'ipvsc flags');
  assert.is(starts(/^ {2}--/).size, 1, 'kube-proxy flags');
});

test.run();
