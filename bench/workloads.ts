import * as tf from '@tensorflow/tfjs';
import {
  createOptimizer, freeze, Gpt, injectLora, listSites, mergeAndUnload, Mlp, sparseSoftmaxCrossEntropy, trainStep, type AdamSpec, type Model, type Site,
} from '@rankwise/core';
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

function seededArray(n: number, seed: number, f: (u: number) => number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return f(s / 4294967296);
  });
}

function mlpData(): { x: tf.Tensor; y: tf.Tensor } {
  return {
    x: tf.tensor2d(seededArray(MLP_BATCH * 784, 1, (u) => u), [MLP_BATCH, 784]),
    y: tf.tensor1d(seededArray(MLP_BATCH, 2, (u) => Math.floor(u * 10)), 'int32'),
  };
}

function gptData(): { x: tf.Tensor; y: tf.Tensor } {
  const ids = (seed: number) => tf.tensor2d(seededArray(GPT_BATCH * GPT_CONFIG.context, seed, (u) => Math.floor(u * GPT_CONFIG.vocabSize)), [GPT_BATCH, GPT_CONFIG.context], 'int32');
  return { x: ids(3), y: ids(4) };
}

/**
 * The model's weight matrices as FLOP sites, as the model is now: `adapted` is true from injectLora until
 * mergeAndUnload, so an adapter counts (rank LORA_RANK) only while it is there.
 */
function matmulSites(model: Model): MatmulSite[] {
  return listSites(model).map((s) => ({ inFeatures: s.inFeatures, outFeatures: s.outFeatures, rank: s.adapted ? LORA_RANK : 0 }));
}

type FlopCount = (sites: MatmulSite[]) => number;

function training(id: string, description: string, model: Model, data: { x: tf.Tensor; y: tf.Tensor }, flops: FlopCount, samples: number, fastAdam?: (s: AdamSpec) => tf.Optimizer, tokens?: number): Workload {
  const variables = model.trainableParameters();
  const opt = createOptimizer({ name: 'adam', lr: 1e-3 }, fastAdam);
  return {
    id,
    description,
    samples,
    tokens,
    flops: flops(matmulSites(model)),
    trainableParams: variables.reduce((n, v) => n + v.size, 0),
    optimizerStateBytes: () => opt.stateBytes(),
    async step() {
      const out = trainStep({ loss: () => sparseSoftmaxCrossEntropy(model.forward(data.x), data.y), variables, optimizer: opt.optimizer });
      await out.loss.data();
      tf.dispose(out);
    },
    dispose() {
      opt.optimizer.dispose();
      tf.dispose([data.x, data.y]);
      model.dispose();
    },
  };
}

function inference(id: string, description: string, model: Model, data: { x: tf.Tensor; y: tf.Tensor }, flops: FlopCount, samples: number, tokens?: number): Workload {
  model.eval();
  return {
    id,
    description,
    samples,
    tokens,
    flops: flops(matmulSites(model)),
    trainableParams: 0,
    optimizerStateBytes: () => 0,
    async step() {
      const logits = model.forward(data.x);
      await logits.data();
      logits.dispose();
    },
    dispose() {
      tf.dispose([data.x, data.y]);
      model.dispose();
    },
  };
}

function loraMlp(): Mlp {
  const model = new Mlp({ sizes: MLP_SIZES }, 1);
  freeze(model);
  injectLora(model, listSites(model).map((s) => ({ path: s.path, r: LORA_RANK, alpha: LORA_ALPHA })), 1);
  return model;
}

function loraGpt(): Gpt {
  const model = new Gpt(GPT_CONFIG, 1);
  freeze(model);
  injectLora(model, listSites(model).filter(isGptTarget).map((s) => ({ path: s.path, r: LORA_RANK, alpha: LORA_ALPHA })), 1);
  return model;
}

/** Gives every B random values, so an unmerged adapter does real work and merging changes W. */
function randomizeAdapters(model: Model): void {
  for (const v of model.parameters().filter((p) => p.name.endsWith('lora_B'))) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.01, 'float32', 5)));
}

export type WorkloadFactory = { id: string; create(fastAdam?: (s: AdamSpec) => tf.Optimizer): Workload };

export const WORKLOADS: WorkloadFactory[] = [
  { id: 'W1-full', create: (adam) => training('W1-full', 'MLP 784-512-512-10, batch 128, Adam, all parameters', new Mlp({ sizes: MLP_SIZES }, 1), mlpData(), (sites) => trainFlops(MLP_BATCH, sites, true), MLP_BATCH, adam) },
  { id: 'W1-lora', create: (adam) => training('W1-lora', `MLP 784-512-512-10, batch 128, Adam, rank-${LORA_RANK} LoRA on all 3 Linear`, loraMlp(), mlpData(), (sites) => trainFlops(MLP_BATCH, sites, false), MLP_BATCH, adam) },
  {
    id: 'W2-full',
    create: (adam) => {
      const rows = GPT_BATCH * GPT_CONFIG.context;
      const flops: FlopCount = (sites) => trainFlops(rows, sites, true) + attentionFlops(GPT_BATCH, GPT_CONFIG.context, GPT_CONFIG.dim, GPT_CONFIG.layers, true);
      return training('W2-full', 'GPT V96 d128 L4 H4 T128, batch 32, Adam, all parameters', new Gpt(GPT_CONFIG, 1), gptData(), flops, GPT_BATCH, adam, rows);
    },
  },
  {
    id: 'W2-lora',
    create: (adam) => {
      const rows = GPT_BATCH * GPT_CONFIG.context;
      const flops: FlopCount = (sites) => trainFlops(rows, sites, false) + attentionFlops(GPT_BATCH, GPT_CONFIG.context, GPT_CONFIG.dim, GPT_CONFIG.layers, true);
      return training('W2-lora', `GPT V96 d128 L4 H4 T128, batch 32, Adam, rank-${LORA_RANK} LoRA on q and v`, loraGpt(), gptData(), flops, GPT_BATCH, adam, rows);
    },
  },
  ...(['base', 'unmerged', 'merged'] as const).flatMap((variant): WorkloadFactory[] => [
    {
      id: `W3-mlp-${variant}`,
      create: () => {
        const model = variant === 'base' ? new Mlp({ sizes: MLP_SIZES }, 1) : loraMlp();
        if (variant !== 'base') randomizeAdapters(model);
        if (variant === 'merged') mergeAndUnload(model);
        return inference(`W3-mlp-${variant}`, `MLP forward, batch 128, ${variant}`, model, mlpData(), (sites) => forwardFlops(MLP_BATCH, sites, variant === 'unmerged'), MLP_BATCH);
      },
    },
    {
      id: `W3-gpt-${variant}`,
      create: () => {
        const model = variant === 'base' ? new Gpt(GPT_CONFIG, 1) : loraGpt();
        if (variant !== 'base') randomizeAdapters(model);
        if (variant === 'merged') mergeAndUnload(model);
        const rows = GPT_BATCH * GPT_CONFIG.context;
        const flops: FlopCount = (sites) => forwardFlops(rows, sites, variant === 'unmerged') + attentionFlops(GPT_BATCH, GPT_CONFIG.context, GPT_CONFIG.dim, GPT_CONFIG.layers, false);
        return inference(`W3-gpt-${variant}`, `GPT forward, batch 32 × 128 tokens, ${variant}`, model, gptData(), flops, GPT_BATCH, rows);
      },
    },
  ]),
];
