import * as tf from '@tensorflow/tfjs';
import { freeze, Gpt, injectLora, listSites, Llama, mergeAndUnload, Mlp, type AdamSpec, type Site } from '@rankwise/core';
import { createOptimizer, generateTokens, setGradientCheckpointing, sparseSoftmaxCrossEntropy, trainStep } from '@rankwise/core/training';
import { buildQuantized, quantizableLinear, type Model, type QuantType } from '@rankwise/models';
import { attentionFlops, forwardFlops, trainFlops, type MatmulSite } from './flops.js';

/** A prepared workload: one call of `step` is one timed unit (a training step, or a forward pass). */
export interface Workload {
  id: string;
  description: string;
  /** Samples per step (MLP rows, or GPT sequences) and tokens per step (GPT). */
  samples: number;
  tokens?: number;
  flops: number;
  trainableParams: number;
  optimizerStateBytes(): number;
  step(): Promise<void>;
  dispose(): void;
}

const MLP_SIZES = [784, 512, 512, 10];
const MLP_BATCH = 128;
export const GPT_CONFIG = { vocabSize: 96, dim: 128, layers: 4, heads: 4, context: 128, dropout: 0, tiedHead: false };
const GPT_BATCH = 32;
const LORA_RANK = 8;
const LORA_ALPHA = 16;
/** The GPT sites the LoRA workloads adapt (the MLP ones adapt every site). */
const isGptTarget = (site: Site): boolean => site.role === 'attn.q' || site.role === 'attn.v';

type Batch = { x: tf.Tensor; y: tf.Tensor };

function seededArray(n: number, seed: number, f: (u: number) => number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return f(s / 4294967296);
  });
}

function mlpData(): Batch {
  return {
    x: tf.tensor2d(
      seededArray(MLP_BATCH * 784, 1, (u) => u),
      [MLP_BATCH, 784],
    ),
    y: tf.tensor1d(
      seededArray(MLP_BATCH, 2, (u) => Math.floor(u * 10)),
      'int32',
    ),
  };
}

function gptData(): Batch {
  const ids = (seed: number) =>
    tf.tensor2d(
      seededArray(GPT_BATCH * GPT_CONFIG.context, seed, (u) => Math.floor(u * GPT_CONFIG.vocabSize)),
      [GPT_BATCH, GPT_CONFIG.context],
      'int32',
    );
  return { x: ids(3), y: ids(4) };
}

/**
 * The model's weight matrices as FLOP sites, as the model is now: `adapted` is true from injectLora until
 * mergeAndUnload, so an adapter counts (rank LORA_RANK) only while it is there.
 */
function matmulSites(model: Model): MatmulSite[] {
  return listSites(model).map((s) => ({ inFeatures: s.inFeatures, outFeatures: s.outFeatures, rank: s.adapted ? LORA_RANK : 0 }));
}

/** A model family: how to build it (frozen with LoRA adapters, or not), its fixed batch, and its other FLOPs. */
interface Family {
  build(lora: boolean): Model;
  data(): Batch;
  /** Rows of every weight product per step: batch (MLP) or batch·context (GPT). */
  rows: number;
  samples: number;
  tokens?: number;
  /** FLOPs besides the weight products (GPT attention). */
  otherFlops(training: boolean): number;
}

/** Freezes the model and gives the chosen sites rank-LORA_RANK adapters. */
function withLora<M extends Model>(model: M, target: (site: Site) => boolean): M {
  freeze(model);
  injectLora(
    model,
    listSites(model)
      .filter(target)
      .map((s) => ({ path: s.path, r: LORA_RANK, alpha: LORA_ALPHA })),
    1,
  );
  return model;
}

const MLP: Family = {
  build: (lora) => {
    const model = new Mlp({ sizes: MLP_SIZES }, 1);
    return lora ? withLora(model, () => true) : model;
  },
  data: mlpData,
  rows: MLP_BATCH,
  samples: MLP_BATCH,
  otherFlops: () => 0,
};

const GPT: Family = {
  build: (lora) => {
    const model = new Gpt(GPT_CONFIG, 1);
    return lora ? withLora(model, isGptTarget) : model;
  },
  data: gptData,
  rows: GPT_BATCH * GPT_CONFIG.context,
  samples: GPT_BATCH,
  tokens: GPT_BATCH * GPT_CONFIG.context,
  otherFlops: (training) => attentionFlops(GPT_BATCH, GPT_CONFIG.context, GPT_CONFIG.dim, GPT_CONFIG.layers, training),
};

