/**
 * Reads the files shipped with ipvsc (JSON Schemas, handlebars templates) from the package
 * folder, and what `npm run build` generated from them (dist/*.generated.cjs). An edge module:
 * the validate and render stages receive the contents.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The package root: src/load (tsx) or dist/load (built) are two levels below it. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const SCHEMA_FILES = {
  Service: 'service.schema.json',
  EndpointSlice: 'endpointslice.schema.json',
  Endpoints: 'endpoints.schema.json',
  Node: 'node.schema.json',
  KubeProxyConfiguration: 'kubeproxyconfiguration.schema.json',
} as const;

export type SchemaKind = keyof typeof SCHEMA_FILES;

export function readSchemaTexts(): Record<SchemaKind, string> {
  const out = {} as Record<SchemaKind, string>;
  for (const [kind, file] of Object.entries(SCHEMA_FILES) as [SchemaKind, string][]) {
    out[kind] = readFileSync(join(PACKAGE_ROOT, 'schemas', file), 'utf8');
  }
  return out;
}

/** The validators `npm run build` generated (scripts/build-validators.mjs), if they exist. */
export function readPrebuiltValidators(): Record<string, unknown> | undefined {
  return requireGenerated('validators.generated.cjs');
}

/** The templates `npm run build` precompiled (scripts/build-templates.mjs), if they exist. */
export function readPrebuiltTemplates(): Record<string, unknown> | undefined {
  return requireGenerated('templates.generated.cjs');
}

/**
 * A build output that is only a shortcut: absent, or unloadable (a truncated or corrupt file),
 * it is undefined, and the shipped schemas and templates are compiled at run time instead. A
 * broken cache must never stop a compile.
 */
function requireGenerated(file: string): Record<string, unknown> | undefined {
  try {
    const m: unknown = createRequire(import.meta.url)(join(PACKAGE_ROOT, 'dist', file));
    return typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const TEMPLATE_FILES = ['ipvsadm.restore.hbs', 'ipset.restore.hbs', 'iptables.restore.hbs'] as const;
export type TemplateName = (typeof TEMPLATE_FILES)[number];

export function readTemplates(): Record<TemplateName, string> {
  const out = {} as Record<TemplateName, string>;
  for (const f of TEMPLATE_FILES) out[f] = readFileSync(join(PACKAGE_ROOT, 'templates', f), 'utf8');
  return out;
}

export function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
