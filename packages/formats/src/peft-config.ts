import { rsloraScaling } from '@rankwise/lora';
import { initFromPeft, loraVariants, peftInitValue, peftInitValues, PLAIN_LORA, type LoraInit } from '@rankwise/lora';
import { loraScaling } from '@rankwise/lora';
import { FAMILIES } from '@rankwise/models';
import type { JsonObject, JsonValue } from '@rankwise/models';
import type { Site } from '@rankwise/models';

/**
 * PEFT's LoraConfig as adapter_config.json stores it, read with PEFT's own rules (peft.tuners.tuners_utils
 * check_target_module_exists, peft.utils.other get_pattern_key), so a config means in rankwise what it means in PEFT:
 *
 * - `target_modules` a string: the module name must match it as a whole (re.fullmatch);
 *   a list: a name equal to an entry, or ending in `.` + an entry (`"q_proj"` selects `model.layers.0.self_attn.q_proj`);
 *   `"all-linear"`: every Linear but the output layer. `layers_to_transform` / `layers_pattern` then keep only the
 *   given layer indices (for suffix matches, as PEFT does). `exclude_modules` removes names by the same rules.
 * - `rank_pattern` / `alpha_pattern`: each key is a regular expression matched as re.match(rf"(.*\.)?({key})$", name);
 *   the first key (in the file's order) that matches gives the value, else `r` / `lora_alpha`.
 * - scaling = lora_alpha / r, or lora_alpha / √r with `use_rslora` (one flag for the whole adapter).
 *
 * Keys newer PEFT versions add are accepted and ignored; settings that change the arithmetic in ways rankwise does not
 * implement (trained biases, modules_to_save, …) are refused, naming the key. The variants' keys (use_dora; one
 * per variant in lora/variants/registry.ts) and the inits (init_lora_weights) are read.
 */
export interface PeftLoraConfig {
  r: number;
  loraAlpha: number;
  loraDropout: number;
  useRslora: boolean;
  /** The variant its key selects (`use_dora: true` → "dora"), else "lora" (lora/variants/registry.ts). */
  variant: string;
  /** init_lora_weights as a rankwise init (false → kaiming: the stored factors replace whatever the init made). */
  init: LoraInit;
  /** A regex (string), a list of names, or 'all-linear'; null means PEFT's per-model default. */
  targetModules: string | string[] | null;
  excludeModules: string | string[] | null;
  layersToTransform: number[] | null;
  layersPattern: string[] | null;
  rankPattern: Array<[string, number]>;
  alphaPattern: Array<[string, number]>;
  baseModel: string | null;
}

/** PEFT's defaults when target_modules is null (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
const DEFAULT_TARGETS: Record<string, string[]> = Object.fromEntries(
  [...FAMILIES.values()].flatMap((f) => (f.peftTargets ? [[f.modelType, f.peftTargets]] : [])),
);

export class PeftConfigError extends Error {
  constructor(
    readonly file: string,
    readonly pointer: string,
    detail: string,
  ) {
    super(`${file}: ${pointer}: ${detail}`);
    this.name = 'PeftConfigError';
  }
}

/** JSON pointer escaping of one key. */
const pointerKey = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A Python `re` pattern as a JS RegExp (the syntax PEFT users write — \d, \., groups, alternation — is shared). */
function pythonRegex(pattern: string, anchored: 'full' | 'suffix', file: string, pointer: string): RegExp {
  try {
    return anchored === 'full' ? new RegExp(`^(?:${pattern})$`, 'u') : new RegExp(`^(?:.*\\.)?(?:${pattern})$`, 'u');
  } catch (error) {
    throw new PeftConfigError(file, pointer, `${JSON.stringify(pattern)} is not a valid regular expression (${(error as Error).message})`);
  }
}

