/**
 * The live host reads kernel files and the kernel release in its own process (no `cat`, no
 * `uname` to start: issue #5); what it returns must be what those tools print.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveHost, catFiles } from '../../../src/host/live-host.js';

let ran = 0;

test('cat FILE... reads as cat prints: the texts joined; a missing file is exit 1 with cat\'s message', async () => {
  ran++;
  const dir = mkdtempSync(join(tmpdir(), 'ipvsc-cat-'));
  writeFileSync(join(dir, 'a'), 'one\n');
  writeFileSync(join(dir, 'b'), 'two');
  const h = new LiveHost('n');
  for (const args of [[join(dir, 'a'), join(dir, 'b')], [join(dir, 'a'), join(dir, 'missing'), join(dir, 'b')], [join(dir, 'missing')], [dir], [join(dir, 'a', 'x')]]) {
    const got = await h.run({ tool: 'cat', args, mutating: false });
    const real = spawnSync('cat', args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    assert.equal(got, { exitCode: real.status, stdout: real.stdout, stderr: real.stderr }, args.join(' '));
  }
});

test('kernel files read as cat reads them (/proc/sys/kernel/random/boot_id, ostype)', () => {
  ran++;
  const real = spawnSync('cat', ['/proc/sys/kernel/random/boot_id', '/proc/sys/kernel/ostype'], { encoding: 'utf8' });
  assert.equal(catFiles(['/proc/sys/kernel/random/boot_id', '/proc/sys/kernel/ostype']), { exitCode: 0, stdout: real.stdout, stderr: '' });
  assert.match(real.stdout, /^[0-9a-f-]{36}\nLinux\n$/);
});

test('uname -r reads as uname prints it', async () => {
  ran++;
  const real = spawnSync('uname', ['-r'], { encoding: 'utf8' });
  assert.equal(await new LiveHost('n').run({ tool: 'uname', args: ['-r'], mutating: false }), { exitCode: 0, stdout: real.stdout, stderr: '' });
});

test('ran every case', () => assert.is(ran, 3));
test.run();
