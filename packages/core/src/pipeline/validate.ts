import { readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { readCheckpointConfig } from '../io/checkpoint.js';
import { readAdapterConfig } from '../io/peft-adapter.js';
import { ConfigError, type ModelDescription } from '../nn/description.js';
import { describeModel } from '../nn/architectures.js';
import type { Site } from '../nn/site.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { canonicalJson, sha256 } from './content-hash.js';
import { dataMismatch } from './data-compat.js';
import { ajvIssues, formatIssue, PipelineValidationError, type ValidationIssue } from './issues.js';
import { applyOverrides, type Override } from './overrides.js';
import { selectPlacement } from './placement-check.js';
import { readJsonFile } from './read-json.js';
import { validatePipelineSchema } from './schema.js';
import type { DataSpec, LoadStageSpec, Pipeline } from './types.js';
import { checkGrid } from './grid-check.js';

/** A pipeline file that passed every check, with what it depends on. */
export interface ValidatedPipeline {
  /** Absolute path ('' for a pipeline object given in code). */
  file: string;
  /** Path as shown in messages (relative to the working directory). */
  display: string;
  /** Directory that relative paths in the file are resolved from. */
  dir: string;
  pipeline: Pipeline;
  /** Content hash of the resolved pipeline and of everything it loads (from pipelines, checkpoints). */
  hash: string;
  /** Pipelines named by `load.from`, by stage index. */
  dependencies: Map<number, ValidatedPipeline>;
  /** The model the pipeline ends with (merged form), as known before running. */
  output: ModelDescription | null;
}

export interface ValidateOptions {
  plugins: PluginRegistry;
  overrides?: readonly Override[];
  /** Working directory for display paths. */
  cwd?: string;
}

interface WalkState {
  model: ModelDescription | null;
  adapted: Set<string>;
  frozen: boolean;
  hadAdapters: boolean;
  /** An inject stage with issues of its own: later stages assume it would have adapted something. */
  injectFailed: boolean;
}

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
  const validator = validatePipelineSchema(resolved);
  if (validator.errors && validator.errors.length > 0) {
    throw new PipelineValidationError(ajvIssues(validator.errors, resolved, where.display));
  }
  const pipeline = resolved as Pipeline;
  const issues: ValidationIssue[] = [];
  const dependencies = new Map<number, ValidatedPipeline>();
  const hashParts: string[] = [canonicalJson(pipeline)];
  const state: WalkState = { model: null, adapted: new Set(), frozen: false, hadAdapters: false, injectFailed: false };
  const at = (i: number, suffix = '') => `/stages/${i}${suffix}`;
  const issue = (pointer: string, message: string) => issues.push({ file: where.display, pointer, message });

  let modelAtInject: ModelDescription | null = null;
  for (const [i, stage] of pipeline.stages.entries()) {
    if (stage.stage !== 'load' && !state.model) {
      issue(at(i, '/stage'), `"${stage.stage}" needs a model: the first stage must be "load"`);
      break;
    }
    switch (stage.stage) {
      case 'load': {
        if (i !== 0) {
          issue(at(i, '/stage'), 'found a second "load"; allowed: one "load", as the first stage');
          break;
        }
        const loaded = await describeLoad(stage, i, where, options, chain, issue, hashParts);
        if (loaded?.dependency) dependencies.set(i, loaded.dependency);
        state.model = loaded?.model ?? null;
        if (state.model && stage.adapter) await checkAdapterDir(resolve(where.dir, stage.adapter), at(i, '/adapter'), state, issue);
        if (!state.model) return fail(issues);
        break;
      }
      case 'freeze':
        state.frozen = true;
        break;
      case 'unfreeze':
        state.frozen = false;
        break;
      case 'inject': {
        modelAtInject = state.model;
        const chosen = await selectPlacement(stage.placement, state.model!.sites, at(i, '/placement'), where.display, options.plugins, issues);
        for (const choice of chosen ?? []) {
          if (state.adapted.has(choice.path)) issue(at(i, '/placement'), `site "${choice.path}" already has a LoRA adapter`);
          state.adapted.add(choice.path);
        }
        state.hadAdapters ||= (chosen?.length ?? 0) > 0;
        state.injectFailed ||= chosen === null;
        break;
      }
      case 'train':
        if (state.frozen && state.adapted.size === 0 && !state.injectFailed) {
          issue(at(i), 'nothing to train: every parameter is frozen and no adapter was injected before this stage');
        }
        checkData(stage.data, state.model!, at(i, '/data'), issue);
        if (stage.evalData) checkData(stage.evalData, state.model!, at(i, '/evalData'), issue);
        break;
      case 'evaluate':
        checkData(stage.data, state.model!, at(i, '/data'), issue);
        if (stage.samples && state.model!.task !== 'language-model') issue(at(i, '/samples'), 'text samples need a language model');
        break;
      case 'merge':
        if (state.adapted.size === 0 && !state.injectFailed) issue(at(i), 'nothing to merge: no adapter was injected or loaded before this stage');
        state.adapted.clear();
        break;
      case 'save':
        if (stage.adapter && !state.hadAdapters && !state.injectFailed) issue(at(i, '/adapter'), 'no adapter to save: no inject stage (or load.adapter) before this stage');
        break;
    }
  }
  if (pipeline.grid) await checkGrid(pipeline, where.display, options.plugins, modelAtInject, issues);
  if (issues.length > 0) throw new PipelineValidationError(issues);
  return {
    file: where.file,
    display: where.display,
    dir: where.dir,
    pipeline,
    hash: sha256(...hashParts),
    dependencies,
    output: state.model ? { ...state.model, sites: state.model.sites.map((s) => ({ ...s, adapted: false })) } : null,
  };
}

