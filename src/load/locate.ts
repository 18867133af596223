/**
 * JSON pointer → line:col, for diagnostics only. Pure.
 *
 * The fast parsers keep no positions, so a file with something to report is parsed a second
 * time with `yaml`'s document API and a LineCounter; every diagnostic of that file is then
 * placed at the deepest node its pointer reaches (for a missing field: its parent mapping).
 */
import type * as Yaml from 'yaml';
import type { LineCounter, Node as YamlNode, parseAllDocuments } from 'yaml';
import { lazyRequire } from '../util/lazy-require.js';

const yaml = lazyRequire<typeof Yaml>('yaml');
import type { Diagnostic } from '../diag/diagnostic.js';
import type { SourceFile } from './source.js';

export function locateDiagnostics(diags: readonly Diagnostic[], files: readonly SourceFile[]): Diagnostic[] {
  const byFile = new Map(files.map((f) => [f.path, f]));
  const cache = new Map<string, { docs: ReturnType<typeof parseAllDocuments>; lc: LineCounter } | null>();
  return diags.map((d) => {
    if (d.pos || !d.file) return d;
    const f = byFile.get(d.file);
    if (!f) return d;
    let parsed = cache.get(d.file);
    if (parsed === undefined) {
      // `yaml` composes nodes recursively: on a hostile, deeply nested file it would run the
      // stack out, and V8 reports a regexp compiled at that moment as a fatal out-of-memory
      // instead of a RangeError. Such a file keeps its diagnostics without positions.
      if (maxFlowDepth(f.text) > MAX_LOCATE_DEPTH || /\n {1000}/.test(f.text)) {
        cache.set(d.file, null);
        return d;
      }
      try {
        const lc = new (yaml().LineCounter)();
        // Only the CST/AST is built (no toJS), so aliases are never expanded here.
        const docs = yaml().parseAllDocuments(f.text, { lineCounter: lc, uniqueKeys: false });
        parsed = { docs, lc };
      } catch {
        parsed = null;
      }
      cache.set(d.file, parsed);
    }
    if (!parsed || !Array.isArray(parsed.docs)) return d;
    const doc = parsed.docs[d.doc ?? 0];
    if (!doc) return d;
    const offset = offsetOf(doc.contents, splitPointer(d.path ?? ''));
    if (offset === undefined) return d;
    const { line, col } = parsed.lc.linePos(offset);
    return { ...d, pos: { line, col } };
  });
}

function splitPointer(p: string): string[] {
  if (p === '') return [];
  return p.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function offsetOf(node: YamlNode | null, keys: string[]): number | undefined {
  let cur: YamlNode | null = node;
  let best = cur?.range?.[0];
  const { isMap, isScalar, isSeq } = yaml();
  for (const k of keys) {
    if (!cur) break;
    let next: YamlNode | null = null;
    if (isMap(cur)) {
      const pair = cur.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === k);
      if (pair) {
        next = (pair.value as YamlNode | null) ?? null;
        // A null value has no node: point at the key.
        if (!next && isScalar(pair.key)) best = pair.key.range?.[0] ?? best;
      }
    } else if (isSeq(cur)) {
      const i = Number(k);
      next = Number.isInteger(i) ? ((cur.items[i] as YamlNode | undefined) ?? null) : null;
    }
    if (!next) break;
    cur = next;
    best = cur.range?.[0] ?? best;
  }
  return best;
}

const MAX_LOCATE_DEPTH = 300;

/** Deepest nesting of `[`/`{` outside quoted strings: a cheap, non-recursive over-estimate guard. */
export function maxFlowDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > max) max = depth;
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
  }
  return max;
}
