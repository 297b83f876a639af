import * as tf from '@tensorflow/tfjs';
import { IGNORE_INDEX, type SequenceDataset, type SequenceStats, type TokenSequence } from '../contracts/dataset.js';
import type { Vocabulary } from '../contracts/datasets.js';
import type { TaskData } from '../contracts/task-data.js';
import { generateTokens } from '../generation/generate.js';
import { eosIds } from '../generation/generate-text.js';
import { Llama } from '@rankwise/models';
import type { Model } from '@rankwise/models';
import { maskedNllSum, maskedSoftmaxCrossEntropy } from '../train/loss.js';
import { EpochSampler } from './batcher.js';
import { exactMatch, normalizedAnswer } from './exact-match.js';

/** Prompts per generation batch (left-padded to one length by generateTokens). */
const GENERATION_BATCH = 16;

/** What the sequence task needs besides the data: the tokenizer (decoding answers) and when generation stops. */
export interface SequenceTaskOptions {
  /** Ids that end a generated answer besides the model's EOS (the tokenizer's special tokens). */
  stopIds?: readonly number[];
  /** Generated tokens per reference answer (default: the longest reference answer's tokens + 8). */
  maxNewTokens?: number;
}

/**
 * Token sequences (TRL-style language-model data: text, completion, chat) for a causal language model. Sequences are
 * read once into memory. Training batches draw whole sequences in a seeded epoch order, right-padded to the longest
 * of the batch (padding: the dataset's padId, label −100; causal attention never lets a real token read the padding
 * after it, so no attention mask is needed); packed sequences pass their position ids to the model (Llama family).
 * The loss is transformers' causal-LM loss: logits at t predict labels[t + 1], averaged over labels other than −100.
 *
 * Evaluation: `loss` and `perplexity` over the tokens that carry loss (completion / assistant tokens), summed over the
 * split and divided by their number; with held-out references, greedy-decoded `exactMatch` (the answer as generated,
 * up to a stop token, trimmed, equals the reference trimmed) and `exactMatchNormalized` (SQuAD's normalize_answer:
 * lower case, punctuation and the articles a/an/the removed, whitespace collapsed).
 */
export async function sequenceTask(
  dataset: SequenceDataset,
  model: Model,
  vocabulary: Vocabulary | null,
  seed: number,
  options: SequenceTaskOptions = {},
): Promise<TaskData> {
  const sequences: TokenSequence[] = [];
  for await (const s of dataset.sequences()) {
    if (s.inputIds.length !== s.labels.length) throw new Error(`${dataset.name}: a sequence has ${s.inputIds.length} ids and ${s.labels.length} labels`);
    if (s.inputIds.length >= 2) sequences.push(s);
  }
  if (sequences.length === 0) throw new Error(`${dataset.name}: no sequences of 2 tokens or more`);
  const context = model.contextLength ?? Infinity;
  const longest = Math.max(...sequences.map((s) => s.inputIds.length));
  if (longest > context)
    throw new Error(`${dataset.name}: a sequence of ${longest} tokens is longer than the model's context (${context}); set the dataset's maxLength`);
  const packed = sequences.some((s) => s.positionIds !== undefined);
  if (packed && !(model instanceof Llama))
    throw new Error(
      `${dataset.name}: packed sequences (position ids) need a Llama-family model; this one is ${model.architecture} (set "packing": false or "wrapped")`,
    );
  const stats: SequenceStats = await dataset.stats();
  const sampler = new EpochSampler(sequences.length, seed);
  /** Position ids of the batches' x tensors (so `loss` can pass them to the model). */
  const positionsOf = new WeakMap<tf.Tensor, Int32Array>();

  /**
   * x = the ids of each sequence and y = its labels shifted by one (y[t] = labels[t + 1], the last −100: what the
   * logits at t are scored against, transformers' shift), right-padded to the longest of the batch: [B, T] each.
   */
  const build = (rows: ArrayLike<number>) => {
    const chosen = Array.from(rows, (r) => sequences[r]);
    const t = Math.max(...chosen.map((s) => s.inputIds.length));
    const x = new Int32Array(chosen.length * t).fill(dataset.padId);
    const y = new Int32Array(chosen.length * t).fill(IGNORE_INDEX);
    const positions = packed ? new Int32Array(chosen.length * t) : null;
    chosen.forEach((s, k) => {
      const n = s.inputIds.length;
      x.set(s.inputIds, k * t);
      y.set(s.labels.subarray(1), k * t);
      if (positions) positions.set(s.positionIds ?? Int32Array.from({ length: n }, (_, i) => i), k * t);
    });
    const xt = tf.tensor2d(x, [chosen.length, t], 'int32');
    if (positions) positionsOf.set(xt, positions);
    return { x: xt, y: tf.tensor2d(y, [chosen.length, t], 'int32') };
  };
  const forward = (m: Model, x: tf.Tensor): tf.Tensor => {
    const positions = positionsOf.get(x);
    return positions && m instanceof Llama ? m.forward(x, positions) : m.forward(x); // logits [B, T, V]
  };

  return {
    name: dataset.name,
    size: sequences.length,
    batch: (batchSize) => build(sampler.next(batchSize)),
    loss: (m, x, y) => maskedSoftmaxCrossEntropy(forward(m, x), y),
    getSamplerState: () => sampler.getState(),
    setSamplerState: (state) => sampler.setState(state as ReturnType<EpochSampler['getState']>),
    summary: () => ({
      name: dataset.name,
      examples: stats.examples,
      tokens: stats.tokens,
      lossTokens: stats.lossTokens,
      lossShare: stats.tokens === 0 ? 0 : stats.lossTokens / stats.tokens,
      truncated: stats.truncated,
    }),
    async evaluate(m, batchSize) {
      // batchSize counts tokens per forward pass (as for context windows): whole sequences, at least one
      const perBatch = Math.max(1, Math.floor(batchSize / longest));
      let nll = 0;
      let counted = 0;
      for (let start = 0; start < sequences.length; start += perBatch) {
        const rows = Array.from({ length: Math.min(perBatch, sequences.length - start) }, (_, i) => start + i);
        const { x, y } = build(rows);
        const [sum, count] = tf.tidy(() => maskedNllSum(forward(m, x), y));
        nll += (await sum.data())[0];
        counted += (await count.data())[0];
        tf.dispose([x, y, sum, count]);
      }
      const loss = counted === 0 ? 0 : nll / counted;
      const metrics: Record<string, number> = { loss, perplexity: Math.exp(loss), lossTokens: counted };
      if (dataset.references && vocabulary) Object.assign(metrics, await exactMatchOf(dataset, m, vocabulary, options));
      return metrics;
    },
  };
}

