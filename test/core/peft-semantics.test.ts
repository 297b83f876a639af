import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  createRankwise,
  Gpt,
  injectLora,
  listSites,
  loadAdapter,
  loraScaling,
  Mlp,
  PipelineValidationError,
  saveAdapter,
  type JsonObject,
  type Module,
  type Site,
} from '@rankwise/core';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, buildPeftConfig, encodeSafetensors, parsePeftConfig, peftSiteSettings, peftTargetSites } from '@rankwise/formats';
import { loraLayers } from '@rankwise/lora';
import { describeLlama } from '@rankwise/models';
import { useTestBackend } from '../helpers/backend.js';
import { normRelativeError, seededTensor, take } from '../helpers/numeric.js';

beforeAll(async () => {
  await useTestBackend();
});

const SIZES = [12, 10, 8, 4];
const GPT = { vocabSize: 16, dim: 8, layers: 2, heads: 2, context: 8, dropout: 0, tiedHead: false };

/** Deterministic values, not tf.random. */
function seeded(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 4294967296) * 2 - 1) * scale;
  });
}

interface Written {
  dir: string;
  /** Per site: A [r, in], B [out, r] in PEFT layout. */
  factors: Map<string, { r: number; a: Float32Array; b: Float32Array; inF: number; outF: number }>;
}

/** A PEFT-layout adapter as PEFT would write it: `config` verbatim (plus PEFT's usual keys), random factors of `ranks`. */
async function writePeftAdapter(model: Module, config: JsonObject, ranks: Record<string, number>): Promise<Written> {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-peft-sem-'));
  const sites = new Map(listSites(model).map((s) => [s.path, s]));
  const factors: Written['factors'] = new Map();
  const tensors = Object.entries(ranks).flatMap(([path, r], i) => {
    const site = sites.get(path)!;
    const a = seeded(r * site.inFeatures, 10 + i, 0.5);
    const b = seeded(site.outFeatures * r, 50 + i, 0.5);
    factors.set(path, { r, a, b, inF: site.inFeatures, outF: site.outFeatures });
    return [
      { name: `base_model.model.${path}.lora_A.weight`, shape: [r, site.inFeatures], data: a },
      { name: `base_model.model.${path}.lora_B.weight`, shape: [site.outFeatures, r], data: b },
    ];
  });
  await writeFile(join(dir, ADAPTER_WEIGHTS), encodeSafetensors(tensors, { format: 'pt' }));
  const full = { peft_type: 'LORA', task_type: null, bias: 'none', lora_dropout: 0, use_rslora: false, rank_pattern: {}, alpha_pattern: {}, ...config };
  await writeFile(join(dir, ADAPTER_CONFIG), JSON.stringify(full));
  return { dir, factors };
}

/** The weights PEFT's merge_and_unload would produce, computed here from the factors and explicit scalings. */
async function expectedOutputs(make: () => Module, written: Written, scaling: Record<string, number>, x: tf.Tensor): Promise<Float32Array> {
  const model = make();
  for (const [path, f] of written.factors) {
    const weight = (model.getSubmodule(path) as unknown as { weight: tf.Variable }).weight;
    tf.tidy(() => {
      const a = tf.tensor2d(f.a, [f.r, f.inF]);
      const b = tf.tensor2d(f.b, [f.outF, f.r]);
      weight.assign(weight.add(tf.matMul(b, a).transpose().mul(scaling[path]))); // (B·A)ᵀ [in, out]
    });
  }
  const out = await take((model as unknown as { forward(x: tf.Tensor): tf.Tensor }).forward(x));
  model.dispose();
  return out;
}

async function outputsWithAdapter(make: () => Module, dir: string, x: tf.Tensor): Promise<Float32Array> {
  const model = make();
  await loadAdapter(model, dir);
  const out = await take((model as unknown as { forward(x: tf.Tensor): tf.Tensor }).forward(x));
  model.dispose();
  return out;
}

const mlp = () => new Mlp({ sizes: SIZES }, 1);
const gpt = () => new Gpt(GPT, 1);

