/**
 * rankwise → GGUF → llama.cpp (node-llama-cpp 3.21.1, its prebuilt CPU binaries) and llama.cpp-tooling GGUF →
 * rankwise: the same greedy tokens and next-token log-probabilities within a tolerance per tensor type.
 *
 * Tolerances (max |Δ log p| over all 384 tokens at every position; this random model's log p spans 0 to −20):
 * llama.cpp keeps its KV cache in F16, so even F32 weights differ by ~1e-2 (measured 1.0e-2); ggml's CPU matmuls
 * round the activations to the weight type (F16 1.5e-2, BF16 7.2e-2, Q8_0 and Q4_0 to 8-bit blocks: 0.26 and 0.40,
 * mean 0.04), so quantized files are compared with rankwise reading the same file, whose dequantization
 * dequantize.test.ts checks against gguf-py bit for bit. Greedy tokens must agree exactly in every case.
 * llama.cpp runs on one thread: its thread pool and the native backend's spin against each other on 2 cores.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getLlama, LlamaLogLevel, type Llama as LlamaCpp, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadAdapter, loadGgufModel, loadHuggingFaceModel, saveGgufModel } from '@rankwise/core';
import { ggufAdapterToPeft, peftToGgufAdapter } from '@rankwise/formats';
import { HfTokenizer } from '@rankwise/datasets';
import { GGUF_FIXTURES, HF_TINY, greedy, logProbs, tokenizerOf } from './helpers.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';

const TEXT = 'Hello, world! The State of the Union';
const STEPS = 12;
const TOLERANCE = { f32: 0.02, f16: 0.03, bf16: 0.1, q8_0: 0.35, q4_0: 0.5 } as const;

let llamaCpp: LlamaCpp;
let dir: string;
let prompt: number[];

interface CppResult {
  logProbs: number[][];
  greedy: number[];
  tokenize: number[];
}

/** node-llama-cpp on `modelPath` (with a LoRA adapter): log-probs after each prompt token, greedy continuation, tokenize(TEXT). */
async function runLlamaCpp(modelPath: string, adapter?: string): Promise<CppResult> {
  const model = await llamaCpp.loadModel({ modelPath });
  try {
    const context = await model.createContext({ contextSize: 64, threads: 1, lora: adapter ? { adapters: [{ filePath: adapter }] } : undefined });
    try {
      const sequence = context.getSequence();
      const options = { temperature: 1, topK: 0, topP: 1, minP: 0 };
      const out = await sequence.controlledEvaluate(tokens(prompt).map((t) => [t, { generateNext: { probabilities: true, options } }]));
      const logProbs = out.map((o) => {
        const row = new Array<number>(384).fill(Number.NEGATIVE_INFINITY);
        for (const [token, p] of o!.next!.probabilities!) row[token] = Math.log(p);
        return row;
      });
      await sequence.clearHistory();
      const continuation: number[] = [];
      for await (const t of sequence.evaluate(tokens(prompt), { temperature: 0 })) {
        continuation.push(t);
        if (continuation.length === STEPS) break;
      }
      return { logProbs, greedy: continuation, tokenize: [...model.tokenize(TEXT)] };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/** node-llama-cpp's Token is a branded number. */
const tokens = (ids: number[]): Token[] => ids as unknown as Token[];

function maxLogProbDiff(a: number[][], b: number[][]): number {
  let max = 0;
  for (let t = 0; t < a.length; t++) for (let v = 0; v < a[t].length; v++) max = Math.max(max, Math.abs(a[t][v] - b[t][v]));
  return max;
}

beforeAll(async () => {
  await useTestBackend();
  llamaCpp = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  dir = mkdtempSync(join(tmpdir(), 'rankwise-gguf-'));
  prompt = [...(await HfTokenizer.fromDirectory(HF_TINY)).encode(TEXT)];
});

afterAll(async () => {
  await llamaCpp?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('rankwise → GGUF → llama.cpp', () => {
  test.each(['f32', 'f16', 'q8_0'] as const)('merged model as %s: same greedy tokens, log-probs within tolerance, same tokenization', async (type) => {
    const { model } = await loadHuggingFaceModel(HF_TINY);
    const file = join(dir, `tiny-${type}.gguf`);
    await saveGgufModel(model, file, { type, name: 'llama-tiny', tokenizer: tokenizerOf(HF_TINY) });
    // f32 / f16: against the original float32 model; q8_0: against rankwise reading the quantized file back.
    const reference = type === 'q8_0' ? (await loadGgufModel(file)).model : model;
    const cpp = await runLlamaCpp(file);
    const diff = maxLogProbDiff(cpp.logProbs, await logProbs(reference, prompt));
    console.log(`${type}: max |Δ log p| = ${diff.toExponential(2)} (tolerance ${TOLERANCE[type]})`);
    expect(diff).toBeLessThan(TOLERANCE[type]);
    expect(cpp.greedy).toEqual(await greedy(reference, prompt, STEPS));
    expect(cpp.tokenize).toEqual(prompt);
    if (reference !== model) reference.dispose();
    model.dispose();
    if (type === 'q8_0') {
      // and not trivially: the quantized weights do move the log-probs of the float32 model
      const original = (await loadHuggingFaceModel(HF_TINY)).model;
      expect(maxLogProbDiff(cpp.logProbs, await logProbs(original, prompt))).toBeGreaterThan(1e-3);
      original.dispose();
    }
  });

  test.each(['adapter-qv'])(
    'GGUF LoRA adapter from the PEFT %s fixture (per-site alpha and rank patterns) on the f32 base: same tokens and log-probs as rankwise with the adapter',
    async (name) => {
      const base = join(dir, 'base-f32.gguf');
      const { model } = await loadHuggingFaceModel(HF_TINY);
      await saveGgufModel(model, base, { type: 'f32', name: 'llama-tiny', tokenizer: tokenizerOf(HF_TINY) });
      const withoutAdapter = await logProbs(model, prompt);
      await loadAdapter(model, resolve('test/fixtures/hf', name));
      const adapterFile = join(dir, `${name}.gguf`);
      await peftToGgufAdapter(resolve('test/fixtures/hf', name), model.config, adapterFile, { name });
      const cpp = await runLlamaCpp(base, adapterFile);
      const expected = await logProbs(model, prompt);
      const diff = maxLogProbDiff(cpp.logProbs, expected);
      console.log(
        `${name}: max |Δ log p| = ${diff.toExponential(2)}; the adapter itself moves log p by ${maxLogProbDiff(expected, withoutAdapter).toExponential(2)}`,
      );
      expect(maxLogProbDiff(expected, withoutAdapter)).toBeGreaterThan(10 * TOLERANCE.f32);
      expect(diff).toBeLessThan(TOLERANCE.f32);
      expect(cpp.greedy).toEqual(await greedy(model, prompt, STEPS));
      model.dispose();
    },
  );
});

describe('GGUF written by llama.cpp tooling (gguf-py) → rankwise', () => {
  test.each(['bf16', 'q8_0', 'q4_0'] as const)('llama-tiny-%s.gguf: rankwise reads it and agrees with llama.cpp on the same file', async (type) => {
    const file = resolve(GGUF_FIXTURES, `llama-tiny-${type}.gguf`);
    const before = tf.memory().numTensors;
    const { model, tokenizer } = await loadGgufModel(file);
    const cpp = await runLlamaCpp(file);
    const diff = maxLogProbDiff(cpp.logProbs, await logProbs(model, prompt));
    console.log(`gguf-py ${type}: max |Δ log p| = ${diff.toExponential(2)} (tolerance ${TOLERANCE[type]})`);
    expect(diff).toBeLessThan(TOLERANCE[type]);
    expect(cpp.greedy).toEqual(await greedy(model, prompt, STEPS));
    // the tokenizer rebuilt from the GGUF metadata encodes as llama.cpp does
    expect([...HfTokenizer.fromJSON({ type: 'huggingface-tokenizer', tokenizer: tokenizer.tokenizer, config: tokenizer.config }).encode(TEXT)]).toEqual(
      cpp.tokenize,
    );
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('GGUF → rankwise → LoRA fine-tune → GGUF, from a pipeline (pipelines/gguf-lora.json)', () => {
  test('llama.cpp runs the saved adapter.gguf on the input GGUF and the saved model.gguf as rankwise does', async () => {
    const base = resolve(GGUF_FIXTURES, 'llama-tiny-bf16.gguf');
    const out = join(dir, 'runs');
    // bf16 input (llama.cpp's activation rounding stays small) and a learning rate that moves the model in 10 steps
    const run = runCli([
      'run',
      'pipelines/gguf-lora.json',
      '--quiet',
      '--out',
      out,
      '--set',
      `stages.0.gguf=${base}`,
      '--set',
      'stages.3.steps=10',
      '--set',
      'stages.3.optimizer.lr=0.02',
      '--set',
      'stages.5.gguf.type=f32',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const runDir = join(out, 'gguf-lora', readdirSync(join(out, 'gguf-lora')).find((d) => d !== 'latest')!);
    // rankwise's reference: the input GGUF with the adapter read back from adapter.gguf
    const { model } = await loadGgufModel(base);
    const without = await logProbs(model, prompt);
    const peft = join(dir, 'from-gguf-adapter');
    await ggufAdapterToPeft(join(runDir, 'adapter.gguf'), model.config, peft);
    await loadAdapter(model, peft);
    const expected = await logProbs(model, prompt);
    const moved = maxLogProbDiff(expected, without);
    const withAdapter = await runLlamaCpp(base, join(runDir, 'adapter.gguf'));
    const diff = maxLogProbDiff(withAdapter.logProbs, expected);
    console.log(`pipeline adapter.gguf on bf16 base: max |Δ log p| = ${diff.toExponential(2)}; training moved log p by ${moved.toExponential(2)}`);
    expect(moved).toBeGreaterThan(5 * TOLERANCE.bf16);
    expect(diff).toBeLessThan(TOLERANCE.bf16);
    expect(withAdapter.greedy).toEqual(await greedy(model, prompt, STEPS));
    // the merged model.gguf (f32) is that same model: llama.cpp on it agrees with rankwise with the adapter
    const merged = await runLlamaCpp(join(runDir, 'model.gguf'));
    expect(maxLogProbDiff(merged.logProbs, expected)).toBeLessThan(TOLERANCE.bf16);
    expect(merged.greedy).toEqual(withAdapter.greedy);
    model.dispose();
  });
});