/** Greedy answers to the held-out prompts, compared with the references. */
async function exactMatchOf(dataset: SequenceDataset, model: Model, vocabulary: Vocabulary, options: SequenceTaskOptions): Promise<Record<string, number>> {
  const references: Array<{ prompt: Int32Array; answer: string }> = [];
  for await (const r of dataset.references!()) references.push(r);
  if (references.length === 0) return {};
  const stops = new Set([...eosIds(model), ...specialTokenIds(vocabulary), ...(options.stopIds ?? [])]);
  const maxNewTokens = options.maxNewTokens ?? Math.max(...references.map((r) => vocabulary.encode(r.answer).length)) + 8;
  const wasTraining = model.training;
  let exact = 0;
  let normalized = 0;
  try {
    for (let start = 0; start < references.length; start += GENERATION_BATCH) {
      const batch = references.slice(start, start + GENERATION_BATCH);
      const { tokens } = await generateTokens(
        model,
        batch.map((r) => Array.from(r.prompt)),
        { maxNewTokens, stopIds: [...stops], banned: (id) => id >= vocabulary.size },
      );
      tokens.forEach((generated, k) => {
        const cut = generated.findIndex((id) => stops.has(id));
        const answer = cut < 0 ? generated : generated.slice(0, cut);
        const text = answer.length === 0 ? '' : vocabulary.decode(answer);
        if (exactMatch(text, batch[k].answer)) exact++;
        if (normalizedAnswer(text) === normalizedAnswer(batch[k].answer)) normalized++;
      });
    }
  } finally {
    if (wasTraining) model.train();
  }
  return { exactMatch: exact / references.length, exactMatchNormalized: normalized / references.length, references: references.length };
}

/** Ids of a Hugging Face tokenizer's special added tokens (end-of-turn tokens among them); none for other vocabularies. */
export function specialTokenIds(vocabulary: Vocabulary): number[] {
  const json = vocabulary.toJSON() as { type?: string; tokenizer?: { added_tokens?: Array<{ id?: unknown; special?: unknown }> } };
  if (json.type !== 'huggingface-tokenizer') return [];
  return (json.tokenizer?.added_tokens ?? []).filter((t) => t.special === true && typeof t.id === 'number').map((t) => t.id as number);
}
