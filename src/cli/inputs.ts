/** Shared by compile, validate, plan and apply: reads -f/--config inputs and compiles them. */
import { resolve } from 'node:path';
import type { Diagnostic } from '../diag/diagnostic.js';
import { UsageError } from '../diag/diagnostic.js';
import { readInputs } from '../load/read-inputs.js';
import type { SourceFile } from '../load/source.js';
import { compileInputs } from '../pipeline/compile.js';
import type { CompileOptions, CompileResult } from '../pipeline/compile.js';
import { DEFAULT_NODE_PORT_RANGE } from '../config/resolve-config.js';
import type { InterfaceAddress } from '../model/types.js';
import type { ParsedArgs } from './args.js';
import { flagSet, flagValue, flagValues } from './args.js';
import type { Io } from './context.js';
import { readPrebuiltTemplates, readPrebuiltValidators, readSchemaTexts, readTemplates } from '../load/read-assets.js';
import { compileValidators } from '../validate/check-schema.js';
import type { Assets } from '../pipeline/compile.js';

let assets: Assets | undefined;
/** The compiler's validators and templates, loaded once (only commands that compile pay for them). */
export function loadAssets(): Assets {
  assets ??= { validators: compileValidators(readSchemaTexts(), readPrebuiltValidators()), templates: { ...readTemplates(), prebuilt: readPrebuiltTemplates() } };
  return assets;
}

export const DEFAULT_MAX_INPUT = 256 * 1024 * 1024;

export interface ReadResult {
  readonly files: SourceFile[];
  readonly diags: Diagnostic[];
  readonly opts: CompileOptions;
}

export function readCompileInputs(args: ParsedArgs, io: Io, interfaces?: readonly InterfaceAddress[]): ReadResult {
  const fileArgs = [...flagValues(args, 'filename')];
  const configPath = flagValue(args, 'config');
  const destroy = flagSet(args, 'destroy');
  if (destroy && args.command !== 'plan' && args.command !== 'apply') throw new UsageError(`--destroy is a flag of plan and apply, not of ${args.command}`, 'ipvsc plan --destroy shows what would be removed; ipvsc apply --destroy removes it');
  // --destroy needs no Service; only the configuration's ownership settings (flags suffice).
  if (fileArgs.length === 0 && !configPath && !destroy) throw new UsageError('no input: give -f FILE|DIR|- (repeatable)', 'for example: ipvsc compile -f cluster/ --hostname-override node-a -o out/');
  const max = flagValue(args, 'max-input-bytes');
  const maxBytes = max === undefined ? DEFAULT_MAX_INPUT : Number(max);
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new UsageError('--max-input-bytes must be a positive integer');
  const read = readInputs(configPath ? [...fileArgs, configPath] : fileArgs, { cwd: io.cwd, maxBytes, readStdin: io.readStdin });
  const configFile = configPath ? read.files.find((f) => resolve(io.cwd, f.path) === resolve(io.cwd, configPath))?.path : undefined;
  const opts: CompileOptions = {
    flags: args.kubeProxy,
    nodeIPs: flagValues(args, 'node-ip'),
    nodePortRange: parseRange(flagValue(args, 'service-node-port-range')),
    ...(configFile ? { configFile } : {}),
    ...(interfaces ? { interfaces } : {}),
  };
  return { files: read.files, diags: read.diags, opts };
}

function parseRange(v: string | undefined): [number, number] {
  if (v === undefined) return DEFAULT_NODE_PORT_RANGE;
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(v);
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535) throw new UsageError(`--service-node-port-range ${JSON.stringify(v)} must look like 30000-32767`);
  return [Number(m[1]), Number(m[2])];
}

/** Reads and compiles; diagnostics of reading come first. */
export function compileFromArgs(args: ParsedArgs, io: Io, interfaces?: readonly InterfaceAddress[], nodeName?: string): Compiled {
  return compileRead(readCompileInputs(args, io, interfaces), nodeName);
}

export type Compiled = CompileResult & { files: SourceFile[]; opts: CompileOptions };

/**
 * Compiles inputs already read, for `nodeName` when given (--all-nodes compiles the inputs it
 * read once for every node: stdin can be read only once).
 */
export function compileRead(r: ReadResult, nodeName?: string): Compiled {
  const opts = nodeName !== undefined ? { ...r.opts, nodeName } : r.opts;
  if (r.diags.some((d) => d.severity === 'error')) return { diags: r.diags, files: r.files, opts };
  const res = compileInputs(r.files, opts, loadAssets());
  return { ...res, diags: [...r.diags, ...res.diags], files: r.files, opts };
}