/** Gives every B random values, so an unmerged adapter does real work and merging changes W. */
function randomizeAdapters(model: Model): void {
  for (const v of model.parameters().filter((p) => p.name.endsWith('lora_B'))) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.01, 'float32', 5)));
}

/** What training and inference workloads share; `release` frees what the kind added (the optimizer). */
function workload(
  id: string,
  description: string,
  family: Family,
  model: Model,
  data: Batch,
  flops: number,
  run: Pick<Workload, 'trainableParams' | 'optimizerStateBytes' | 'step'>,
  release: () => void = () => {},
): Workload {
  return {
    id,
    description,
    samples: family.samples,
    tokens: family.tokens,
    flops,
    ...run,
    dispose() {
      release();
      tf.dispose([data.x, data.y]);
      model.dispose();
    },
  };
}

/** How long to time a workload (bench/run.ts's Plan); slow workloads ask for fewer steps. */
export interface PlanOverride {
  warmup?: number;
  minSteps?: number;
  maxSteps?: number;
  minTimeMs?: number;
  budgetMs?: number;
}

export type WorkloadFactory = { id: string; plan?: PlanOverride; create(fastAdam?: (s: AdamSpec) => tf.Optimizer): Workload };

/** One timed training step (cross-entropy, the optimizer's update, the loss read back) over the trainable variables. */
function trainingRun(model: Model, data: Batch, opt: ReturnType<typeof createOptimizer>) {
  const variables = model.trainableParameters();
  const run = {
    trainableParams: variables.reduce((n, v) => n + v.size, 0),
    optimizerStateBytes: () => opt.stateBytes(),
    async step() {
      const out = trainStep({ loss: () => sparseSoftmaxCrossEntropy(model.forward(data.x), data.y), variables, optimizer: opt.optimizer });
      await out.loss.data();
      tf.dispose(out);
    },
  };
  return { run, dispose: () => opt.optimizer.dispose() };
}

/** A training step with Adam: every parameter, or (lora) only the adapters of the frozen model. */
function training(id: string, description: string, family: Family, lora: boolean): WorkloadFactory {
  return {
    id,
    create(fastAdam) {
      const model = family.build(lora);
      const data = family.data();
      const flops = trainFlops(family.rows, matmulSites(model), !lora) + family.otherFlops(true);
      const { run, dispose } = trainingRun(model, data, createOptimizer({ name: 'adam', lr: 1e-3 }, fastAdam));
      return workload(id, description, family, model, data, flops, run, dispose);
    },
  };
}

/**
 * W4: a Llama at SmolLM2-135M's size (random weights built in memory), batch 4 × 256 tokens, AdamW lr 1e-4 —
 * the workload of /work/shared/bench/torch_llama.py (PyTorch), so the two can be compared step for step.
 * W4_LAYERS shrinks the stack for a smoke run (the ids and the PyTorch script's --layers agree).
 */
export const LLAMA_W4_CONFIG = {
  model_type: 'llama',
  vocab_size: 49152,
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: Number(process.env.W4_LAYERS ?? 30),
  num_attention_heads: 9,
  num_key_value_heads: 3,
  rope_theta: 100000,
  rms_norm_eps: 1e-5,
  max_position_embeddings: 8192,
  tie_word_embeddings: true,
  context: 256,
} as const;
const LLAMA_BATCH = 4;
/** Timed steps of each W4 workload (after 1 warm-up): W4_STEPS, default 3. */
const W4_STEPS = Number(process.env.W4_STEPS ?? 3);
const LLAMA_RANK = 16;
const LLAMA_ALPHA = 32;
const LLAMA_QV = new Set(['attn.q', 'attn.v']);

/**
 * W6: a Qwen2.5-1.5B-shaped model (random weights built in memory, quantized as they are built), batch 1 × 512,
 * rank-16 LoRA on q, v — `torch_llama.py --shape qwen2.5-1.5b --only lora-qv --batch 1 --seq 512 --checkpoint`.
 * W6_LAYERS shrinks the stack for a smoke run.
 */
export const QWEN_W6_CONFIG = {
  model_type: 'qwen2',
  vocab_size: 151936,
  hidden_size: 1536,
  intermediate_size: 8960,
  num_hidden_layers: Number(process.env.W6_LAYERS ?? 28),
  num_attention_heads: 12,
  num_key_value_heads: 2,
  rope_theta: 1000000,
  rms_norm_eps: 1e-6,
  max_position_embeddings: 32768,
  tie_word_embeddings: true,
  context: 512,
} as const;