/** Parses adapter_config.json's object; `file` names it in errors. */
export function parsePeftConfig(raw: unknown, file: string): PeftLoraConfig {
  const bad = (pointer: string, found: unknown, allowed: string): never => {
    throw new PeftConfigError(file, pointer, `found ${JSON.stringify(found)}, allowed: ${allowed}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('', raw, 'an object');
  const c = raw as JsonObject;
  if (c.peft_type !== 'LORA') bad('/peft_type', c.peft_type, '"LORA"');
  if (typeof c.r !== 'number' || !Number.isInteger(c.r) || c.r < 1) bad('/r', c.r, 'a positive integer');
  if (typeof c.lora_alpha !== 'number' || !(c.lora_alpha > 0)) bad('/lora_alpha', c.lora_alpha, 'a positive number');
  const dropout = c.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) bad('/lora_dropout', dropout, 'a number in [0, 1)');
  const rsloraKey = rsloraScaling.peftKey; // use_rslora
  if (c[rsloraKey] !== undefined && typeof c[rsloraKey] !== 'boolean') bad(`/${rsloraKey}`, c[rsloraKey], 'true or false');
  // Settings whose arithmetic rankwise does not implement: refused rather than silently computed differently.
  const refuse = (key: string, ok: (v: JsonValue | undefined) => boolean, allowed: string) => {
    if (!ok(c[key])) throw new PeftConfigError(file, `/${key}`, `found ${JSON.stringify(c[key])}, allowed: ${allowed}`);
  };
  const absent = (v: JsonValue | undefined) => v === undefined || v === null || v === false;
  const emptyOrAbsent = (v: JsonValue | undefined) => absent(v) || (Array.isArray(v) && v.length === 0);
  const variants = loraVariants().filter((v) => {
    if (!v.peft) return false;
    const value = c[v.peft.key];
    if (value !== undefined && value !== null && typeof value !== 'boolean') bad(`/${v.peft.key}`, value, 'true or false');
    return value === true;
  });
  if (variants.length > 1) bad(`/${variants[1].peft!.key}`, true, `false or absent ("${variants[0].peft!.key}" is true, and one adapter has one variant)`);
  const init = c.init_lora_weights === false ? 'kaiming' : initFromPeft(c.init_lora_weights);
  if (init === null) bad('/init_lora_weights', c.init_lora_weights, peftInitValues());
  refuse('lora_bias', absent, 'false (LoRA biases are not implemented by rankwise)');
  refuse('bias', (v) => v === undefined || v === null || v === 'none', '"none" (rankwise trains no biases)');
  refuse('modules_to_save', emptyOrAbsent, 'null or [] (rankwise does not save whole modules beside the LoRA factors)');
  refuse('layer_replication', absent, 'null (layer replication is not implemented by rankwise)');
  refuse('target_parameters', emptyOrAbsent, 'null or [] (rankwise adapts Linear modules only)');
  refuse('trainable_token_indices', emptyOrAbsent, 'null (trainable tokens are not implemented by rankwise)');
  refuse('use_qalora', absent, 'false (QALoRA is not implemented by rankwise)');
  const names = (key: string): string | string[] | null => {
    const v = c[key];
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    return bad(`/${key}`, v, 'a regular expression string, a list of module names, or null');
  };
  const targetModules = names('target_modules');
  const excludeModules = names('exclude_modules');
  if (typeof targetModules === 'string' && targetModules !== 'all-linear') pythonRegex(targetModules, 'full', file, '/target_modules');
  if (typeof excludeModules === 'string') pythonRegex(excludeModules, 'full', file, '/exclude_modules');
  let layersToTransform: number[] | null = null;
  const layers = c.layers_to_transform;
  if (typeof layers === 'number' && Number.isInteger(layers) && layers >= 0) layersToTransform = [layers];
  else if (Array.isArray(layers) && layers.every((l) => typeof l === 'number' && Number.isInteger(l) && l >= 0))
    layersToTransform = layers.length > 0 ? (layers as number[]) : null;
  else if (layers !== undefined && layers !== null) bad('/layers_to_transform', layers, 'a layer index, a list of them, or null');
  const patternValue = c.layers_pattern;
  let layersPattern: string[] | null = null;
  if (typeof patternValue === 'string') layersPattern = [patternValue];
  else if (Array.isArray(patternValue) && patternValue.every((p) => typeof p === 'string'))
    layersPattern = patternValue.length > 0 ? (patternValue as string[]) : null;
  else if (patternValue !== undefined && patternValue !== null) bad('/layers_pattern', patternValue, 'a string, a list of strings, or null');
  const patterns = (key: 'rank_pattern' | 'alpha_pattern'): Array<[string, number]> => {
    const v = c[key];
    if (v === undefined || v === null) return [];
    if (typeof v !== 'object' || Array.isArray(v)) return bad(`/${key}`, v, 'an object of regular expression → number');
    return Object.entries(v).map(([k, value]) => {
      const pointer = `/${key}/${pointerKey(k)}`;
      const ok = key === 'rank_pattern' ? typeof value === 'number' && Number.isInteger(value) && value >= 1 : typeof value === 'number' && value > 0;
      if (!ok) bad(pointer, value, key === 'rank_pattern' ? 'a positive integer' : 'a positive number');
      pythonRegex(k, 'suffix', file, pointer);
      return [k, value as number];
    });
  };
  const base = c.base_model_name_or_path;
  return {
    r: c.r as number,
    loraAlpha: c.lora_alpha as number,
    loraDropout: dropout as number,
    useRslora: c[rsloraKey] === true,
    variant: variants[0]?.name ?? PLAIN_LORA,
    init: init as LoraInit,
    targetModules,
    excludeModules,
    layersToTransform,
    layersPattern,
    rankPattern: patterns('rank_pattern'),
    alphaPattern: patterns('alpha_pattern'),
    baseModel: typeof base === 'string' ? base : null,
  };
}

/** PEFT's name rule for one list or regex: a regex must match the whole name; list entries match exactly or as `.suffix`. */
function matchesNames(spec: string | string[], name: string): 'exact' | 'suffix' | 'regex' | null {
  if (typeof spec === 'string') return new RegExp(`^(?:${spec})$`, 'u').test(name) ? 'regex' : null;
  if (spec.includes(name)) return 'exact';
  return spec.some((key) => name.endsWith(`.${key}`)) ? 'suffix' : null;
}

/** PEFT's layer index of a module name: the number after `<layers_pattern>.` (or after any `<segment>.`). */
function layerIndex(name: string, layersPattern: string[] | null): number | null {
  const patterns = layersPattern ?? [null];
  for (const pattern of patterns) {
    const match = (pattern === null ? /^.*\.[^.]*\.(\d+)\./u : new RegExp(`^.*\\.${pattern}\\.(\\d+)\\.`, 'u')).exec(name);
    if (match) return Number(match[1]);
  }
  return null;
}

/**
 * The sites PEFT would adapt in a model with these sites (in the model's order). `modelType` picks PEFT's default
 * target_modules when the config has none. "all-linear" is every Linear site but the output head.
 */
export function peftTargetSites(config: PeftLoraConfig, sites: readonly Site[], modelType?: string): Site[] {
  let targets = config.targetModules;
  if (targets === null) {
    const fallback = modelType === undefined ? undefined : DEFAULT_TARGETS[modelType];
    if (!fallback)
      throw new Error(
        `target_modules is null and PEFT has no default target modules for ${modelType === undefined ? 'this model' : `model type "${modelType}"`}`,
      );
    targets = fallback;
  }
  if (targets === 'all-linear') {
    // PEFT's all-linear: nn.Linear modules only (a tfjs model's Conv2D and Embedding sites are not among them).
    const linear = sites.filter((s) => s.role !== 'conv2d' && s.role !== 'embedding');
    const names = [...new Set(linear.filter((s) => s.role !== 'head').map((s) => s.path.split('.').slice(-1)[0]))];
    const heads = new Set(sites.filter((s) => s.role === 'head').map((s) => s.path.split('.').slice(-1)[0]));
    targets = names.filter((n) => !heads.has(n));
  }
  const spec = targets;
  return sites.filter((site) => {
    if (config.excludeModules !== null && matchesNames(config.excludeModules, site.path)) return false;
    const how = matchesNames(spec, site.path);
    if (how === null) return false;
    if (how !== 'suffix' || config.layersToTransform === null) return true;
    const index = layerIndex(site.path, config.layersPattern);
    return index !== null && config.layersToTransform.includes(index);
  });
}

/** PEFT's get_pattern_key: the first key with re.match(rf"(.*\.)?({key})$", name), or undefined. */
export function peftPatternValue(patterns: ReadonlyArray<[string, number]>, name: string): number | undefined {
  for (const [key, value] of patterns) if (new RegExp(`^(?:.*\\.)?(?:${key})$`, 'u').test(name)) return value;
  return undefined;
}

/** r, alpha and rsLoRA of one module under PEFT's rules. */
export function peftSiteSettings(config: PeftLoraConfig, name: string): { r: number; alpha: number; rslora: boolean } {
  return {
    r: peftPatternValue(config.rankPattern, name) ?? config.r,
    alpha: peftPatternValue(config.alphaPattern, name) ?? config.loraAlpha,
    rslora: config.useRslora,
  };
}

/** A regular expression that matches exactly `text` (for rank_pattern / alpha_pattern keys naming one module). */
export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One adapted site as rankwise knows it. */
export interface SiteSettings {
  path: string;
  r: number;
  alpha: number;
  rslora: boolean;
  dropout: number;
}

/** The most common value, ties to the smallest (PEFT keeps one global value and patterns for the exceptions). */
function mode<T extends number | boolean>(values: readonly T[]): T {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((x, y) => y[1] - x[1] || Number(x[0]) - Number(y[0]))[0][0];
}

/**
 * adapter_config.json for these sites with PEFT's keys only (the set LoraConfig has accepted since PEFT 0.9, so
 * older PEFT versions load it too). Ranks and alphas that differ from the most common value go to rank_pattern /
 * alpha_pattern under exact (escaped) module names. PEFT has one use_rslora flag: sites that differ from it get the
 * alpha that gives their scaling under it (α·√r for rsLoRA sites when the flag is off, α/√r when it is on), so PEFT
 * computes each site's scaling exactly as rankwise does.
 */
export function buildPeftConfig(
  sites: readonly SiteSettings[],
  options: { baseModel?: string | null; taskType?: string | null; variant?: string; initLoraWeights?: LoraInit | true } = {},
): JsonObject {
  const r = mode(sites.map((s) => s.r));
  const useRslora = mode(sites.map((s) => s.rslora));
  const peftAlpha = (s: SiteSettings): number => {
    if (s.rslora === useRslora) return s.alpha;
    const scaling = loraScaling(s);
    return useRslora ? scaling * Math.sqrt(s.r) : scaling * s.r;
  };
  const alphas = sites.map(peftAlpha);
  const loraAlpha = mode(alphas);
  return {
    peft_type: 'LORA',
    task_type: options.taskType ?? null,
    base_model_name_or_path: options.baseModel ?? null,
    revision: null,
    inference_mode: true,
    r,
    lora_alpha: loraAlpha,
    lora_dropout: mode(sites.map((s) => s.dropout)),
    [rsloraScaling.peftKey]: useRslora,
    target_modules: sites.map((s) => s.path),
    rank_pattern: Object.fromEntries(sites.filter((s) => s.r !== r).map((s) => [escapeRegex(s.path), s.r])),
    alpha_pattern: Object.fromEntries(sites.flatMap((s, i) => (alphas[i] === loraAlpha ? [] : [[escapeRegex(s.path), alphas[i]]]))),
    bias: 'none',
    fan_in_fan_out: false,
    init_lora_weights: options.initLoraWeights === undefined || options.initLoraWeights === true ? true : peftInitValue(options.initLoraWeights),
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    // Each variant's key (use_dora): true for the adapter's variant; false for the others PEFT always writes.
    ...Object.fromEntries(
      loraVariants().flatMap((v) => (v.peft && (v.peft.writeWhenOff || v.name === options.variant) ? [[v.peft.key, v.name === options.variant]] : [])),
    ),
  };
}
