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
import { show } from '../validate/check-schema.js';
import type { Manifest, SourceFile } from './source.js';
import { loadAllFast } from './fast-yaml.js';

/** YAML 1.2 core schema (no timestamps → Date, no !!binary), plus `<<` merge keys as kubectl allows. */
// `types` exists at runtime (js-yaml 4) but is missing from @types/js-yaml.
const SCHEMA = yaml.CORE_SCHEMA.extend([(yaml as unknown as { types: { merge: yaml.Type } }).types.merge]);

// The schema's implicit types in js-yaml's order (null, bool, int, float, merge): the fast reader
// types plain scalars with them, exactly as js-yaml does (`compiledImplicit` is not in the typings).
const IMPLICIT = (SCHEMA as unknown as { compiledImplicit: readonly yaml.Type[] }).compiledImplicit;

/** A plain scalar's value under SCHEMA: the first implicit type that resolves it, else the text. */
export function resolvePlain(text: string): unknown {
  for (let i = 0; i < IMPLICIT.length; i++) {
    const t = IMPLICIT[i]!;
    if (t.resolve(text)) return t.construct(text);
  }
  return text;
}

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
  if (manifests.length === 0 && !diags.some((d) => d.severity === 'error')) {
    // Kept a warning, not an error: kube-proxy with no Services is a real state (the base chains
    // and empty sets; upstream scenarios compile it). But an empty input is more often a mistake
    // (an empty directory, a failed `kubectl get … > file`), so it is said once, loudly.
    const emptyFiles = diags.filter((d) => d.code === 'INPUT_EMPTY').length;
    diags.splice(0, diags.length, ...diags.filter((d) => d.code !== 'INPUT_EMPTY'));
    diags.push({
      severity: 'warning', code: 'INPUT_NO_OBJECTS',
      summary: files.length === 0
        ? 'the inputs hold no *.yaml, *.yml or *.json files: compiling a node without Services'
        : `the inputs hold no Kubernetes objects (${emptyFiles === files.length ? `${files.length} file(s), empty or comments only` : 'only empty lists'}): compiling a node without Services`,
      hint: 'check the -f paths; plan/apply of this result would remove every IPVS virtual server of the node',
    });
  }
  return { manifests, diags };
}

function parseFile(f: SourceFile, out: Manifest[], diags: Diagnostic[]): void {
  let docs: unknown[];
  const trimmed = f.text.trimStart();
  const isJsonFile = /\.json$/i.test(f.path);
  const startsJson = trimmed.startsWith('{') || trimmed.startsWith('[');
  try {
    let json: unknown[] | undefined;
    if (startsJson) {
      try {
        json = [JSON.parse(f.text)];
      } catch (e) {
        // A *.json file must be JSON; anything else starting with { or [ may be YAML flow style.
        if (isJsonFile) throw e;
      }
    }
    // maxDepth: js-yaml's own nesting limit (default 100), set to ours so both parsers agree.
    docs = json ?? loadAllFast(f.text, resolvePlain) ?? yaml.loadAll(f.text, null, { schema: SCHEMA, filename: f.path, maxDepth: LIMITS.depth } as yaml.LoadOptions);
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
      diags.push({ ...guard, file: f.path, doc: i, ...objectLabel(doc) });
      return;
    }
    collect(doc, f.path, i, '', out, diags);
  });
}

function collect(value: unknown, file: string, doc: number, base: string, out: Manifest[], diags: Diagnostic[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    diags.push({
      severity: 'error', code: 'DOC_NOT_OBJECT', file, doc, path: base, summary: `expected a Kubernetes object (a mapping with apiVersion and kind), found ${describe(value)}`,
      hint: Array.isArray(value) ? 'separate several objects with --- lines, or wrap them as kind: List with items:' : 'each YAML document (between --- lines) must be one Kubernetes object',
    });
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
    const missing = typeof kind !== 'string' ? 'kind' : 'apiVersion';
    const present = obj[missing] !== undefined && obj[missing] !== null;
    const md = obj['metadata'];
    const named = typeof md === 'object' && md !== null && typeof (md as Record<string, unknown>)['name'] === 'string' ? ` ${show((md as Record<string, unknown>)['name'])}` : '';
    diags.push({
      severity: 'error', code: 'DOC_NO_KIND', file, doc, path: present ? `${base}/${missing}` : base,
      summary: present ? `object${named}: ${missing} must be a string, got ${show(obj[missing])}` : `object${named} has no ${missing}`,
      hint: 'every document must be a Kubernetes object with apiVersion and kind (for example apiVersion: v1, kind: Service)',
    });
    return;
  }
  const meta = obj['metadata'] as Record<string, unknown> | undefined;
  const name = typeof meta?.['name'] === 'string' ? meta['name'] : '<unnamed>';
  const ns = typeof meta?.['namespace'] === 'string' ? meta['namespace'] : '';
  // A KubeProxyConfiguration has no metadata: it is named by its kind alone.
  const label = safeLabel(kind === 'KubeProxyConfiguration' && name === '<unnamed>' ? kind : `${kind} ${ns ? `${ns}/` : ''}${name}`);
  out.push({ kind, apiVersion, value: obj, file, doc, base, label });
}

