/**
 * The validators `npm run build` generates (scripts/build-validators.mjs) must be the ones ipvsc
 * uses, and must judge every input exactly as validators compiled at run time from the same
 * schemas do: same errors, same paths, same parameters, over every golden input.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readPrebuiltValidators, readSchemaTexts } from '../../../src/load/read-assets.js';
import { compileValidators, isKnownKind } from '../../../src/validate/check-schema.js';
import type { SchemaKind } from '../../../src/validate/check-schema.js';
import { parseManifests } from '../../../src/load/parse-manifests.js';

const texts = readSchemaTexts();
const prebuilt = readPrebuiltValidators();
const runtime = compileValidators(texts);

function inputs(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return inputs(p);
    return /\.(ya?ml|json)$/.test(n) ? [p] : [];
  });
}
const files = [...inputs('test/golden/invalid'), ...inputs('test/golden/cases'), ...inputs('examples/cluster')];

test('the build generated validators for the shipped schemas, and ipvsc uses them', () => {
  assert.ok(prebuilt, 'dist/validators.generated.cjs is missing: run npm run build');
  const used = compileValidators(texts, prebuilt);
  for (const k of ['Service', 'EndpointSlice', 'Endpoints', 'Node', 'KubeProxyConfiguration'] as const) assert.is(used[k], prebuilt[k], k);
});

test('stale prebuilt validators (schemas edited after the build) are not used', () => {
  const edited = { ...texts, Service: texts.Service.replace('"maxLength": 253', '"maxLength": 252') };
  assert.is.not(edited.Service, texts.Service);
  const used = compileValidators(edited, prebuilt);
  assert.is.not(used.Service, prebuilt!['Service']);
});

test('prebuilt and run-time validators report the same errors on every golden input', () => {
  const used = compileValidators(texts, prebuilt);
  let objects = 0, withErrors = 0;
  const parsed = parseManifests(files.map((path) => ({ path, text: readFileSync(path, 'utf8') })));
  for (const m of parsed.manifests) {
    if (!isKnownKind(m.kind)) continue;
    const kind: SchemaKind = m.kind;
    objects++;
    const a = used[kind](m.value);
    const b = runtime[kind](m.value);
    assert.is(a, b, `${m.file} ${m.label}`);
    const strip = (es: typeof used.Service.errors) => (es ?? []).map((e) => ({ path: e.instancePath, keyword: e.keyword, params: e.params, schemaPath: e.schemaPath }));
    assert.equal(strip(used[kind].errors), strip(runtime[kind].errors), `${m.file} ${m.label}`);
    if (!a) withErrors++;
  }
  // The corpus must exercise both outcomes, or this test proves nothing.
  assert.ok(objects > 300, `only ${objects} objects`);
  assert.ok(withErrors > 30, `only ${withErrors} invalid objects`);
});

test.run();
