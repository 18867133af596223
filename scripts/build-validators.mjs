#!/usr/bin/env node
// Build step: compiles the JSON Schemas in schemas/ into one standalone CommonJS module of ajv
// validators (dist/validators.generated.cjs). Compiling the five schemas at run time costs
// ~140 ms and loading ajv's compiler another ~70 ms on every ipvsc start (issue #5); the
// generated code is the same functions ajv would build, and needs only ajv's tiny runtime.
// The module carries the sha256 of the schema texts it was built from: ipvsc uses it only when
// that digest matches the schemas it ships, and otherwise compiles at run time (check-schema.ts).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// Same table and options as src/load/read-assets.ts SCHEMA_FILES and src/validate/check-schema.ts AJV_OPTIONS.
const { SCHEMA_FILES } = await import(join(ROOT, 'dist/load/read-assets.js'));
const { AJV_OPTIONS, schemasDigest } = await import(join(ROOT, 'dist/validate/check-schema.js'));

const texts = {};
for (const [kind, file] of Object.entries(SCHEMA_FILES)) texts[kind] = readFileSync(join(ROOT, 'schemas', file), 'utf8');
const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const refs = {};
for (const [kind, text] of Object.entries(texts)) {
  const schema = JSON.parse(text);
  ajv.addSchema(schema);
  refs[kind] = schema.$id;
}
const code = (standalone.default ?? standalone)(ajv, refs);
const out = join(ROOT, 'dist', 'validators.generated.cjs');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(`${out}.tmp`, `${code}\nexports.__schemasDigest = ${JSON.stringify(schemasDigest(texts))};\n`);
renameSync(`${out}.tmp`, out); // whole or not at all: ipvsc loads it on every start
