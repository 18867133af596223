/** manifest.json's inputsDigest: the inputs' bytes and the resolved configuration, nothing else. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inputsDigest } from '../../../src/cli/manifest.js';
import { resolveConfig } from '../../../src/config/resolve-config.js';
import type { SourceFile } from '../../../src/load/source.js';

const config = (flags: { name: string; value: string }[] = []) => resolveConfig(flags, undefined).config;
const base = { config: config(), nodeIPs: [], nodePortRange: [30000, 32767] as const };
const a: SourceFile = { path: 'cluster/a.yaml', text: 'kind: Service\n' };
const b: SourceFile = { path: 'cluster/b.yaml', text: 'kind: Node\n' };

test('paths and the order of the files do not count; their bytes do', () => {
  const d = inputsDigest([a, b], base);
  assert.is(inputsDigest([{ ...b, path: '/srv/x/b.yaml' }, { ...a, path: './a.yaml' }], base), d);
  assert.is.not(inputsDigest([a, { ...b, text: 'kind: Node \n' }], base), d);
  assert.is.not(inputsDigest([a], base), d);
  // The digest of the bytes as read wins over the text (a BOM or CRLF the text lost).
  assert.is.not(inputsDigest([a, { ...b, sha256: 'f'.repeat(64) }], base), d);
});

test('a node with no interface address is not the same as no interface list', () => {
  // compile uses --node-ip or the Node's addresses when no interfaces are given; a live node
  // with none gives no NodePort addresses at all.
  assert.is.not(inputsDigest([a], { ...base, interfaces: [] }), inputsDigest([a], base));
});

test('the resolved configuration counts, not how it was spelled', () => {
  const d = inputsDigest([a], base);
  assert.is.not(inputsDigest([a], { ...base, config: config([{ name: 'ipvs-scheduler', value: 'wrr' }]) }), d);
  assert.is(inputsDigest([a], { ...base, config: config([{ name: 'ipvs-scheduler', value: 'rr' }]) }), d, 'rr is the default');
  const gates = (v: string) => inputsDigest([a], { ...base, config: config([{ name: 'feature-gates', value: v }]) });
  assert.is(gates('A=true,B=false'), gates('B=false,A=true'));
  assert.is.not(gates('A=true,B=false'), gates('A=true,B=true'));
  assert.is.not(inputsDigest([a], { ...base, nodeIPs: ['192.168.0.10'] }), d);
  assert.is.not(inputsDigest([a], { ...base, nodePortRange: [30000, 32000] }), d);
});

test.run();