interface LlamaShape {
  config: typeof LLAMA_W4_CONFIG | typeof QWEN_W6_CONFIG;
  batch: number;
  steps: number;
}
const W4_SHAPE: LlamaShape = { config: LLAMA_W4_CONFIG, batch: LLAMA_BATCH, steps: W4_STEPS };
const W6_SHAPE: LlamaShape = { config: QWEN_W6_CONFIG, batch: 1, steps: Number(process.env.W6_STEPS ?? 2) };

/** How the frozen base is kept: quantized (QLoRA) and/or with every decoder block checkpointed. */
interface Memory {
  quantize?: QuantType;
  checkpoint?: boolean;
}

function llamaData({ config, batch }: LlamaShape): Batch {
  const { context, vocab_size: vocab } = config;
  const ids = (seed: number) =>
    tf.tensor2d(
      seededArray(batch * context, seed, (u) => Math.floor(u * vocab)),
      [batch, context],
      'int32',
    );
  return { x: ids(5), y: ids(6) };
}

/** A training step of a Llama-family model with AdamW (lr 1e-4): every parameter, or rank-16 LoRA on the chosen roles. */
function llamaTraining(id: string, description: string, lora: ((site: Site) => boolean) | null, shape = W4_SHAPE, memory: Memory = {}): WorkloadFactory {
  return {
    id,
    plan: { warmup: 1, minSteps: shape.steps, maxSteps: shape.steps, minTimeMs: 0, budgetMs: 3_600_000 },
    create(fastAdam) {
      const { config, batch } = shape;
      const build = () => new Llama(config, 1);
      // Quantized as it is built: no float32 copy of a quantized weight is ever made.
      const model = memory.quantize ? buildQuantized(memory.quantize, quantizableLinear, build) : build();
      if (memory.checkpoint) setGradientCheckpointing(model, true);
      if (lora) {
        freeze(model);
        injectLora(
          model,
          listSites(model)
            .filter(lora)
            .map((s) => ({ path: s.path, r: LLAMA_RANK, alpha: LLAMA_ALPHA })),
          1,
        );
      }
      const data = llamaData(shape);
      const rows = batch * config.context;
      const sites = listSites(model).map((s) => ({ inFeatures: s.inFeatures, outFeatures: s.outFeatures, rank: s.adapted ? LLAMA_RANK : 0 }));
      // The tied head is a product too: [rows, d]·[d, V], and full fine-tuning trains it.
      const head = { inFeatures: config.hidden_size, outFeatures: config.vocab_size, rank: 0 };
      const { hidden_size: d, num_hidden_layers: layers } = config;
      // Checkpointing runs every block's forward twice (the recompute is not counted: GFLOP/s stay the model's).
      const flops = trainFlops(rows, [...sites, head], !lora) + attentionFlops(batch, config.context, d, layers, true);
      const { run, dispose } = trainingRun(model, data, createOptimizer({ name: 'adamw', lr: 1e-4 }, fastAdam));
      const family: Family = { build: () => model, data: () => data, rows, samples: batch, tokens: rows, otherFlops: () => 0 };
      return workload(id, description, family, model, data, flops, run, dispose);
    },
  };
}

/**
 * W5: generation from the W4 model (random weights): a 256-token prompt prefilled, 128 new tokens decoded greedily with
 * the KV cache, at batch `batch` — one step is one whole generation (tokens/s counts the new tokens). The prefill and
 * decode rates apart, and PyTorch's beside them: bench/w5-generate.ts, bench/w5-compare.ts.
 */
function llamaGeneration(batch: number): WorkloadFactory {
  const prompt = 256;
  const fresh = 128;
  const id = `W5-b${batch}`;
  return {
    id,
    plan: { warmup: 0, minSteps: 1, maxSteps: 1, minTimeMs: 0, budgetMs: 3_600_000 },
    create() {
      const model = new Llama({ ...LLAMA_W4_CONFIG, context: prompt + fresh }, 1);
      model.eval();
      const prompts = Array.from({ length: batch }, (_, b) => seededArray(prompt, 10 + b, (u) => Math.floor(u * LLAMA_W4_CONFIG.vocab_size)));
      const sites = listSites(model).map((s) => ({ inFeatures: s.inFeatures, outFeatures: s.outFeatures, rank: 0 }));
      const head = { inFeatures: LLAMA_W4_CONFIG.hidden_size, outFeatures: LLAMA_W4_CONFIG.vocab_size, rank: 0 };
      // prefill: every prompt row through the layers, the head for the last one; decode: one row per step
      const flops =
        forwardFlops(batch * prompt, sites, false) + forwardFlops(batch, [head], false) + forwardFlops(batch * (fresh - 1), [...sites, head], false);
      return {
        id,
        description: `Llama SmolLM2-135M size, generation: ${prompt}-token prompt prefilled, ${fresh} new tokens decoded greedily with the KV cache, batch ${batch}`,
        samples: batch,
        tokens: batch * fresh,
        flops,
        trainableParams: 0,
        optimizerStateBytes: () => 0,
        async step() {
          await generateTokens(model, prompts, { maxNewTokens: fresh });
        },
        dispose: () => model.dispose(),
      };
    },
  };
}

