// Fallback peak-RSS probe when /usr/bin/time is absent: runs SCRIPT in this process with the
// given arguments and writes process.resourceUsage().maxRSS (KiB) to OUTFILE on exit.
//   node bench/measure.mjs OUTFILE SCRIPT [ARGS…]
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [outFile, script, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], path.resolve(script), ...rest];
process.on('exit', () => fs.writeFileSync(outFile, `${process.resourceUsage().maxRSS}\n`));
await import(pathToFileURL(path.resolve(script)).href);
