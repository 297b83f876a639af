import { readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { AnyStageDefinition, Capability, DependencyInfo, StageCheckContext } from '../contracts/stage.js';
import type { ModelDescription } from '@rankwise/models/description';
import type { PluginRegistry } from '../plugins/registry.js';
import { canonicalJson, sha256 } from './content-hash.js';
import { checkRunMemory } from './memory-check.js';
import { ajvIssues, formatIssue, PipelineValidationError, type ValidationIssue } from './issues.js';
import { applyOverrides, type Override } from './overrides.js';
import { selectPlacement } from './placement-check.js';
import { checkUnadaptableTargets } from './tfjs-checks.js';
import { readJsonFile } from './read-json.js';
import { validatePipelineSchema, validateStageObject } from './schema.js';
import { builtinStage } from '../stages/builtin.js';
import { withSchemaDefaults } from './stage-defaults.js';
import { checkPlacementPlugins, resolveStages } from './stage-resolve.js';
import { checkDataSpec } from './data-check.js';
import { lazyDatasetSource } from './datasets.js';
import type { DatasetSource } from '../contracts/datasets.js';
import { stageOptions } from './stage-options.js';
import type { PipelineSection } from './section.js';
import type { Pipeline } from './types.js';

/** A pipeline file that passed every check, with what it depends on. */
export interface ValidatedPipeline {
  /** Absolute path ('' for a pipeline object given in code). */
  file: string;
  /** Path as shown in messages (relative to the working directory). */
  display: string;
  /** Directory that relative paths in the file are resolved from. */
  dir: string;
  pipeline: Pipeline;
  /** The definition of each stage, by index (built-in or from a stage package). */
  stageDefinitions: AnyStageDefinition[];
  /** Content hash of the resolved pipeline and of everything it loads (from pipelines, checkpoints). */
  hash: string;
  /** Pipelines named by `load.from`, by stage index. */
  dependencies: Map<number, ValidatedPipeline>;
  /** The model the pipeline ends with (merged form), as known before running. */
  output: ModelDescription | null;
  /** The model each stage sees, as known before running (null before load). */
  modelBefore: Array<ModelDescription | null>;
}

/** A whole-pipeline check beyond the stages (the grid package checks `grid` with one). */
export type PipelineCheck = (validated: Omit<ValidatedPipeline, 'hash'>, issues: ValidationIssue[], plugins: PluginRegistry) => Promise<void>;

export interface ValidateOptions {
  plugins: PluginRegistry;
  overrides?: readonly Override[];
  /** Working directory for display paths. */
  cwd?: string;
  /** Checks run after the stages' own. */
  checks?: readonly PipelineCheck[];
  /** Top-level keys other packages own (the grid's `grid`): checked against their schema, then by their check. */
  sections?: readonly PipelineSection[];
  /** Where datasets read files at validation (default: `@rankwise/datasets`, loaded on first use). */
  datasets?: DatasetSource;
}

/** What a missing capability means, worded for the stage that needs it. */
const MISSING: Record<string, { pointer: string; message: (stage: string) => string }> = {
  model: { pointer: '/stage', message: (stage) => `"${stage}" needs a model: the first stage must be "load"` },
  adapter: { pointer: '', message: (stage) => `nothing to ${stage}: no adapter was injected or loaded before this stage` },
};

/** Reads, overrides, schema-checks and semantically checks a pipeline file and, recursively, its `from` files. */
export async function validatePipelineFile(file: string, options: ValidateOptions, chain: string[] = []): Promise<ValidatedPipeline> {
  const cwd = options.cwd ?? process.cwd();
  const absolute = resolve(cwd, file);
  const display = relative(cwd, absolute) || absolute;
  const read = await readJsonFile(absolute, display);
  if (read.issue) throw new PipelineValidationError([read.issue]);
  return validatePipelineData(read.data, { file: absolute, display, dir: dirname(absolute) }, options, chain);
}

/** Same checks for a pipeline object built in code; relative paths resolve from `where.dir`. */
export async function validatePipelineData(
  data: unknown,
  where: { file: string; display: string; dir: string },
  options: ValidateOptions,
  chain: string[] = [],
): Promise<ValidatedPipeline> {
  const { data: resolved, issues: overrideIssues } = applyOverrides(data, chain.length === 0 ? (options.overrides ?? []) : []);
  if (overrideIssues.length > 0) throw new PipelineValidationError(overrideIssues);
  const validator = validatePipelineSchema(resolved, options.sections);
  if (validator.errors && validator.errors.length > 0) {
    throw new PipelineValidationError(ajvIssues(validator.errors, resolved, where.display));
  }
  const pipeline = resolved as Pipeline;
  const issues: ValidationIssue[] = [];
  // Plugin packages resolve from this pipeline's folder upwards, then from rankwise's install.
  const plugins = options.plugins.from(where.dir);
  const definitions = await resolveStages(pipeline.stages, plugins, where.display, issues);
  // the walk below, which checks placements, does not run when a stage is missing: name every missing package now
  if (issues.length > 0) await checkPlacementPlugins(pipeline.stages, plugins, where.display, issues);
  // stage packages: their options against their own schema, with pointers into this file
  pipeline.stages.forEach((spec, i) => {
    const definition = definitions[i];
    if (!definition || isBuiltinSchemaChecked(definition)) return;
    const validator = validateStageObject(definition, spec);
    if (validator.errors?.length) issues.push(...ajvIssues(validator.errors, spec, where.display, `/stages/${i}`));
  });
  if (issues.length > 0) throw new PipelineValidationError(issues);
  const stageDefinitions = definitions as AnyStageDefinition[];
  const dependencies = new Map<number, ValidatedPipeline>();
  const hashParts: string[] = [canonicalJson(pipeline)];
  const capabilities = new Set<Capability>();
  const adaptedSites = new Set<string>();
  let model: ModelDescription | null = null;
  const modelBefore: Array<ModelDescription | null> = [];

  walk: for (const [i, spec] of pipeline.stages.entries()) {
    const definition = stageDefinitions[i];
    const at = (suffix: string) => `/stages/${i}${suffix}`;
    // what a stage package's own code reports names the package
    const source = builtinStage(spec.stage) ? {} : { source: spec.stage };
    const issue = (pointer: string, message: string) => issues.push({ file: where.display, pointer: at(pointer), message });
    const packageIssue = (pointer: string, message: string) => issues.push({ file: where.display, pointer: at(pointer), message, ...source });
    modelBefore.push(model);
    let unmet = false;
    for (const capability of definition.requires) {
      if (capabilities.has(capability)) continue;
      unmet = true;
      const missing = MISSING[capability] ?? {
        pointer: '/stage',
        message: (stage: string) => `"${stage}" needs "${capability}", which no stage before it provides`,
      };
      issue(missing.pointer, missing.message(spec.stage));
      if (capability === 'model') break walk;
    }
    const ctx: StageCheckContext = {
      name: spec.stage,
      index: i,
      file: where.display,
      dir: where.dir,
      shown: (path) => relative(options.cwd ?? process.cwd(), path) || path,
      allowLargeRuns: pipeline.allowLargeRuns === true,
      get model() {
        return model;
      },
      adaptedSites,
      has: (capability) => capabilities.has(capability),
      provide: (capability) => void capabilities.add(capability),
      remove: (capability) => void capabilities.delete(capability),
      issue: packageIssue,
      setModel: (description) => {
        model = description;
      },
      data: (data, pointer) =>
        checkDataSpec({
          spec: data,
          pointer: at(pointer),
          file: where.display,
          dir: where.dir,
          cwd: options.cwd ?? process.cwd(),
          model,
          plugins,
          source: (options.datasets ??= lazyDatasetSource()),
          issues,
        }),
      tokenizer: async (dir, pointer) => {
        const source = (options.datasets ??= lazyDatasetSource());
        if (!source.tokenizer) return;
        try {
          await source.tokenizer(dir);
        } catch (error) {
          issues.push({ file: where.display, pointer: at(pointer), message: (error as Error).message });
        }
      },
      hashFile: async (path) => {
        hashParts.push(sha256(await readFile(path).catch(() => new Uint8Array())));
      },
      placement: async (placement, pointer) => {
        if (!model) return null;
        const before = issues.length;
        const chosen = await selectPlacement(placement, model.sites, at(pointer), where.display, plugins, issues);
        // layers with no LoRA form (tfjs models): one issue naming each, instead of the generic placement ones
        const unadaptable: ValidationIssue[] = [];
        if (!(await checkUnadaptableTargets(placement, model, at(pointer), where.display, plugins, unadaptable))) return chosen;
        issues.splice(before, issues.length - before, ...unadaptable);
        return null;
      },
      dependency: async (from, pointer) => {
        const dependency = await validateDependency(
          from,
          where,
          options,
          chain,
          (message, absolute) => issues.push({ file: where.display, pointer: absolute ?? at(pointer), message }),
          hashParts,
        );
        if (dependency) dependencies.set(i, dependency);
        return dependency ? ({ display: dependency.display, output: dependency.output } satisfies DependencyInfo) : null;
      },
    };
    try {
      await definition.check?.(withSchemaDefaults(definition, stageOptions(spec)) as never, ctx);
    } catch (error) {
      if (!('source' in source)) throw error; // a built-in stage's check does not throw on bad input: a bug, not an issue
      packageIssue('', `check failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    for (const capability of definition.removes ?? []) capabilities.delete(capability);
    // a stage whose requirements are unmet provides nothing (a merge with nothing to merge leaves nothing for save)
    if (!unmet) for (const capability of definition.provides) capabilities.add(capability);
    if (definition.provides.includes('model') && !model) return fail(issues);
  }
  const partial = { file: where.file, display: where.display, dir: where.dir, pipeline, stageDefinitions, dependencies, modelBefore, output: outputOf(model) };
  for (const check of [...(options.sections ?? []).flatMap((s) => (s.check ? [s.check] : [])), ...(options.checks ?? [])])
    await check(partial, issues, plugins);
  const loaded = pipeline.stages.length > 1 ? (modelBefore[1] ?? null) : model;
  issues.push(...checkRunMemory(pipeline, loaded, where.display));
  if (issues.length > 0) throw new PipelineValidationError(issues);
  return { ...partial, hash: sha256(...hashParts) };
}

/** The model a pipeline ends with, in merged form (no site adapted). */
function outputOf(model: ModelDescription | null): ModelDescription | null {
  return model ? { ...model, sites: model.sites.map((s) => ({ ...s, adapted: false })) } : null;
}

/** Built-in stages were checked by the pipeline schema itself. */
function isBuiltinSchemaChecked(definition: AnyStageDefinition): boolean {
  return builtinStage(definition.name) === definition;
}

function fail(issues: ValidationIssue[]): never {
  throw new PipelineValidationError(issues);
}

/** Validates the pipeline a `load.from` names: exists, no cycle, valid itself, saves a merged model. */
async function validateDependency(
  from: string,
  where: { file: string; display: string; dir: string },
  options: ValidateOptions,
  chain: string[],
  /** `absolute`: a pointer into this file; without it, the issue is at the stage's `from`. */
  issue: (message: string, absolute?: string) => void,
  hashParts: string[],
): Promise<ValidatedPipeline | null> {
  const target = resolve(where.dir, from);
  const here = where.file || where.display;
  if (target === here || chain.includes(target)) {
    const cycle = [...chain, here, target].map((f) => relative(options.cwd ?? process.cwd(), f) || f);
    issue(`"from" cycle: ${cycle.slice(cycle.indexOf(cycle[cycle.length - 1])).join(' → ')}`);
    return null;
  }
  if (!(await stat(target).catch(() => null))?.isFile()) {
    issue(`found ${JSON.stringify(from)}: file not found (${relative(options.cwd ?? process.cwd(), target) || target})`);
    return null;
  }
  let dependency: ValidatedPipeline;
  try {
    dependency = await validatePipelineFile(target, { ...options, overrides: [] }, [...chain, here]);
  } catch (error) {
    const notPipeline = error instanceof PipelineValidationError ? notAPipeline(error) : null;
    if (notPipeline) {
      // Not a pipeline at all (a text file, binary, some other JSON): say so without quoting its contents.
      issue(`${relative(options.cwd ?? process.cwd(), target) || target} is not a pipeline file (${notPipeline})`);
      return null;
    }
    if (error instanceof PipelineValidationError) {
      for (const inner of error.issues) {
        if (inner.file === where.display) issue(inner.message, inner.pointer);
        else issue(formatIssue(inner));
      }
      return null;
    }
    throw error;
  }
  const unsaved = savesNoModel(dependency);
  if (unsaved) {
    issue(unsaved);
    return null;
  }
  hashParts.push(dependency.hash);
  return dependency;
}

/** Why a validated `from` pipeline gives no model to load (it saves no merged model), or null when it does. */
export function savesNoModel(dependency: ValidatedPipeline): string | null {
  const savesMerged = dependency.pipeline.stages.some((s) => s.stage === 'save' && s.merged === true);
  return savesMerged ? null : `${dependency.display} saves no model to load: it needs a "save" stage with "merged": true`;
}

/** Why a `from` target is not a pipeline at all (unreadable, not JSON, no "stages"), or null when it is one. */
function notAPipeline(error: PipelineValidationError): string | null {
  const top = error.issues.filter((i) => i.pointer === '').map((i) => i.message);
  const stages = error.issues.some((i) => i.pointer === '/stages' && /allowed: an array/.test(i.message));
  if (top.length === 0 && !stages) return null;
  if (top.some((m) => /UTF-8/.test(m))) return 'not UTF-8 text';
  if (top.some((m) => /nested/.test(m))) return 'nested too deeply';
  if (top.some((m) => /not valid JSON/.test(m))) return 'not valid JSON';
  if (top.some((m) => /file not found|directory|cannot read/.test(m))) return top[0];
  if (top.some((m) => /allowed: an object/.test(m))) return 'not a JSON object';
  return 'no "name" and "stages"';
}
