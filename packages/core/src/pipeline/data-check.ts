import { relative } from 'node:path';
import type { DataLocation, DatasetCheckContext, DatasetFacts } from '../contracts/dataset.js';
import type { DatasetSource } from '../contracts/datasets.js';
import type { DataSpec } from '../contracts/data-schema.js';
import { dataMismatch } from '../datasets/compat.js';
import { builtinDataset } from '../datasets/builtin.js';
import type { ModelDescription } from '@rankwise/models/description';
import type { PluginRegistry } from '../plugins/registry.js';
import { ajvIssues, type ValidationIssue } from './issues.js';
import { dataObjectSchema } from './schema-build.js';
import { validateAgainst } from './schema.js';

/** A data problem as a validation issue: the data file with its line (or row) as the file, the record's pointer. */
export function dataLocationIssue(where: DataLocation, message: string): ValidationIssue {
  const at = where.line !== undefined ? `:${where.line}` : where.row !== undefined ? ` row ${where.row}` : '';
  return { file: `${where.file}${at}`, pointer: where.pointer ?? '', message };
}

export interface DataCheckInput {
  spec: DataSpec;
  /** Absolute pointer of the data object in the pipeline file. */
  pointer: string;
  /** The pipeline file as shown, its directory, and the working directory (for display paths). */
  file: string;
  dir: string;
  cwd: string;
  model: ModelDescription | null;
  plugins: PluginRegistry;
  source: DatasetSource;
  issues: ValidationIssue[];
}

/**
 * Validates one data object before anything loads: resolves its dataset (built-in or package), checks a package's
 * options against its schema, runs the dataset's `check` (which reads the files the run will read and lists every
 * problem), and checks what it learned (kind, example shape, classes) against the model. Returns the facts, or null.
 */
export async function checkDataSpec(input: DataCheckInput): Promise<DatasetFacts | null> {
  const { spec, pointer, file, issues } = input;
  const issue = (suffix: string, message: string) => issues.push({ file, pointer: `${pointer}${suffix}`, message });
  let definition;
  try {
    definition = await input.plugins.getDataset(spec.dataset, input.dir);
  } catch (error) {
    issue('/dataset', (error as Error).message);
    return null;
  }
  if (!builtinDataset(definition.name)) {
    const validator = validateAgainst(dataObjectSchema(definition), spec);
    if (validator.errors?.length) {
      issues.push(...ajvIssues(validator.errors, spec, file, pointer));
      return null;
    }
  }
  const before = issues.length;
  const ctx: DatasetCheckContext = {
    file,
    dir: input.dir,
    model: input.model,
    source: input.source,
    issue,
    dataIssue: (where, message) => issues.push(dataLocationIssue(where, message)),
    show: (path) => relative(input.cwd, path) || path,
  };
  let facts: DatasetFacts | null;
  try {
    facts = (await definition.check?.(spec as never, ctx)) ?? null;
  } catch (error) {
    if (error instanceof Error && error.name === 'DataError') {
      const e = error as Error & { location: DataLocation; problem: string };
      issues.push(dataLocationIssue(e.location, e.problem));
    } else issue('', `dataset "${spec.dataset}" failed its check: ${(error as Error).message}`);
    return null;
  }
  if (issues.length > before || !facts) return null;
  const mismatch = input.model ? dataMismatch(spec.dataset, facts, input.model) : null;
  if (mismatch) {
    issue('', mismatch);
    return null;
  }
  return facts;
}