/** `{ object: 'Service shop/web' }` for a refused document that still names itself; else nothing. */
function objectLabel(doc: unknown): { object?: string } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return {};
  const o = doc as Record<string, unknown>;
  const md = Object.prototype.hasOwnProperty.call(o, 'metadata') ? o['metadata'] : undefined;
  const get = (v: unknown, k: string): string | undefined => {
    if (typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    const x = (v as Record<string, unknown>)[k];
    return typeof x === 'string' ? x : undefined;
  };
  const kind = get(o, 'kind');
  if (kind === undefined) return {};
  const name = get(md, 'name');
  const ns = get(md, 'namespace');
  return { object: safeLabel(`${kind}${name !== undefined ? ` ${ns ? `${ns}/` : ''}${name}` : ''}`) };
}

/**
 * Object labels quote user text (names, namespaces) into diagnostics before any rule has
 * checked it: control characters and line separators are escaped and the length is capped,
 * so no input can forge a diagnostic line.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a terminal
const UNSAFE = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/;

export function safeLabel(s: string): string {
  if (s.length <= 120 && !UNSAFE.test(s)) return s; // nearly every label: no copy
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a terminal
  const esc = s.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return esc.length > 120 ? `${esc.slice(0, 117)}...` : esc;
}

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : `a ${typeof v}`);

/** Bounded walk of a parsed value; returns an error diagnostic (without file) or null. */
export function guardTree(root: unknown, maxNodes: number = LIMITS.nodesPerDocument): Diagnostic | null {
  let budget = maxNodes;
  // Fast pass without path bookkeeping: this runs over every node of every input. Recursion is
  // safe (it stops at LIMITS.depth) and about 3x faster than an explicit stack (issue #5).
  // Returns null, 'budget', 'depth', or the forbidden key found.
  const walk = (v: unknown, depth: number): string | null => {
    if (--budget < 0) return 'budget';
    if (typeof v !== 'object' || v === null) return null;
    if (depth >= LIMITS.depth) return 'depth';
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const r = walk(v[i], depth + 1);
        if (r !== null) return r;
      }
      return null;
    }
    // for-in: parsed values are plain objects whose prototype has no enumerable keys; a key
    // named __proto__ is an own property here (JSON.parse and js-yaml define it, never assign it).
    for (const k in v) {
      if (FORBIDDEN_KEYS.has(k)) return k;
      const r = walk((v as Record<string, unknown>)[k], depth + 1);
      if (r !== null) return r;
    }
    return null;
  };
  const found = walk(root, 0);
  if (found === null) return null;
  if (found === 'budget') {
    return { severity: 'error', code: 'INPUT_TOO_COMPLEX', summary: `document expands to more than ${maxNodes} values (YAML alias expansion?)`, hint: 'remove the anchors/aliases that multiply the document ("billion laughs")' };
  }
  if (found === 'depth') {
    return { severity: 'error', code: 'INPUT_TOO_DEEP', path: pathTo(root, (_v, d) => d >= LIMITS.depth), summary: `document is nested more than ${LIMITS.depth} levels deep`, hint: 'Kubernetes objects are at most about ten levels deep; this input is not one' };
  }
  return { severity: 'error', code: 'INPUT_FORBIDDEN_KEY', path: pathTo(root, (_v, _d, key) => key !== undefined && FORBIDDEN_KEYS.has(String(key))), summary: `key "${found}" is not allowed`, hint: 'no Kubernetes field has this name; it is refused to rule out prototype pollution' };
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
    const reason = ex.reason ?? ex.message ?? 'unknown';
    if (/nesting exceeded maxDepth/.test(reason)) {
      return { severity: 'error', code: 'INPUT_TOO_DEEP', file: f.path, ...(pos ? { pos } : {}), summary: `document is nested more than ${LIMITS.depth} levels deep`, hint: 'Kubernetes objects are at most about ten levels deep; this input is not one' };
    }
    return { severity: 'error', code: 'YAML_SYNTAX', file: f.path, ...(pos ? { pos } : {}), summary: `YAML syntax error: ${reason}`, hint: yamlHint(reason) };
  }
  // JSON.parse's messages differ between Node versions and often carry no position
  // ("Unexpected token ']', ..."x"... is not valid JSON"): find the offending offset ourselves.
  const found = jsonErrorAt(f.text);
  const offset = found?.offset ?? 0;
  const before = f.text.slice(0, offset);
  const line = before.split('\n').length;
  const pos = { line, col: offset - before.lastIndexOf('\n') };
  const what = found?.what ?? (ex.message ?? String(e)).replace(/ in JSON at position \d+.*$/s, '');
  return { severity: 'error', code: 'JSON_SYNTAX', file: f.path, pos, summary: `JSON syntax error: ${what}`, hint: 'check for a missing or extra comma, quote or bracket near this position (JSON allows no trailing commas and no comments)' };
}

