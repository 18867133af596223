/**
 * The only place that reads input files: expands `-f` arguments (files, directories searched
 * recursively for *.yaml, *.yml and *.json, `-` for stdin) into SourceFiles, refusing
 * unreadable, binary, non-UTF-8 and oversized input with diagnostics instead of exceptions.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Diagnostic } from '../diag/diagnostic.js';
import type { SourceFile } from './source.js';

export interface ReadOptions {
  readonly cwd: string;
  /** Refuse any single input larger than this (bounded memory for hostile input). */
  readonly maxBytes: number;
  readonly readStdin: () => Buffer;
}

const INPUT_EXT = /\.(ya?ml|json)$/i;

export function readInputs(args: readonly string[], opts: ReadOptions): { files: SourceFile[]; diags: Diagnostic[] } {
  const files: SourceFile[] = [];
  const diags: Diagnostic[] = [];
  const seen = new Set<string>();
  const display = (p: string): string => {
    const r = relative(opts.cwd, p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };
  const addFile = (abs: string, explicit: boolean): void => {
    let real: string;
    try {
      real = realpathSync(abs);
    } catch {
      diags.push({ severity: 'error', code: 'INPUT_NOT_FOUND', summary: `no such file or directory: ${display(abs)}`, hint: 'check the -f argument' });
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    const st = statSync(real);
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(real).sort();
      } catch (e) {
        diags.push({ severity: 'error', code: 'INPUT_UNREADABLE', summary: `cannot read directory ${display(abs)}: ${(e as Error).message}` });
        return;
      }
      const before = files.length + diags.length;
      for (const n of names) {
        if (n.startsWith('.')) continue; // editors' swap files, .git
        const child = join(abs, n);
        let cst;
        try {
          cst = statSync(child);
        } catch {
          continue;
        }
        if (cst.isDirectory() || INPUT_EXT.test(n)) addFile(child, false);
      }
      if (explicit && files.length + diags.length === before) {
        diags.push({ severity: 'warning', code: 'INPUT_EMPTY_DIR', file: display(abs), summary: 'directory holds no *.yaml, *.yml or *.json files', hint: 'inputs are found by these extensions, in subdirectories too; hidden files (.name) are skipped' });
      }
      return;
    }
    if (!st.isFile()) {
      diags.push({ severity: 'error', code: 'INPUT_NOT_FILE', summary: `${display(abs)} is not a regular file` });
      return;
    }
    if (!explicit && !INPUT_EXT.test(abs)) return;
    if (st.size > opts.maxBytes) {
      diags.push(tooLarge(display(abs), st.size, opts.maxBytes));
      return;
    }
    let buf: Buffer;
    try {
      buf = readFileSync(real);
    } catch (e) {
      diags.push({ severity: 'error', code: 'INPUT_UNREADABLE', summary: `cannot read ${display(abs)}: ${(e as Error).message}` });
      return;
    }
    pushDecoded(display(abs), buf);
  };
  const pushDecoded = (path: string, buf: Buffer): void => {
    const problem = checkBytes(path, buf, opts.maxBytes);
    if (problem) diags.push(problem);
    // The digest of the bytes as read (manifest.json's inputsDigest), from the bytes rather than
    // re-encoding the text (issue #5); taken on first read, as `plan -f` without --out never
    // makes a manifest (~60 ms for 17 MB).
    else {
      let digest: string | undefined;
      files.push({
        path,
        text: buf.toString('utf8').replace(/^\uFEFF/, ''),
        get sha256(): string {
          return (digest ??= createHash('sha256').update(buf).digest('hex'));
        },
      });
    }
  };
  for (const a of args) {
    if (a === '-') {
      let buf: Buffer;
      try {
        buf = opts.readStdin();
      } catch (e) {
        diags.push({ severity: 'error', code: 'INPUT_UNREADABLE', summary: `cannot read standard input: ${(e as Error).message}` });
        continue;
      }
      pushDecoded('<stdin>', buf);
    } else addFile(resolve(opts.cwd, a), true);
  }
  return { files, diags };
}

function tooLarge(path: string, size: number, max: number): Diagnostic {
  return {
    severity: 'error', code: 'INPUT_TOO_LARGE', file: path,
    summary: `input is ${size} bytes, more than the limit of ${max}`,
    hint: 'split the input, or raise the limit with --max-input-bytes if the file is trusted',
  };
}

/** Binary or non-UTF-8 input is refused before any parser sees it. */
export function checkBytes(path: string, buf: Buffer, max: number): Diagnostic | null {
  if (buf.length > max) return tooLarge(path, buf.length, max);
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) {
    return { severity: 'error', code: 'INPUT_ENCODING', file: path, summary: 'input is UTF-16 text (it starts with a UTF-16 byte order mark)', hint: 'save the file as UTF-8; Windows PowerShell 5 writes UTF-16 with ">" (use | Out-File -Encoding utf8)' };
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) return { severity: 'error', code: 'INPUT_BINARY', file: path, pos: bytePos(buf, nul), summary: `input contains a NUL byte (offset ${nul})`, hint: 'inputs are YAML or JSON text; is this a binary or compressed file?' };
  // isUtf8 validates without building a string (the text is decoded once, by the caller).
  if (!isUtf8(buf)) {
    const at = firstInvalidUtf8(buf);
    return { severity: 'error', code: 'INPUT_ENCODING', file: path, pos: bytePos(buf, at), summary: `input is not valid UTF-8 (byte 0x${(buf[at] ?? 0).toString(16).padStart(2, '0')} at offset ${at})`, hint: 'save the file as UTF-8 (kubectl always writes UTF-8); Latin-1 or Windows-1252 text must be converted, e.g. iconv -f latin1 -t utf-8' };
  }
  return null;
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(buf: Buffer): number {
  // Binary search on the longest valid prefix (a cut inside a sequence is valid with stream: true).
  let lo = 0;
  let hi = buf.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  // The longest valid prefix may end inside a multi-byte sequence whose next byte is the bad
  // one (Latin-1 "é" = 0xE9 then "\n"): report the sequence's first byte, the one to fix.
  let at = lo;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, lo));
  } catch {
    while (at > 0 && lo - at < 3 && ((buf[at - 1] ?? 0) & 0xc0) === 0x80) at--;
    if (at > 0 && (buf[at - 1] ?? 0) >= 0xc0) at--;
  }
  return at;
}

/** 1-based line and column (in characters of the valid text before it) of a byte offset. */
function bytePos(buf: Buffer, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = buf.indexOf(10); i >= 0 && i < offset; i = buf.indexOf(10, i + 1)) { line++; start = i + 1; }
  return { line, col: buf.subarray(start, offset).toString('utf8').length + 1 };
}
