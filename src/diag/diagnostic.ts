/**
 * Diagnostics are data, collected rather than thrown (Terraform's tfdiags, publint's messages).
 * A stage returns its result plus the diagnostics it found; the CLI decides whether to go on.
 */

export type Severity = 'error' | 'warning';

export interface Position {
  readonly line: number;
  readonly col: number;
}

export interface Diagnostic {
  readonly severity: Severity;
  /** SCREAMING_SNAKE with a stage prefix: YAML_SYNTAX, SCHEMA_TYPE, RULE_DUPLICATE_PORT, … */
  readonly code: string;
  readonly summary: string;
  readonly hint?: string;
  readonly file?: string;
  /** 1-based start position, filled in lazily by load/locate.ts. */
  readonly pos?: Position;
  /** JSON pointer inside the document (`/spec/ports/0/port`). */
  readonly path?: string;
  /** `Service default/web` */
  readonly object?: string;
  /** 0-based index of the YAML document in its file. */
  readonly doc?: number;
}

export const hasErrors = (diags: readonly Diagnostic[]): boolean => diags.some((d) => d.severity === 'error');

/** Stable order: by file, line, column, then code; diagnostics without a file last. */
export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  return [...diags].sort((a, b) => {
    if ((a.file ?? '\uffff') !== (b.file ?? '\uffff')) return (a.file ?? '\uffff') < (b.file ?? '\uffff') ? -1 : 1;
    const la = a.pos?.line ?? 0;
    const lb = b.pos?.line ?? 0;
    if (la !== lb) return la - lb;
    const ca = a.pos?.col ?? 0;
    const cb = b.pos?.col ?? 0;
    if (ca !== cb) return ca - cb;
    return a.code < b.code ? -1 : a.code > b.code ? 1 : a.summary < b.summary ? -1 : a.summary > b.summary ? 1 : 0;
  });
}

/** Escapes one JSON-pointer token (RFC 6901). */
export const pointerToken = (key: string | number): string => String(key).replace(/~/g, '~0').replace(/\//g, '~1');

export const pointer = (...keys: readonly (string | number)[]): string => keys.map((k) => '/' + pointerToken(k)).join('');

/** Raised only for states that cannot happen: the top-level catch turns it into exit 70. */
export class InternalError extends Error {
  override readonly name = 'InternalError';
}

/** A user-facing failure that is not tied to an input document (bad flag, unreadable path). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