async function validateWithAdapter(architecture: 'mlp' | 'gpt', dir: string): Promise<string[]> {
  const config = architecture === 'mlp' ? { sizes: SIZES } : GPT;
  const stages = [
    { stage: 'load', architecture, config, adapter: dir, ...(architecture === 'gpt' ? { vocabulary: { dataset: 'moby-dick', maxChars: 2000 } } : {}) },
    { stage: 'merge' },
  ];
  try {
    await createRankwise().validate({ name: 'peft', stages } as never, dir);
    return [];
  } catch (error) {
    if (error instanceof PipelineValidationError) return error.issues.map((i) => `${i.pointer}: ${i.message}`);
    throw error;
  }
}

describe("target_modules with PEFT's rules", () => {
  test('short names (["q", "v"]) select every site ending in .q / .v, in validation and loading, with the right weights', async () => {
    const ranks = { 'blocks.0.attn.q': 2, 'blocks.0.attn.v': 2, 'blocks.1.attn.q': 2, 'blocks.1.attn.v': 2 };
    const written = await writePeftAdapter(gpt(), { target_modules: ['q', 'v'], r: 2, lora_alpha: 4 }, ranks);
    expect(await validateWithAdapter('gpt', written.dir)).toEqual([]);
    const x = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
    const scaling = Object.fromEntries(Object.keys(ranks).map((p) => [p, 2]));
    expect(normRelativeError(await outputsWithAdapter(gpt, written.dir, x), await expectedOutputs(gpt, written, scaling, x))).toBeLessThan(1e-5);
    x.dispose();
  });

  test('numeric short names (["0", "1"]) match layers.0 and layers.1 as PEFT does', async () => {
    const written = await writePeftAdapter(mlp(), { target_modules: ['0', '1'], r: 2, lora_alpha: 2 }, { 'layers.0': 2, 'layers.1': 2 });
    expect(await validateWithAdapter('mlp', written.dir)).toEqual([]);
    const sites = peftTargetSites(parsePeftConfig({ peft_type: 'LORA', r: 2, lora_alpha: 2, target_modules: ['0', '1'] }, 'c'), listSites(mlp()));
    expect(sites.map((s) => s.path)).toEqual(['layers.0', 'layers.1']);
  });

  test('a string is a regex matched against the whole name (re.fullmatch): "layers\\\\.\\\\d+" selects every layer, "layers" none', async () => {
    const ranks = { 'layers.0': 2, 'layers.1': 2, 'layers.2': 2 };
    const written = await writePeftAdapter(mlp(), { target_modules: 'layers\\.\\d+', r: 2, lora_alpha: 3 }, ranks);
    expect(await validateWithAdapter('mlp', written.dir)).toEqual([]);
    const x = seededTensor([3, SIZES[0]], 4);
    const expected = await expectedOutputs(mlp, written, { 'layers.0': 1.5, 'layers.1': 1.5, 'layers.2': 1.5 }, x);
    expect(normRelativeError(await outputsWithAdapter(mlp, written.dir, x), expected)).toBeLessThan(1e-5);
    x.dispose();
    const none = await writePeftAdapter(mlp(), { target_modules: 'layers', r: 2, lora_alpha: 3 }, ranks);
    const issues = await validateWithAdapter('mlp', none.dir);
    expect(issues.join('\n')).toContain('/stages/0/adapter: ');
    expect(issues.join('\n')).toContain('/target_modules: "layers" selects none of the model\'s sites');
  });

  test('"all-linear" excludes the output head; exclude_modules and layers_to_transform (suffix matches only) filter as in PEFT', () => {
    const sites = listSites(gpt());
    const parse = (extra: JsonObject) => parsePeftConfig({ peft_type: 'LORA', r: 2, lora_alpha: 2, ...extra }, 'c');
    expect(peftTargetSites(parse({ target_modules: 'all-linear' }), sites).map((s) => s.path)).not.toContain('head');
    expect(peftTargetSites(parse({ target_modules: 'all-linear' }), sites)).toHaveLength(12);
    // PEFT finds the layer index with re.match(r".*\.[^.]*\.(\d+)\.") or rf".*\.{layers_pattern}\.(\d+)\.": a dot must come before
    // the layers' name, so "blocks.1.attn.q" has no index and is dropped; HF names ("model.layers.1…") have one.
    expect(peftTargetSites(parse({ target_modules: ['q'], layers_to_transform: [1] }), sites)).toEqual([]);
    const llama = describeLlama({ vocab_size: 16, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 3, num_attention_heads: 2 }).sites;
    expect(peftTargetSites(parse({ target_modules: ['q_proj'], layers_to_transform: [1, 2] }), llama).map((s) => s.path)).toEqual([
      'model.layers.1.self_attn.q_proj',
      'model.layers.2.self_attn.q_proj',
    ]);
    expect(peftTargetSites(parse({ target_modules: ['q_proj'], layers_to_transform: 0, layers_pattern: 'layers' }), llama).map((s) => s.path)).toEqual([
      'model.layers.0.self_attn.q_proj',
    ]);
    expect(peftTargetSites(parse({ target_modules: ['q_proj'], layers_to_transform: 0, layers_pattern: 'blocks' }), llama)).toEqual([]);
    // PEFT applies layers_to_transform to suffix matches only: an exact name or a regex ignores it.
    expect(peftTargetSites(parse({ target_modules: ['model.layers.0.self_attn.q_proj'], layers_to_transform: [1] }), llama).map((s) => s.path)).toEqual([
      'model.layers.0.self_attn.q_proj',
    ]);
    expect(peftTargetSites(parse({ target_modules: 'all-linear' }), llama)).toHaveLength(21);
    expect(peftTargetSites(parse({ target_modules: ['q', 'v'], exclude_modules: ['blocks.1.attn.v'] }), sites).map((s) => s.path)).toEqual([
      'blocks.0.attn.q',
      'blocks.0.attn.v',
      'blocks.1.attn.q',
    ]);
    expect(peftTargetSites(parse({ target_modules: '.*attn\\.(q|k)', exclude_modules: '.*\\.0\\..*' }), sites).map((s) => s.path)).toEqual([
      'blocks.1.attn.q',
      'blocks.1.attn.k',
    ]);
  });

  test('"all-linear" on a tfjs LayersModel picks its Dense layers only (PEFT: nn.Linear, never Conv2d or Embedding); lists still name any site', () => {
    const site = (path: string, role: string, layer: number): Site => ({ path, inFeatures: 4, outFeatures: 4, layer, role, adapted: false });
    const sites = [site('embed', 'embedding', 0), site('conv1', 'conv2d', 1), site('hidden', 'dense', 2), site('out', 'dense', 3)];
    const parse = (extra: JsonObject) => parsePeftConfig({ peft_type: 'LORA', r: 2, lora_alpha: 2, ...extra }, 'c');
    expect(peftTargetSites(parse({ target_modules: 'all-linear' }), sites).map((s) => s.path)).toEqual(['hidden', 'out']);
    expect(peftTargetSites(parse({ target_modules: ['conv1', 'embed'] }), sites).map((s) => s.path)).toEqual(['embed', 'conv1']);
  });

  test('weights for a site target_modules does not select, and a selected site without weights, are named', async () => {
    const extra = await writePeftAdapter(mlp(), { target_modules: ['layers.0'], r: 2, lora_alpha: 2 }, { 'layers.0': 2, 'layers.1': 2 });
    await expect(loadAdapter(mlp(), extra.dir)).rejects.toThrow('site "layers.1" has weights, but');
    const missing = await writePeftAdapter(mlp(), { target_modules: ['layers.0', 'layers.1'], r: 2, lora_alpha: 2 }, { 'layers.0': 2 });
    await expect(loadAdapter(mlp(), missing.dir)).rejects.toThrow('selects "layers.1", which has no lora_A / lora_B weights');
  });
});

