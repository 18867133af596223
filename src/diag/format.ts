/**
 * Renders diagnostics for people (`file:line:col: error[CODE] Object: summary`) and as JSON.
 */
import type { Diagnostic } from './diagnostic.js';

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.pos ? `:${d.pos.line}:${d.pos.col}` : ''}: ` : '';
  const obj = d.object ? `${d.object}: ` : '';
  const lines = [`${where}${d.severity}[${d.code}] ${obj}${oneLine(d.summary)}`];
  if (d.path !== undefined && d.path !== '') lines.push(`  at ${d.path}${d.doc !== undefined ? ` (document ${d.doc + 1})` : ''}`);
  if (d.hint) lines.push(`  hint: ${oneLine(d.hint)}`);
  return lines.join('\n');
}

/** User text (names, values) never spans lines in our output. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a terminal
const oneLine = (s: string): string => s.replace(/[\r\n\t\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));

export function formatDiagnostics(diags: readonly Diagnostic[]): string {
  if (diags.length === 0) return '';
  const errors = diags.filter((d) => d.severity === 'error').length;
  const warnings = diags.length - errors;
  const body = diags.map(formatDiagnostic).join('\n');
  return `${body}\n${errors} error(s), ${warnings} warning(s)\n`;
}

export function diagnosticsToJson(diags: readonly Diagnostic[]): string {
  return JSON.stringify({ formatVersion: 1, diagnostics: diags }, null, 2) + '\n';
}
