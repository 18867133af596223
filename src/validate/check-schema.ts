/**
 * Schema validation of every input object with ajv (allErrors), turning ajv's errors into
 * diagnostics that keep the JSON path (cdk8s-cli drops it; users then cannot find the field).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import type { Diagnostic } from '../diag/diagnostic.js';
import type { Manifest } from '../load/source.js';

export type SchemaKind = 'Service' | 'EndpointSlice' | 'Endpoints' | 'Node' | 'KubeProxyConfiguration';

/** apiVersion each kind must have; anything else of that kind is an error with a hint. */
export const KIND_API_VERSION: Record<SchemaKind, string> = {
  Service: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  Endpoints: 'v1',
  Node: 'v1',
  KubeProxyConfiguration: 'kubeproxy.config.k8s.io/v1alpha1',
};

export const isKnownKind = (k: string): k is SchemaKind => Object.prototype.hasOwnProperty.call(KIND_API_VERSION, k);

export type Validators = Record<SchemaKind, ValidateFunction>;

/** verbose: errors carry the data and the parent schema, which the hints quote. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, allowUnionTypes: true } as const;

/** What scripts/build-validators.mjs stamps into the prebuilt module, over the schema texts. */
export function schemasDigest(texts: Readonly<Record<SchemaKind, string>>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(KIND_API_VERSION) as SchemaKind[]) h.update(`${k}\0${texts[k]}\0`);
  return h.digest('hex');
}

/**
 * The validators of the shipped schemas: the prebuilt standalone module when it was built from
 * exactly these schema texts (saves ~200 ms per run, issue #5), else compiled now with ajv.
 */
export function compileValidators(texts: Readonly<Record<SchemaKind, string>>, prebuilt?: Readonly<Record<string, unknown>>): Validators {
  const kinds = Object.keys(KIND_API_VERSION) as SchemaKind[];
  if (prebuilt && prebuilt['__schemasDigest'] === schemasDigest(texts) && kinds.every((k) => typeof prebuilt[k] === 'function')) {
    return Object.fromEntries(kinds.map((k) => [k, prebuilt[k]])) as Validators;
  }
  // Loaded only here: ajv's compiler is ~70 ms of module loading that the prebuilt path skips.
  const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass };
  const ajv = new Ajv(AJV_OPTIONS);
  return Object.fromEntries(kinds.map((k) => [k, ajv.compile(JSON.parse(texts[k]) as object)])) as Validators;
}

export function checkSchema(m: Manifest, kind: SchemaKind, validators: Validators): Diagnostic[] {
  const validate = validators[kind];
  if (validate(m.value)) return [];
  const errors = (validate.errors ?? []).filter(notNoise);
  return errors.map((e) => toDiagnostic(e, m));
}

/** ajv reports an `anyOf`/`if` umbrella next to the real cause; keep the causes. */
const notNoise = (e: ErrorObject): boolean => e.keyword !== 'if' && e.keyword !== 'anyOf';

function toDiagnostic(e: ErrorObject, m: Manifest): Diagnostic {
  const at = m.base + e.instancePath;
  const field = fieldName(e.instancePath) || '(object)';
  const base = { severity: 'error' as const, file: m.file, doc: m.doc, object: m.label };
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { ...base, code: 'SCHEMA_REQUIRED', path: `${at}/${missing}`, summary: `${field === '(object)' ? '' : field + '.'}${missing} is required`, hint: `add ${missing} to ${field === '(object)' ? 'the object' : field}` };
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((e.parentSchema as { properties?: Record<string, unknown> }).properties ?? {});
      const guess = closest(extra, known);
      return { ...base, code: 'SCHEMA_UNKNOWN_FIELD', path: `${at}/${extra}`, summary: `unknown field ${field === '(object)' ? '' : field + '.'}${extra}`, hint: guess ? `did you mean ${guess}?` : `known fields: ${known.join(', ')}` };
    }
    case 'type':
      return { ...base, code: 'SCHEMA_TYPE', path: at, summary: `${field} must be ${typeWords((e.params as { type: string | string[] }).type)}, got ${jsonType(e.data)}`, hint: typeHint((e.params as { type: string | string[] }).type, e.data, field) };
    case 'enum':
    {
      const options = ((e.params as { allowedValues: unknown[] }).allowedValues).filter((v): v is string => typeof v === 'string' && v !== '');
      const guess = typeof e.data === 'string' ? (options.find((o) => o.toLowerCase() === (e.data as string).toLowerCase()) ?? closest(e.data, options)) : undefined;
      return { ...base, code: 'SCHEMA_ENUM', path: at, summary: `${field} must be one of ${allowed(e)}, got ${show(e.data)}`, hint: guess ? `did you mean ${guess}? (values are case-sensitive)` : 'values are case-sensitive' };
    }
    case 'const':
      return { ...base, code: 'SCHEMA_CONST', path: at, summary: `${field} must be ${show((e.params as { allowedValue: unknown }).allowedValue)}, got ${show(e.data)}`, hint: field === 'apiVersion' && m.kind === 'KubeProxyConfiguration' ? `ipvsc reads the KubeProxyConfiguration only as ${show((e.params as { allowedValue: unknown }).allowedValue)}, the version kube-proxy --config takes` : field === 'apiVersion' ? `kube-proxy reads ${m.kind} only as ${show((e.params as { allowedValue: unknown }).allowedValue)}; convert the object (kubectl convert) or fetch it again with kubectl get -o yaml` : 'fix the value' };
    case 'minimum':
    case 'maximum':
      return { ...base, code: 'SCHEMA_RANGE', path: at, summary: `${field} must be ${rangeWords(e)}, got ${show(e.data)}`, hint: rangeHint(field) };
    case 'minItems':
    case 'maxItems':
      return { ...base, code: 'SCHEMA_ITEMS', path: at, summary: `${field} must have ${e.keyword === 'minItems' ? 'at least' : 'at most'} ${String((e.params as { limit: number }).limit)} item(s), got ${Array.isArray(e.data) ? e.data.length : 0}`, hint: itemsHint(field, e.keyword) };
    case 'minLength':
    case 'maxLength':
      return { ...base, code: 'SCHEMA_LENGTH', path: at, summary: `${field} must be ${e.keyword === 'minLength' ? 'at least' : 'at most'} ${String((e.params as { limit: number }).limit)} characters long` };
    case 'pattern':
      return { ...base, code: 'SCHEMA_FORMAT', path: at, summary: `${field} has an invalid format: ${show(e.data)}`, hint: field.endsWith('Period') || field.endsWith('Timeout') ? 'durations are written like 30s, 15m or 1h30m' : 'check the value' };
    default:
      return { ...base, code: 'SCHEMA_INVALID', path: at, summary: `${field} ${e.message ?? 'is invalid'}` };
  }
}