const yamlHint = (reason: string): string =>
  /duplicated mapping key/.test(reason) ? 'a key may appear only once in a mapping; remove or rename one of the two'
    : /tab characters/.test(reason) ? 'indent with spaces; YAML does not allow tabs for indentation'
      : /unidentified alias/.test(reason) ? 'an alias *NAME needs an anchor &NAME earlier in the same document'
        : /end of the stream/.test(reason) ? 'a quote or bracket opened earlier is never closed'
          : 'check indentation and quoting around this position';

/**
 * Offset and description of the first JSON syntax error, or null when the text is valid JSON.
 * Iterative (no recursion), so hostile nesting cannot overflow the stack; runs only after
 * JSON.parse has failed.
 */
export function jsonErrorAt(text: string): { offset: number; what: string } | null {
  let i = 0;
  const n = text.length;
  const stack: ('{' | '[')[] = [];
  const ws = (): void => { while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++; };
  const tokenAt = (): string => (i >= n ? 'end of input' : /[!-~]/.test(text[i]!) ? `unexpected '${text[i]!}'` : `unexpected ${JSON.stringify(text[i])}`);
  const fail = (expected: string): { offset: number; what: string } => ({ offset: Math.min(i, n), what: `${tokenAt()}, expected ${expected}` });
  const str = (): boolean => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return true; }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const esc = text[i + 1];
        if (esc === 'u') { if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) { i++; return false; } i += 6; continue; }
        if (esc === undefined || !'"\\/bfnrt'.includes(esc)) { i++; return false; }
        i += 2;
        continue;
      }
      i++;
    }
    return false;
  };
  const scalar = (): boolean => {
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) return false;
    i += m[0].length;
    return true;
  };
  // value: parse one value; returns false on error (i at the error)
  let expectValue = true;
  ws();
  for (;;) {
    if (expectValue) {
      ws();
      const c = text[i];
      if (c === '{') {
        i++; ws();
        if (text[i] === '}') { i++; expectValue = false; }
        else {
          if (text[i] !== '"') return fail('a "quoted" key or }');
          if (!str()) return { offset: i, what: 'invalid escape or control character in a string' };
          ws();
          if (text[i] !== ':') return fail('":"');
          i++;
          stack.push('{');
          continue;
        }
      } else if (c === '[') {
        i++; ws();
        if (text[i] === ']') { i++; expectValue = false; }
        else { stack.push('['); continue; }
      } else if (c === '"') {
        if (!str()) return { offset: i, what: 'invalid escape or control character in a string' };
        expectValue = false;
      } else if (!scalar()) return fail('a value');
      else expectValue = false;
    }
    ws();
    const top = stack.at(-1);
    if (top === undefined) return i < n ? fail('end of input') : null;
    if (text[i] === ',') {
      i++; ws();
      if (top === '{') {
        if (text[i] !== '"') return fail('a "quoted" key (no trailing comma before })');
        if (!str()) return { offset: i, what: 'invalid escape or control character in a string' };
        ws();
        if (text[i] !== ':') return fail('":"');
        i++;
      } else if (text[i] === ']') return fail('a value (no trailing comma before ])');
      expectValue = true;
      continue;
    }
    if ((top === '{' && text[i] === '}') || (top === '[' && text[i] === ']')) { i++; stack.pop(); continue; }
    return fail(top === '{' ? '"," or "}"' : '"," or "]"');
  }
}