function fail(issues: ValidationIssue[]): never {
  throw new PipelineValidationError(issues);
}

async function describeLoad(
  stage: LoadStageSpec,
  i: number,
  where: { file: string; display: string; dir: string },
  options: ValidateOptions,
  chain: string[],
  issue: (pointer: string, message: string) => void,
  hashParts: string[],
): Promise<{ model: ModelDescription; dependency?: ValidatedPipeline } | null> {
  const at = (suffix: string) => `/stages/${i}${suffix}`;
  if (stage.architecture !== undefined) {
    try {
      const model = describeModel(stage.architecture, stage.config ?? {});
      if (model.task === 'language-model' && !stage.vocabulary) {
        issue(at(''), `a ${stage.architecture} language model built from scratch needs "vocabulary": the corpus whose characters it reads`);
      }
      return { model };
    } catch (error) {
      if (error instanceof ConfigError) issue(at(`/config${error.pointer}`), error.message.replace(/^\S+: /, ''));
      else issue(at('/architecture'), (error as Error).message);
      return null;
    }
  }
  if (stage.checkpoint !== undefined) {
    const dir = resolve(where.dir, stage.checkpoint);
    try {
      const config = await readCheckpointConfig(dir);
      hashParts.push(sha256(await readFile(resolve(dir, 'model.safetensors')).catch(() => new Uint8Array())));
      return { model: describeModel(config.architecture, config.config) };
    } catch (error) {
      issue(at('/checkpoint'), (error as Error).message);
      return null;
    }
  }
  const target = resolve(where.dir, stage.from!);
  const here = where.file || where.display;
  if (target === here || chain.includes(target)) {
    const cycle = [...chain, here, target].map((f) => relative(options.cwd ?? process.cwd(), f) || f);
    issue(at('/from'), `"from" cycle: ${cycle.slice(cycle.indexOf(cycle[cycle.length - 1])).join(' → ')}`);
    return null;
  }
  if (!(await stat(target).catch(() => null))?.isFile()) {
    issue(at('/from'), `found ${JSON.stringify(stage.from)}: file not found (${relative(options.cwd ?? process.cwd(), target) || target})`);
    return null;
  }
  let dependency: ValidatedPipeline;
  try {
    dependency = await validatePipelineFile(target, { ...options, overrides: [] }, [...chain, here]);
  } catch (error) {
    if (error instanceof PipelineValidationError) {
      for (const inner of error.issues) issue(inner.file === where.display ? inner.pointer : at('/from'), inner.file === where.display ? inner.message : formatIssue(inner));
      return null;
    }
    throw error;
  }
  const savesMerged = dependency.pipeline.stages.some((s) => s.stage === 'save' && s.merged === true);
  if (!savesMerged) {
    issue(at('/from'), `${dependency.display} saves no model to load: it needs a "save" stage with "merged": true`);
    return null;
  }
  hashParts.push(dependency.hash);
  return dependency.output ? { model: dependency.output, dependency } : null;
}

function checkData(spec: DataSpec, model: ModelDescription, pointer: string, issue: (pointer: string, message: string) => void): void {
  const mismatch = dataMismatch(spec, model);
  if (mismatch) issue(pointer, mismatch);
}

async function checkAdapterDir(dir: string, pointer: string, state: WalkState, issue: (pointer: string, message: string) => void): Promise<void> {
  try {
    const { config } = await readAdapterConfig(dir);
    const targets = Array.isArray((config as { target_modules?: unknown }).target_modules)
      ? ((config as { target_modules: string[] }).target_modules)
      : [];
    const known = new Map(state.model!.sites.map((s: Site) => [s.path, s]));
    for (const path of targets) {
      if (!known.has(path)) issue(pointer, `adapter targets site "${path}", which the model does not have; available sites: ${[...known.keys()].join(', ')}`);
      state.adapted.add(path);
    }
    state.hadAdapters = true;
  } catch (error) {
    issue(pointer, (error as Error).message);
  }
}
