/**
 * Text → Kubernetes objects. Pure.
 *
 * Speed matters (issue #5: 10k Services in well under a second), so the fast path parses with
 * js-yaml (≈10× faster than `yaml`'s document API) or JSON.parse, and positions for diagnostics
 * are located afterwards, only for files that have something to report (load/locate.ts).
 *
 * Hostile input: js-yaml keeps YAML aliases as shared references, so a "billion laughs" document
 * is cheap to load but exponential to walk; `guardTree` walks with a node budget and a depth
 * limit before anything else touches the value, and refuses prototype-polluting keys.
 */
import yaml from 'js-yaml';
import type { Diagnostic } from '../diag/diagnostic.js';
import { pointer } from '../diag/diagnostic.js';
import type { Manifest, SourceFile } from './source.js';

/** YAML 1.2 core schema (no timestamps → Date, no !!binary), plus `<<` merge keys as kubectl allows. */
// `types` exists at runtime (js-yaml 4) but is missing from @types/js-yaml.
const SCHEMA = yaml.CORE_SCHEMA.extend([(yaml as unknown as { types: { merge: yaml.Type } }).types.merge]);

export const LIMITS = {
  /** Nodes visited per document (aliases counted each time they are reached). */
  nodesPerDocument: 2_000_000,
  depth: 64,
} as const;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface ParseResult {
  readonly manifests: Manifest[];
  readonly diags: Diagnostic[];
}

export function parseManifests(files: readonly SourceFile[]): ParseResult {
  const manifests: Manifest[] = [];
  const diags: Diagnostic[] = [];
  for (const f of files) parseFile(f, manifests, diags);
  return { manifests, diags };
}

function parseFile(f: SourceFile, out: Manifest[], diags: Diagnostic[]): void {
  let docs: unknown[];
  const trimmed = f.text.trimStart();
  const looksJson = /\.json$/i.test(f.path) || trimmed.startsWith('{') || trimmed.startsWith('[');
  try {
    if (looksJson && (trimmed.startsWith('{') || trimmed.startsWith('['))) docs = [JSON.parse(f.text)];
    else docs = yaml.loadAll(f.text, null, { schema: SCHEMA, filename: f.path });
  } catch (e) {
    diags.push(syntaxDiagnostic(f, e));
    return;
  }
  if (docs.every((d) => d === null || d === undefined)) {
    diags.push({ severity: 'warning', code: 'INPUT_EMPTY', file: f.path, summary: 'file contains no objects' });
    return;
  }
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    // A document without aliases cannot hold more values than it has bytes; an alias bomb can.
    const guard = guardTree(doc, Math.max(LIMITS.nodesPerDocument, f.text.length));
    if (guard) {
      diags.push({ ...guard, file: f.path, doc: i });
      return;
    }
    collect(doc, f.path, i, '', out, diags);
  });
}

function collect(value: unknown, file: string, doc: number, base: string, out: Manifest[], diags: Diagnostic[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    diags.push({ severity: 'error', code: 'DOC_NOT_OBJECT', file, doc, path: base, summary: `expected a Kubernetes object (a mapping with apiVersion and kind), found ${describe(value)}` });
    return;
  }
  const obj = value as Record<string, unknown>;
  const kind = obj['kind'];
  const apiVersion = obj['apiVersion'];
  if (typeof kind === 'string' && /List$/.test(kind) && Array.isArray(obj['items'])) {
    // `kubectl get -o yaml` prints kind: List (or ServiceList…) with the objects under items.
    (obj['items'] as unknown[]).forEach((item, i) => collect(item, file, doc, `${base}/items/${i}`, out, diags));
    return;
  }
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
    diags.push({
      severity: 'error', code: 'DOC_NO_KIND', file, doc, path: base,
      summary: `object has no ${typeof kind !== 'string' ? 'kind' : 'apiVersion'}`,
      hint: 'every document must be a Kubernetes object with apiVersion and kind (for example apiVersion: v1, kind: Service)',
    });
    return;
  }
  const meta = obj['metadata'] as Record<string, unknown> | undefined;
  const name = typeof meta?.['name'] === 'string' ? meta['name'] : '<unnamed>';
  const ns = typeof meta?.['namespace'] === 'string' ? meta['namespace'] : '';
  out.push({ kind, apiVersion, value: obj, file, doc, base, label: `${kind} ${ns ? `${ns}/` : ''}${name}` });
}

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : `a ${typeof v}`);

