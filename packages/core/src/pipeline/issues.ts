import type { ErrorObject } from 'ajv/dist/2020.js';
import { escapePointer } from '../contracts/pointer.js';
import { nonFiniteAsString } from '@rankwise/formats';

/** One thing wrong with an input file: where (file + JSON pointer), what was found, what is allowed. */
export interface ValidationIssue {
  file: string;
  /** RFC 6901 JSON pointer into the file ('' for the whole document). */
  pointer: string;
  message: string;
  /** The package whose code said it (a stage package's `check`), shown after the pointer. */
  source?: string;
}

/** At most this many issues are printed per file; the rest are counted. */
export const MAX_ISSUES_PER_FILE = 50;

/** The issues to print: the first `max` of each file, then one line per file saying how many more there are. */
export function capIssues(issues: readonly ValidationIssue[], max = MAX_ISSUES_PER_FILE): ValidationIssue[] {
  const perFile = new Map<string, number>();
  const out: ValidationIssue[] = [];
  for (const issue of issues) {
    const n = (perFile.get(issue.file) ?? 0) + 1;
    perFile.set(issue.file, n);
    if (n <= max) out.push(issue);
  }
  for (const [file, n] of perFile) {
    if (n > max) out.push({ file, pointer: '', message: `… and ${n - max} more problems (${n} in all; the first ${max} are shown)` });
  }
  return out;
}

export function formatIssue(issue: ValidationIssue): string {
  // One line per issue whatever a file contained: line breaks inside names or values are shown escaped.
  const source = issue.source === undefined ? '' : ` (${issue.source})`;
  return `${issue.file}: ${issue.pointer === '' ? '/' : issue.pointer}${source}: ${issue.message}`.replace(/\r?\n/g, '\\n');
}

/** Invalid input: the CLI prints every issue and exits with code 2; nothing was loaded or trained. */
export class PipelineValidationError extends Error {
  readonly exitCode = 2;

  constructor(readonly issues: ValidationIssue[]) {
    super(capIssues(issues).map(formatIssue).join('\n'));
    this.name = 'PipelineValidationError';
  }
}

export { escapePointer };

/** The unescaped tokens of a JSON pointer (RFC 6901): `/a~1b/0` → `['a/b', '0']`; `''` → `[]`. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function valueAt(data: unknown, pointer: string): unknown {
  let value: unknown = data;
  for (const token of parsePointer(pointer)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[token];
  }
  return value;
}

/** A value as a user would write it, shortened. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value); // JSON would say null
  const text = JSON.stringify(value, nonFiniteAsString);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

type Schema = Record<string, unknown>;

/**
 * The schema's own words for a composite rule: `x-message` is a whole sentence ("give exactly one of…"),
 * `x-allowed` describes the allowed values ("a name or a list of names") and is shown after what was found.
 */
function customMessage(error: ErrorObject, found?: string): string | undefined {
  const parent = error.parentSchema as Schema | undefined;
  const message = parent?.['x-message'];
  if (typeof message === 'string') return message;
  const allowed = parent?.['x-allowed'];
  if (typeof allowed === 'string') return found === undefined ? allowed : `found ${found}, allowed: ${allowed}`;
  return undefined;
}

/** Turns ajv's errors into one issue per real defect: no "must match then schema" noise. */
export function ajvIssues(errors: readonly ErrorObject[], data: unknown, file: string, prefix = ''): ValidationIssue[] {
  const composite = errors.filter((e) => ['oneOf', 'anyOf', 'not'].includes(e.keyword) && customMessage(e));
  const insideComposite = (e: ErrorObject) => composite.some((c) => c !== e && e.schemaPath.startsWith(`${c.schemaPath}/`));
  // A value of the wrong type makes every other rule about it (and below it) noise: report only the type.
  // (Only type errors that are reported themselves: those inside a composite rule are folded into its message.)
  const wrongType = errors.filter((e) => e.keyword === 'type' && !insideComposite(e)).map((e) => e.instancePath);
  const belowWrongType = (e: ErrorObject) => e.keyword !== 'type' && wrongType.some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`));
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'if' || insideComposite(error) || belowWrongType(error)) continue;
    const issue = describe(error, data);
    if (!issue) continue;
    const full = { file, pointer: prefix + issue.pointer, message: issue.message };
    const key = `${full.pointer}\u0000${full.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(full);
    }
  }
  if (issues.length === 0 && errors.length > 0) {
    // Never let filtering turn an invalid document into a valid one.
    const first = errors[0];
    issues.push({ file, pointer: prefix + first.instancePath, message: `found ${show(valueAt(data, first.instancePath))}: ${first.message ?? first.keyword}` });
  }
  return issues;
}

function describe(error: ErrorObject, data: unknown): { pointer: string; message: string } | null {
  const pointer = error.instancePath;
  const found = show(valueAt(data, pointer));
  const p = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as Schema;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((parent.properties as Schema | undefined) ?? {});
      // A map whose keys follow a pattern (e.g. load.adapters' names): say which keys are allowed.
      const patterns = Object.keys((parent.patternProperties as Schema | undefined) ?? {}).map((k) => `keys matching ${k}`);
      return {
        pointer: `${pointer}/${escapePointer(String(p.additionalProperty))}`,
        message: `unknown key "${p.additionalProperty}"; allowed: ${[...allowed, ...patterns].join(', ')}`,
      };
    }
    case 'required':
      return { pointer, message: `missing required key "${p.missingProperty}"` };
    case 'dependentRequired':
      return { pointer, message: `"${p.property}" needs "${p.missingProperty}" too` };
    case 'type': {
      const types = String(p.type).split(',');
      return { pointer, message: `found ${found}, allowed: ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}` };
    }
    case 'enum':
      return { pointer, message: `found ${found}, allowed: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { pointer, message: `found ${found}, allowed: ${JSON.stringify(p.allowedValue)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { pointer, message: `found ${found}, allowed: ${String(p.comparison)} ${String(p.limit)}` };
    case 'pattern':
      return { pointer, message: `found ${found}, allowed: a string matching /${String(p.pattern)}/` };
    case 'minLength':
      return { pointer, message: `found ${found}, allowed: at least ${String(p.limit)} characters` };
    case 'maxLength':
      return { pointer, message: `found ${found}, allowed: at most ${String(p.limit)} characters` };
    case 'minItems':
      return { pointer, message: `found ${found}, allowed: at least ${String(p.limit)} items` };
    case 'maxItems':
      return { pointer, message: `found ${found}, allowed: at most ${String(p.limit)} items` };
    case 'uniqueItems':
      return { pointer, message: `found ${found}, allowed: no duplicates (items ${String(p.j)} and ${String(p.i)} are equal)` };
    case 'oneOf':
    case 'anyOf':
    case 'not':
      return { pointer, message: customMessage(error, found) ?? `found ${found}, which does not fit this field (${error.message ?? error.keyword})` };
    default:
      return { pointer, message: `found ${found}: ${error.message ?? error.keyword}` };
  }
}