describe("rank_pattern / alpha_pattern as PEFT's regexes", () => {
  test('alpha_pattern {"layers\\\\.2": 16} applies to layers.2 (re.match((.*\\.)?(key)$)); rank_pattern {"layers\\\\.1": 2} gives layers.1 rank 2', async () => {
    const ranks = { 'layers.0': 4, 'layers.1': 2, 'layers.2': 4 };
    const config = {
      target_modules: ['layers.0', 'layers.1', 'layers.2'],
      r: 4,
      lora_alpha: 4,
      rank_pattern: { 'layers\\.1': 2 },
      alpha_pattern: { 'layers\\.2': 16 },
    };
    const written = await writePeftAdapter(mlp(), config, ranks);
    expect(await validateWithAdapter('mlp', written.dir)).toEqual([]);
    const model = mlp();
    await loadAdapter(model, written.dir);
    expect(loraLayers(model).map(([p, l]) => [p, l.r, l.alpha, l.scaling])).toEqual([
      ['layers.0', 4, 4, 1],
      ['layers.1', 2, 4, 2],
      ['layers.2', 4, 16, 4],
    ]);
    model.dispose();
    const x = seededTensor([3, SIZES[0]], 5);
    const expected = await expectedOutputs(mlp, written, { 'layers.0': 1, 'layers.1': 2, 'layers.2': 4 }, x);
    expect(normRelativeError(await outputsWithAdapter(mlp, written.dir, x), expected)).toBeLessThan(1e-5);
    x.dispose();
  });

  test('the first matching key wins (dict order); a key matches only at a ".name" boundary', () => {
    const config = parsePeftConfig({ peft_type: 'LORA', r: 8, lora_alpha: 8, alpha_pattern: { 'attn\\.q': 1, q: 2, '\\d\\.attn\\.q': 3, k: 5 } }, 'c');
    expect(peftSiteSettings(config, 'blocks.0.attn.q').alpha).toBe(1);
    expect(peftSiteSettings(config, 'blocks.0.attn.k').alpha).toBe(5);
    expect(peftSiteSettings(config, 'blocks.0.attn.kk').alpha).toBe(8); // "k" must match a whole last part
    expect(peftSiteSettings(config, 'blocks.0.attn.v').alpha).toBe(8);
  });
});