/** Bounded walk of a parsed value; returns an error diagnostic (without file) or null. */
export function guardTree(root: unknown, maxNodes: number = LIMITS.nodesPerDocument): Diagnostic | null {
  let budget = maxNodes;
  // Fast pass without path bookkeeping: this runs over every node of every input.
  const values: unknown[] = [root];
  const depths: number[] = [0];
  while (values.length) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (--budget < 0) {
      return { severity: 'error', code: 'INPUT_TOO_COMPLEX', summary: `document expands to more than ${maxNodes} values (YAML alias expansion?)`, hint: 'remove the anchors/aliases that multiply the document ("billion laughs")' };
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= LIMITS.depth) {
      return { severity: 'error', code: 'INPUT_TOO_DEEP', path: pathTo(root, (_v, d) => d >= LIMITS.depth), summary: `document is nested more than ${LIMITS.depth} levels deep`, hint: 'Kubernetes objects are at most about ten levels deep; this input is not one' };
    }
    if (Array.isArray(v)) {
      for (const item of v) { values.push(item); depths.push(depth + 1); }
    } else {
      for (const k of Object.keys(v)) {
        if (FORBIDDEN_KEYS.has(k)) {
          return { severity: 'error', code: 'INPUT_FORBIDDEN_KEY', path: pathTo(root, (_v, _d, key) => key !== undefined && FORBIDDEN_KEYS.has(String(key))), summary: `key "${k}" is not allowed`, hint: 'no Kubernetes field has this name; it is refused to rule out prototype pollution' };
        }
        values.push((v as Record<string, unknown>)[k]);
        depths.push(depth + 1);
      }
    }
  }
  return null;
}

/** Slow path, only after the fast pass found something: the pointer of the first matching node. */
function pathTo(root: unknown, match: (v: unknown, depth: number, key?: string | number) => boolean): string {
  const walk = (v: unknown, depth: number, path: (string | number)[], key?: string | number): string | null => {
    if (match(v, depth, key)) return pointer(...path);
    if (typeof v !== 'object' || v === null || depth > LIMITS.depth) return null;
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, child] of entries) {
      const r = walk(child, depth + 1, [...path, k], k);
      if (r !== null) return r;
    }
    return null;
  };
  return walk(root, 0, []) ?? '';
}

function syntaxDiagnostic(f: SourceFile, e: unknown): Diagnostic {
  if (e instanceof RangeError) {
    return { severity: 'error', code: 'INPUT_TOO_DEEP', file: f.path, summary: 'input is nested too deeply to parse', hint: 'Kubernetes objects are at most about ten levels deep; this input is not one' };
  }
  const ex = e as { name?: string; reason?: string; message?: string; mark?: { line: number; column: number } };
  if (ex.name === 'YAMLException') {
    const pos = ex.mark ? { line: ex.mark.line + 1, col: ex.mark.column + 1 } : undefined;
    return { severity: 'error', code: 'YAML_SYNTAX', file: f.path, ...(pos ? { pos } : {}), summary: `YAML syntax error: ${ex.reason ?? ex.message ?? 'unknown'}`, hint: 'check indentation and quoting around this position' };
  }
  // JSON.parse: "Unexpected token } in JSON at position 42" / "... (line 3 column 5)"
  const msg = ex.message ?? String(e);
  const at = /position (\d+)/.exec(msg);
  let pos;
  if (at) {
    const offset = Number(at[1]);
    const before = f.text.slice(0, offset);
    const line = before.split('\n').length;
    pos = { line, col: offset - before.lastIndexOf('\n') };
  }
  return { severity: 'error', code: 'JSON_SYNTAX', file: f.path, ...(pos ? { pos } : {}), summary: `JSON syntax error: ${msg}`, hint: 'check for a missing comma, quote or bracket near this position' };
}
