/**
 * The record of the last successful apply on this node (default /var/lib/ipvsc/applied): the
 * artifacts and manifest it applied, plus `applied.json` naming the node, the kernel's boot id
 * and the ipvsc version. `--refresh=changed` plans only the keys whose desired state moved since
 * then (plan/changed-keys.ts), so the record must never claim more than is true:
 * - every apply deletes `applied.json` before its first command, and writes the record again only
 *   when it succeeded (a failed, rolled-back or killed apply leaves no record: the next
 *   `--refresh=changed` reads the whole node);
 * - `applied.json` is renamed into place last, so a half-written record is no record;
 * - a record from another boot (the kernel's tables are empty after a reboot), another node or
 *   another ipvsc version is not used.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../diag/diagnostic.js';
import type { Artifacts } from '../render/render.js';
import type { Manifest } from './manifest.js';
import { manifestText } from './manifest.js';
import { readIfExists, writeFilesAtomically } from './write-outputs.js';

export const DEFAULT_APPLIED_DIR = '/var/lib/ipvsc/applied';
const MARKER = 'applied.json';
const ARTIFACT_FILES = ['ipvsadm.restore', 'ipset.restore', 'iptables.restore', 'ip6tables.restore'] as const;

export interface AppliedMeta {
  readonly formatVersion: 1;
  readonly node: string;
  /** /proc/sys/kernel/random/boot_id when the apply ran. */
  readonly bootId: string;
  /** `uname -r` then: the same boot, the same kernel (conditional sysctls). */
  readonly kernel?: string;
  readonly ipvsc: string;
}

export interface AppliedRecord {
  readonly meta: AppliedMeta;
  readonly artifacts: Artifacts;
  readonly manifest: Manifest;
}

/** The record in `dir`, or why there is none that can be used. */
export function readAppliedRecord(dir: string): AppliedRecord | { readonly missing: string } {
  const metaText = readIfExists(join(dir, MARKER));
  if (metaText === undefined) return { missing: `no record of a successful apply in ${dir}` };
  try {
    const meta = JSON.parse(metaText) as AppliedMeta;
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    if (meta.formatVersion !== 1 || typeof meta.bootId !== 'string' || typeof meta.node !== 'string' || typeof meta.ipvsc !== 'string') return { missing: `${join(dir, MARKER)} is not a record ipvsc wrote` };
    const v6 = readIfExists(join(dir, 'ip6tables.restore'));
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    const artifacts: Artifacts = {
      'ipvsadm.restore': read('ipvsadm.restore'),
      'ipset.restore': read('ipset.restore'),
      'iptables.restore': read('iptables.restore'),
      ...(v6 !== undefined ? { 'ip6tables.restore': v6 } : {}),
    };
    return { meta, artifacts, manifest };
  } catch (e) {
    return { missing: `the record in ${dir} cannot be read: ${(e as Error).message}` };
  }
}

/**
 * Forgets the record before an apply changes anything. Refuses the apply when the record exists
 * and cannot be removed: a record that outlived an apply would hide that apply's changes from
 * the next `--refresh=changed`.
 */
export function forgetAppliedRecord(dir: string): void {
  try {
    rmSync(join(dir, MARKER), { force: true });
  } catch (e) {
    throw new UsageError(`cannot remove ${join(dir, MARKER)} before applying: ${(e as Error).message}`, 'make the directory writable, or give another one with --applied-dir');
  }
}

/** Records a successful apply; a failure to write is reported, not fatal (the node is right). */
export function writeAppliedRecord(dir: string, rec: AppliedRecord, warn: (s: string) => void): void {
  const files: Record<string, string> = {};
  for (const f of ARTIFACT_FILES) {
    const text = rec.artifacts[f];
    if (text !== undefined) files[f] = text;
  }
  files['manifest.json'] = manifestText(rec.manifest);
  files[MARKER] = JSON.stringify(rec.meta, null, 2) + '\n'; // last: renamed into place after the rest
  try {
    writeFilesAtomically(dir, files, ['ip6tables.restore'], 0o600);
  } catch (e) {
    warn(`warning: cannot record this apply in ${dir} (${(e as Error).message}); the next --refresh=changed will read the whole node`);
  }
}

/** Whether `dir` already records exactly this (then a no-change run need not rewrite 6 MB). */
export function recordsAlready(dir: string, meta: AppliedMeta, manifest: Manifest): boolean {
  const r = readIfExists(join(dir, MARKER));
  const m = readIfExists(join(dir, 'manifest.json'));
  return r === JSON.stringify(meta, null, 2) + '\n' && m === manifestText(manifest);
}
