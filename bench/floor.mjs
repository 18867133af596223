// The parse floor: what merely reading + parsing the input costs in a fresh Node process.
//   node bench/floor.mjs yaml|json FILE
import fs from 'node:fs';

const [fmt, file] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');
let n;
if (fmt === 'yaml') {
  const { default: yaml } = await import('js-yaml');
  n = yaml.loadAll(text).length;
} else {
  const doc = JSON.parse(text);
  n = Array.isArray(doc.items) ? doc.items.length : 1;
}
process.stdout.write(`${n}\n`);
