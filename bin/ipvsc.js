#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (npm run build).
import { main } from '../dist/main.js';
process.exitCode = await main(process.argv.slice(2));