const INFERENCE_VARIANTS = ['base', 'unmerged', 'merged'] as const;

/** A forward pass of the base model, of the model with (random) unmerged adapters, or after mergeAndUnload. */
function inference(id: string, description: string, family: Family, variant: (typeof INFERENCE_VARIANTS)[number]): WorkloadFactory {
  return {
    id,
    create() {
      const model = family.build(variant !== 'base');
      if (variant !== 'base') randomizeAdapters(model);
      if (variant === 'merged') mergeAndUnload(model);
      const data = family.data();
      const flops = forwardFlops(family.rows, matmulSites(model), variant === 'unmerged') + family.otherFlops(false);
      model.eval();
      const run = {
        trainableParams: 0,
        optimizerStateBytes: () => 0,
        async step() {
          const logits = model.forward(data.x);
          await logits.data();
          logits.dispose();
        },
      };
      return workload(id, description, family, model, data, flops, run);
    },
  };
}

export const WORKLOADS: WorkloadFactory[] = [
  training('W1-full', 'MLP 784-512-512-10, batch 128, Adam, all parameters', MLP, false),
  training('W1-lora', `MLP 784-512-512-10, batch 128, Adam, rank-${LORA_RANK} LoRA on all 3 Linear`, MLP, true),
  training('W2-full', 'GPT V96 d128 L4 H4 T128, batch 32, Adam, all parameters', GPT, false),
  training('W2-lora', `GPT V96 d128 L4 H4 T128, batch 32, Adam, rank-${LORA_RANK} LoRA on q and v`, GPT, true),
  llamaTraining('W4-full', 'Llama SmolLM2-135M size (d576 L30 H9 KV3 SwiGLU1536 V49152 tied), batch 4 × 256, AdamW, all parameters', null),
  llamaTraining('W4-lora-qv', `Llama SmolLM2-135M size, batch 4 × 256, AdamW, rank-${LLAMA_RANK} LoRA on q_proj and v_proj`, (s) => LLAMA_QV.has(s.role)),
  llamaTraining(
    'W4-lora-all',
    `Llama SmolLM2-135M size, batch 4 × 256, AdamW, rank-${LLAMA_RANK} LoRA on every linear layer (all-linear)`,
    (s) => s.role !== 'head',
  ),
  llamaTraining(
    'W4-lora-qv-ckpt-nf4',
    `Llama SmolLM2-135M size, batch 4 × 256, AdamW, rank-${LLAMA_RANK} LoRA on q_proj and v_proj, NF4 base, checkpointed blocks`,
    (s) => LLAMA_QV.has(s.role),
    W4_SHAPE,
    { quantize: 'nf4', checkpoint: true },
  ),
  llamaTraining(
    'W4-lora-qv-ckpt',
    `Llama SmolLM2-135M size, batch 4 × 256, AdamW, rank-${LLAMA_RANK} LoRA on q_proj and v_proj, checkpointed blocks`,
    (s) => LLAMA_QV.has(s.role),
    W4_SHAPE,
    { checkpoint: true },
  ),
  llamaTraining(
    'W6-lora-qv-ckpt-nf4',
    `Qwen2.5-1.5B size (d1536 L28 H12 KV2 SwiGLU8960 V151936 tied), batch 1 × 512, AdamW, rank-${LLAMA_RANK} LoRA on q_proj and v_proj, NF4 base, checkpointed blocks`,
    (s) => LLAMA_QV.has(s.role),
    W6_SHAPE,
    { quantize: 'nf4', checkpoint: true },
  ),
  llamaGeneration(1),
  llamaGeneration(8),
  ...INFERENCE_VARIANTS.flatMap((variant) => [
    inference(`W3-mlp-${variant}`, `MLP forward, batch 128, ${variant}`, MLP, variant),
    inference(`W3-gpt-${variant}`, `GPT forward, batch 32 × 128 tokens, ${variant}`, GPT, variant),
  ]),
];