/** `spec.ports[0].port` from `/spec/ports/0/port`. */
export const fieldName = (instancePath: string): string =>
  instancePath.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, t) => (/^\d+$/.test(t) ? `${acc}[${t}]` : acc === '' ? t : `${acc}.${t}`), '');

function rangeWords(e: ErrorObject): string {
  const ps = e.parentSchema as { minimum?: number; maximum?: number } | undefined;
  if (ps && typeof ps.minimum === 'number' && typeof ps.maximum === 'number') return `${ps.minimum}-${ps.maximum}`;
  return `${e.keyword === 'minimum' ? '>=' : '<='} ${String((e.params as { limit: number }).limit)}`;
}

function typeHint(type: string | string[], data: unknown, field: string): string {
  const want = Array.isArray(type) ? type.filter((t) => t !== 'null') : [type];
  if (want.includes('array') && typeof data === 'object' && data !== null) return 'write a list: one entry per line, each starting with "- "';
  if (want.includes('array')) return 'write a list, even for a single value: one entry per line starting with "- ", or [a, b]';
  if (want.includes('object')) return 'write a mapping: indented "key: value" lines';
  if ((want.includes('integer') || want.includes('number')) && typeof data === 'string') {
    if (/^-?\d+$/.test(data.trim())) return 'write the number without quotes';
    return /port$/i.test(field) && !/targetPort$/.test(field) ? 'ports are numbers (1-65535); a port name belongs in name, a named container port in targetPort' : 'write a number without quotes';
  }
  if (want.includes('integer') || want.includes('number')) return 'write a number without quotes';
  if (want.includes('boolean')) return 'write true or false without quotes';
  if (want.includes('string') && (typeof data === 'number' || typeof data === 'boolean')) return 'quote the value ("...") so that YAML reads it as a string';
  return 'quote strings, and write numbers and booleans without quotes';
}

function itemsHint(field: string, keyword: string): string {
  if (/^endpoints$/.test(field)) return 'split the endpoints over several EndpointSlices with the same kubernetes.io/service-name label (the controller puts at most 100 in each)';
  if (/addresses$/.test(field)) return keyword === 'minItems' ? 'every endpoint needs an address; remove the endpoint instead' : 'an endpoint is one pod; kube-proxy uses only its first address';
  if (/clusterIPs$|ipFamilies$|podCIDRs$/.test(field)) return 'at most one IPv4 and one IPv6 entry (dual stack)';
  return 'see the field documentation';
}

const rangeHint = (field: string): string =>
  /nodePort|healthCheckNodePort/.test(field) ? 'node ports are 1-65535 (the API server allocates them from 30000-32767)'
    : /port/.test(field) ? 'ports are 1-65535' : 'see the field documentation';

const allowed = (e: ErrorObject): string => ((e.params as { allowedValues: unknown[] }).allowedValues).filter((v) => v !== null).map(show).join(', ');
const typeWords = (t: string | string[]): string => (Array.isArray(t) ? t.filter((x) => x !== 'null') : [t]).map((x) => (x === 'integer' ? 'an integer' : x === 'object' ? 'a mapping' : x === 'array' ? 'a list' : `a ${x}`)).join(' or ');
const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${show(v)}`);

/** Values echoed in messages are JSON-quoted and cut, so no input can forge output lines. */
export const show = (v: unknown): string => {
  // JSON.stringify leaves U+2028/U+2029 (and NEL) raw; they break lines in some viewers.
  const s = (JSON.stringify(v) ?? String(v)).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
};

/** The known name within edit distance 2, for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 99;
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