describe('what rankwise writes', () => {
  /** Two inject calls: rsLoRA on layers.0 only, different ranks and alphas. */
  async function mixedAdapter(): Promise<{ dir: string; scalings: number[] }> {
    const model = mlp();
    injectLora(
      model,
      [
        { path: 'layers.0', r: 4, alpha: 8, rslora: true },
        { path: 'layers.1', r: 2, alpha: 8 },
        { path: 'layers.2', r: 2, alpha: 8 },
      ],
      3,
    );
    loraLayers(model).forEach(([, layer], i) => {
      const b = seededTensor(layer.loraB.shape, 20 + i, 0.5);
      layer.loraB.assign(b);
      b.dispose();
    });
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-peft-mixed-'));
    await saveAdapter(model, dir, { baseModel: 'HuggingFaceTB/SmolLM2-135M' });
    const scalings = loraLayers(model).map(([, l]) => l.scaling);
    model.dispose();
    return { dir, scalings };
  }

  test("mixed rsLoRA is folded into alpha_pattern so PEFT's one use_rslora flag reproduces every site's scaling", async () => {
    const { dir, scalings } = await mixedAdapter();
    const raw = JSON.parse(await readFile(join(dir, ADAPTER_CONFIG), 'utf8')) as JsonObject;
    expect(raw).toMatchObject({ use_rslora: false, r: 2, lora_alpha: 8, rank_pattern: { 'layers\\.0': 4 }, alpha_pattern: { 'layers\\.0': 16 } });
    // PEFT's arithmetic from the config alone: layers.0 (rsLoRA α 8, r 4 → 8/√4 = 4) becomes α 16 / r 4 = 4.
    const config = parsePeftConfig(raw, 'c');
    const peft = ['layers.0', 'layers.1', 'layers.2'].map((p) => loraScaling(peftSiteSettings(config, p)));
    expect(peft).toEqual(scalings);
    // rankwise reads its own presentation back (rsLoRA, α 8) because it agrees with PEFT's fields.
    const model = mlp();
    await loadAdapter(model, dir);
    expect(loraLayers(model).map(([, l]) => [l.rslora, l.alpha, l.scaling])).toEqual([
      [true, 8, 4],
      [false, 8, 4],
      [false, 8, 4],
    ]);
    model.dispose();
  });

  test("adapter_config.json holds PEFT's keys only (LoraConfig fields since PEFT 0.9), base_model_name_or_path as given", async () => {
    const { dir } = await mixedAdapter();
    const raw = JSON.parse(await readFile(join(dir, ADAPTER_CONFIG), 'utf8')) as JsonObject;
    const peftFields = [
      'peft_type',
      'task_type',
      'base_model_name_or_path',
      'revision',
      'inference_mode',
      'r',
      'lora_alpha',
      'lora_dropout',
      'use_rslora',
      'target_modules',
      'rank_pattern',
      'alpha_pattern',
      'bias',
      'fan_in_fan_out',
      'init_lora_weights',
      'modules_to_save',
      'layers_to_transform',
      'layers_pattern',
      'use_dora',
    ];
    expect(Object.keys(raw).filter((k) => !peftFields.includes(k))).toEqual([]);
    expect(raw.base_model_name_or_path).toBe('HuggingFaceTB/SmolLM2-135M');
    expect(buildPeftConfig([{ path: 'a', r: 2, alpha: 2, rslora: false, dropout: 0 }]).base_model_name_or_path).toBeNull();
  });

  test("PEFT's fields win over rankwise's metadata: an edited lora_alpha is what loads", async () => {
    const { dir } = await mixedAdapter();
    const file = join(dir, ADAPTER_CONFIG);
    const raw = JSON.parse(await readFile(file, 'utf8')) as JsonObject;
    await writeFile(file, JSON.stringify({ ...raw, lora_alpha: 6 }));
    const model = mlp();
    await loadAdapter(model, dir);
    expect(loraLayers(model).map(([p, l]) => [p, l.alpha, l.scaling])).toEqual([
      ['layers.0', 8, 4],
      ['layers.1', 6, 3],
      ['layers.2', 6, 3],
    ]);
    model.dispose();
  });

  test('keys of newer PEFT versions are accepted; settings rankwise cannot compute are refused, naming the key', async () => {
    const ranks = { 'layers.0': 2 };
    const future = await writePeftAdapter(
      mlp(),
      { target_modules: ['layers.0'], r: 2, lora_alpha: 2, eva_config: null, corda_config: null, some_future_key: { x: 1 } },
      ranks,
    );
    expect(await validateWithAdapter('mlp', future.dir)).toEqual([]);
    const dora = await writePeftAdapter(mlp(), { target_modules: ['layers.0'], r: 2, lora_alpha: 2, use_dora: true }, ranks);
    // DoRA is implemented (variants): use_dora is accepted, and then every site needs its lora_magnitude_vector.
    await expect(loadAdapter(mlp(), dora.dir)).rejects.toThrow(
      `${join(dora.dir, 'adapter_model.safetensors')}: site "layers.0" has no lora_magnitude_vector, but ${join(dora.dir, ADAPTER_CONFIG)} sets "use_dora": true`,
    );
    const saved = await writePeftAdapter(mlp(), { target_modules: ['layers.0'], r: 2, lora_alpha: 2, modules_to_save: ['layers.2'] }, ranks);
    expect((await validateWithAdapter('mlp', saved.dir)).join('\n')).toContain('/modules_to_save: found ["layers.2"], allowed: null or []');
    const badRegex = await writePeftAdapter(mlp(), { target_modules: ['layers.0'], r: 2, lora_alpha: 2, rank_pattern: { 'layers(': 2 } }, ranks);
    await expect(loadAdapter(mlp(), badRegex.dir)).rejects.toThrow('/rank_pattern/layers(: "layers(" is not a valid regular expression');
  });
});
