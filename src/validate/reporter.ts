/** Collects the diagnostics of one object, with its file, document and path prefix filled in. */
import type { Diagnostic, Severity } from '../diag/diagnostic.js';
import type { Manifest } from '../load/source.js';

export interface Reporter {
  error(code: string, path: string, summary: string, hint?: string): void;
  warn(code: string, path: string, summary: string, hint?: string): void;
}

/** One object per checked manifest (a class, not three closures: 20k of them at 10k Services). */
class ManifestReporter implements Reporter {
  constructor(private readonly m: Manifest, private readonly out: Diagnostic[]) {}
  error(code: string, path: string, summary: string, hint?: string): void {
    this.push('error', code, path, summary, hint);
  }
  warn(code: string, path: string, summary: string, hint?: string): void {
    this.push('warning', code, path, summary, hint);
  }
  private push(severity: Severity, code: string, path: string, summary: string, hint?: string): void {
    const m = this.m;
    this.out.push({ severity, code, file: m.file, doc: m.doc, object: m.label, path: m.base + path, summary, ...(hint ? { hint } : {}) });
  }
}

export function reporterFor(m: Manifest, out: Diagnostic[]): Reporter {
  return new ManifestReporter(m, out);
}

/** DNS-1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric, ≤ 63. */
export const isDns1123Label = (s: string): boolean => s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
/** DNS-1035 label: as DNS-1123 but starting with a letter (Service names). */
export const isDns1035Label = (s: string): boolean => s.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(s);
export const isDns1123Subdomain = (s: string): boolean =>
  s.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s);
/** IANA service name (named targetPort): ≤ 15, [a-z0-9-], a letter, no leading/trailing/double '-'. */
export const isIanaSvcName = (s: string): boolean =>
  s.length >= 1 && s.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--');
