import Ajv, { ValidateFunction } from 'ajv';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

/* eslint-disable @typescript-eslint/no-explicit-any -- OpenAPI documents are untyped JSON */
export type OpenApiDocument = Record<string, any>;
export type Schema = Record<string, any>;

export interface LintProblem {
  ruleId: string;
  severity: string;
  message: string;
  /** Where: JSON pointer into the document, e.g. #/paths/~1api~1v1~1trends~1top/get. */
  pointer: string;
}

/**
 * Runs `redocly lint` (recommended rules) on the document and returns every problem. Runs in
 * an empty temp directory (no config file is picked up) with telemetry off.
 */
export async function redoclyLint(document: OpenApiDocument): Promise<LintProblem[]> {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
    const result = await run(
      join(ROOT, 'node_modules/.bin/redocly'),
      ['lint', file, '--extends', 'recommended', '--format', 'json', '--max-problems', '1000'],
      {
        cwd: dir,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        maxBuffer: 64 * 1024 * 1024,
      },
    ).catch((error: { stdout?: string; message: string }) => {
      // Exit status 1 when there are errors: the report is still on stdout.
      if (error.stdout) return { stdout: error.stdout };
      throw error;
    });
    const report = JSON.parse(result.stdout) as {
      problems: { ruleId: string; severity: string; message: string; location: any[] }[];
    };
    return report.problems.map((p) => ({
      ruleId: p.ruleId,
      severity: p.severity,
      message: p.message,
      pointer: p.location?.[0]?.pointer ?? '',
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Human-readable pointer: #/paths/~1api~1v1~1x/get/responses → "GET /api/v1/x (responses)". */
export function describePointer(pointer: string): string {
  const parts = pointer
    .replace(/^#\//, '')
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (parts[0] === 'paths' && parts.length >= 3)
    return `${parts[2].toUpperCase()} ${parts[1]}${parts.length > 3 ? ` (${parts.slice(3).join('/')})` : ''}`;
  return pointer;
}

/**
 * Validates JSON answers against the document's schemas with ajv. OpenAPI 3.0 `nullable` is an
 * ajv keyword; documented objects are checked strictly (no undocumented fields) unless the
 * schema allows additional properties.
 */
export class SchemaValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(document: OpenApiDocument) {
    this.ajv.addFormat(
      'date-time',
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
    );
    const components = closeObjects(structuredClone(document.components ?? {}));
    this.ajv.addSchema(rewriteRefs({ $id: 'openapi', components }) as Schema);
  }

  /** Error text, or null when `value` matches `schema` (a schema from the document). */
  check(schema: Schema, value: unknown): string | null {
    const key = JSON.stringify(schema);
    let validate = this.cache.get(key);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(closeObjects(structuredClone(schema))) as Schema);
      this.cache.set(key, validate);
    }
    return validate(value) ? null : this.ajv.errorsText(validate.errors, { separator: '; ' });
  }
}

const rewriteRefs = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value).replace(/"#\/components\//g, '"openapi#/components/'));

/** Objects with documented properties and no additionalProperties: forbid undocumented fields. */
function closeObjects<T>(value: T): T {
  if (Array.isArray(value)) value.forEach(closeObjects);
  else if (value && typeof value === 'object') {
    const schema = value as Schema;
    if (schema.properties && schema.additionalProperties === undefined && !schema.allOf)
      schema.additionalProperties = false;
    Object.values(schema).forEach(closeObjects);
  }
  return value;
}

/**
 * TypeScript declarations for the document's component schemas: one exported type per schema
 * (the test's stand-in for a generated client's types).
 */
export function typesFromComponents(document: OpenApiDocument): string {
  const schemas = (document.components?.schemas ?? {}) as Record<string, Schema>;
  return Object.entries(schemas)
    .map(([name, schema]) => `export type ${name} = ${tsType(schema)};\n`)
    .join('\n');
}

function tsType(schema: Schema): string {
  let type: string;
  if (schema.$ref) type = String(schema.$ref).split('/').pop()!;
  else if (schema.allOf) type = schema.allOf.map(tsType).join(' & ');
  else if (schema.enum)
    type = schema.enum.map((v: unknown) => JSON.stringify(v)).join(' | ') || 'never';
  else if (schema.type === 'string') type = 'string';
  else if (schema.type === 'number' || schema.type === 'integer') type = 'number';
  else if (schema.type === 'boolean') type = 'boolean';
  else if (schema.type === 'array') type = `Array<${tsType(schema.items ?? {})}>`;
  else if (schema.type === 'object' || schema.properties) {
    const required = new Set<string>(schema.required ?? []);
    const fields = Object.entries((schema.properties ?? {}) as Record<string, Schema>).map(
      ([key, value]) => `${JSON.stringify(key)}${required.has(key) ? '' : '?'}: ${tsType(value)};`,
    );
    if (schema.additionalProperties) fields.push('[key: string]: unknown;');
    type = `{ ${fields.join(' ')} }`;
  } else type = 'unknown';
  return schema.nullable ? `(${type}) | null` : type;
}

/** Type-checks TypeScript sources with the project's compiler (strict); returns tsc's output. */
export async function typeCheck(files: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-types-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const compilerOptions = {
      noEmit: true,
      strict: true,
      target: 'es2022',
      lib: ['es2022'],
      types: [],
      skipLibCheck: true,
    };
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, files: Object.keys(files) }),
    );
    const result = await run(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
      { cwd: dir },
    ).catch((error: { stdout?: string; message: string }) => ({
      stdout: error.stdout || error.message,
    }));
    return result.stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
