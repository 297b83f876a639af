import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { freeze, Gpt, injectLora, listSites, loadCheckpoint, Rng, saveCheckpoint, type GptConfig } from '@rankwise/core';
import { sampleText, sparseSoftmaxCrossEntropy } from '@rankwise/core/training';
import { loraLayers, mergeAdapters } from '@rankwise/lora';
import { CausalSelfAttention, describeGpt } from '@rankwise/models';
import attention from '@rankwise/placement-attention';
import { useTestBackend } from '../helpers/backend.js';
import { checkGradients } from '../helpers/finite-difference.js';
import { maxAbsDiff, normRelativeError, seededTensor, take, values } from '../helpers/numeric.js';

beforeAll(async () => {
  await useTestBackend();
});

const tiny: Partial<GptConfig> = { vocabSize: 13, dim: 16, layers: 2, heads: 2, context: 8 };

function ids(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
}

describe('GPT', () => {
  test('sites carry layer and role; a tied head is not a site; describe (no tensors) lists the same sites', () => {
    const untied = new Gpt(tiny, 1);
    const tied = new Gpt({ ...tiny, tiedHead: true }, 1);
    expect(describeGpt(tiny).sites).toEqual(listSites(untied));
    expect(describeGpt({ ...tiny, tiedHead: true }).sites).toEqual(listSites(tied));
    const roles = listSites(untied).map((s) => `${s.path}:${s.layer}:${s.role}`);
    expect(roles.slice(0, 6)).toEqual([
      'blocks.0.attn.q:0:attn.q',
      'blocks.0.attn.k:0:attn.k',
      'blocks.0.attn.v:0:attn.v',
      'blocks.0.attn.o:0:attn.o',
      'blocks.0.mlp.fc:0:mlp.fc',
      'blocks.0.mlp.proj:0:mlp.proj',
    ]);
    expect(roles.at(-1)).toBe('head:null:head');
    expect(listSites(tied).some((s) => s.role === 'head')).toBe(false);
    // tied: the head has no weight of its own (V·C fewer parameters)
    const count = (m: Gpt) => m.parameters().reduce((n, p) => n + p.size, 0);
    expect(count(untied) - count(tied)).toBe(13 * 16);
    untied.dispose();
    tied.dispose();
  });

  test('causality: changing tokens after t never changes the logits at positions ≤ t', async () => {
    const model = new Gpt(tiny, 2);
    const base = [3, 1, 4, 1, 5, 9, 2, 6];
    for (const t of [0, 3, 6]) {
      const changed = base.map((v, i) => (i > t ? (v + 7) % 13 : v));
      const a = await take(tf.tidy(() => model.forward(ids([base])).slice([0, 0, 0], [1, t + 1, 13])));
      const b = await take(tf.tidy(() => model.forward(ids([changed])).slice([0, 0, 0], [1, t + 1, 13])));
      expect(maxAbsDiff(a, b)).toBe(0); // masked weights are exactly 0, so later tokens contribute exactly nothing
      const after = await take(tf.tidy(() => model.forward(ids([changed])).slice([0, t + 1, 0], [1, 1, 13])));
      const before = await take(tf.tidy(() => model.forward(ids([base])).slice([0, t + 1, 0], [1, 1, 13])));
      expect(maxAbsDiff(after, before)).toBeGreaterThan(1e-4); // …while position t+1 does see its own change
    }
    model.dispose();
  });

  test('attention matches a naive per-position loop (float64 reference) to 1e-5', async () => {
    const [b, t, c, h] = [2, 5, 8, 2];
    const attn = new CausalSelfAttention(c, h, 0, 0, new Rng(4));
    const x = seededTensor([b, t, c], 9);
    const out = await take(attn.forward(x));
    const xv = await values(x);
    const w = async (name: string) => ({
      W: await values((attn.getSubmodule(name) as unknown as { weight: tf.Variable }).weight),
      bias: await values((attn.getSubmodule(name) as unknown as { bias: tf.Variable }).bias),
    });
    const [q, k, v, o] = await Promise.all(['q', 'k', 'v', 'o'].map(w));
    const linear = (row: Float64Array, p: { W: Float32Array; bias: Float32Array }) => {
      const y = new Float64Array(c);
      for (let j = 0; j < c; j++) {
        let s = p.bias[j];
        for (let i = 0; i < c; i++) s += row[i] * p.W[i * c + j];
        y[j] = s;
      }
      return y;
    };
    const hd = c / h;
    let worst = 0;
    let scale = 0;
    for (let bi = 0; bi < b; bi++) {
      const rows = Array.from({ length: t }, (_, ti) => Float64Array.from(xv.slice((bi * t + ti) * c, (bi * t + ti + 1) * c)));
      const Q = rows.map((r) => linear(r, q));
      const K = rows.map((r) => linear(r, k));
      const V = rows.map((r) => linear(r, v));
      for (let ti = 0; ti < t; ti++) {
        const merged = new Float64Array(c);
        for (let hi = 0; hi < h; hi++) {
          const scores = Array.from({ length: ti + 1 }, (_, tj) => {
            let s = 0;
            for (let d = 0; d < hd; d++) s += Q[ti][hi * hd + d] * K[tj][hi * hd + d];
            return s / Math.sqrt(hd);
          });
          const m = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - m));
          const z = e.reduce((a, bb) => a + bb, 0);
          for (let tj = 0; tj <= ti; tj++) for (let d = 0; d < hd; d++) merged[hi * hd + d] += (e[tj] / z) * V[tj][hi * hd + d];
        }
        const y = linear(merged, o);
        for (let j = 0; j < c; j++) {
          worst = Math.max(worst, Math.abs(y[j] - out[(bi * t + ti) * c + j]));
          scale = Math.max(scale, Math.abs(y[j]));
        }
      }
    }
    expect(worst / scale).toBeLessThan(1e-5);
    x.dispose();
    attn.dispose();
  });

  test.each([false, true])('merged vs unmerged logits agree to 1e-5 relative (tiedHead %s), no leaks', async (tiedHead) => {
    const model = new Gpt({ ...tiny, tiedHead }, 5);
    const chosen = attention.select(listSites(model), { matrices: ['q', 'k', 'v', 'o'], mlp: true, head: !tiedHead });
    const layers = injectLora(
      model,
      chosen.map((c) => ({ path: c.path, r: 4, alpha: 8 })),
      5,
    );
    for (const [i, layer] of layers.entries()) {
      const b = seededTensor(layer.loraB.shape, 50 + i, 0.3);
      layer.loraB.assign(b);
      b.dispose();
    }
    const input = ids([
      [1, 2, 3, 4, 5, 6, 7, 8],
      [8, 7, 6, 5, 4, 3, 2, 1],
    ]);
    const unmerged = await take(model.forward(input));
    const tensors = tf.memory().numTensors;
    mergeAdapters(model);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(normRelativeError(await take(model.forward(input)), unmerged)).toBeLessThan(1e-5);
    input.dispose();
    model.dispose();
  });

  test('gradients of LoRA entries on a tiny GPT match central finite differences (relative < 1e-2)', async () => {
    const model = new Gpt({ vocabSize: 7, dim: 8, layers: 1, heads: 2, context: 4 }, 6);
    freeze(model);
    const layers = injectLora(
      model,
      [
        { path: 'blocks.0.attn.q', r: 2, alpha: 2 },
        { path: 'blocks.0.attn.v', r: 2, alpha: 2 },
      ],
      6,
    );
    for (const [i, layer] of layers.entries()) {
      const b = seededTensor(layer.loraB.shape, 80 + i, 0.5);
      layer.loraB.assign(b);
      b.dispose();
    }
    const x = ids([
      [1, 2, 3, 4],
      [4, 3, 2, 1],
    ]);
    const y = ids([
      [2, 3, 4, 5],
      [3, 2, 1, 0],
    ]);
    const lossOf = () => sparseSoftmaxCrossEntropy(model.forward(x), y);
    const checks = await checkGradients(lossOf, model.trainableParameters(), (n) => [0, n - 1]);
    expect(checks).toHaveLength(8); // 2 sites × (A, B) × 2 entries
    for (const c of checks) expect(c.relativeError, `${c.name}[${c.index}]`).toBeLessThan(1e-2);
    expect(loraLayers(model)).toHaveLength(2);
    tf.dispose([x, y]);
    model.dispose();
  });

  test('saves and loads with the checkpoint format (vocabulary included), identical logits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-gpt-'));
    const model = new Gpt({ ...tiny, tiedHead: true }, 8);
    const input = ids([[0, 5, 12, 3]]);
    const expected = await take(model.forward(input));
    const vocabulary = { type: 'char', unknown: '<unk>', chars: 'abcdefghijkl'.split('') };
    await saveCheckpoint(model, dir, { extra: { vocabulary } });
    const { model: loaded, config } = await loadCheckpoint(dir);
    expect(config.extra.vocabulary).toEqual(vocabulary);
    expect(maxAbsDiff(await take(loaded.forward(input)), expected)).toBe(0);
    input.dispose();
    loaded.dispose();
    model.dispose();
  });
});

describe('sampling', () => {
  /** A vocabulary of 5 ids (0 = unknown, 'a'…'d') for a model whose vocabSize is 13. */
  const vocab = {
    size: 5,
    encode: (text: string) => Int32Array.from(text, (c) => Math.max(0, 'abcd'.indexOf(c) + 1)),
    decode: (ids: ArrayLike<number>) => Array.from(ids, (i) => (i === 0 ? '?' : 'abcd'[i - 1])).join(''),
    toJSON: () => ({}),
  };

  test('seeded, restricted to known ids, and top-k 1 is greedy', async () => {
    const model = new Gpt(tiny, 9);
    const options = { prompt: 'ab', length: 24, temperature: 1, seed: 4, context: 8 };
    const first = await sampleText(model, vocab, options);
    expect(await sampleText(model, vocab, options)).toBe(first);
    expect(first).toMatch(/^[abcd]{24}$/); // never id 0 (unknown) nor ids ≥ 5 the vocabulary does not have
    expect(await sampleText(model, vocab, { ...options, seed: 5 })).not.toBe(first);
    const greedy = await sampleText(model, vocab, { ...options, topK: 1, seed: 1 });
    expect(await sampleText(model, vocab, { ...options, topK: 1, seed: 2 })).toBe(greedy);
    model.dispose();
  });
});

describe('@rankwise/placement-attention', () => {
  const sites = describeGpt({ ...tiny, layers: 3 }).sites; // the same sites a built model lists, without tensors

  test('chooses by role and layer', () => {
    const paths = (o: Parameters<typeof attention.select>[1]) => attention.select(sites, o).map((c) => c.path);
    expect(paths({})).toEqual(['blocks.0.attn.q', 'blocks.0.attn.v', 'blocks.1.attn.q', 'blocks.1.attn.v', 'blocks.2.attn.q', 'blocks.2.attn.v']);
    expect(paths({ matrices: ['q', 'v'], mlp: false, layers: [0, 1] })).toEqual(['blocks.0.attn.q', 'blocks.0.attn.v', 'blocks.1.attn.q', 'blocks.1.attn.v']);
    expect(paths({ matrices: ['o'], mlp: ['fc'], layers: [2], head: true })).toEqual(['blocks.2.attn.o', 'blocks.2.mlp.fc', 'head']);
    expect(paths({ matrices: ['q', 'k', 'v', 'o'], mlp: true })).toHaveLength(18);
  });

  test('unknown roles and layers out of range are errors with pointers', () => {
    const error = (o: Parameters<typeof attention.select>[1]) => {
      try {
        attention.select(sites, o);
      } catch (e) {
        return `${(e as { pointer: string }).pointer}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(error({ matrices: ['q', 'x'] })).toBe('/matrices/1: unknown attention matrix "x"; allowed: q, k, v, o');
    expect(error({ mlp: ['up'] })).toBe('/mlp/0: unknown MLP matrix "up"; allowed: fc, proj');
    expect(error({ layers: [0, 3] })).toBe('/layers/1: layer 3 is out of range; the model has layers 0–2');
    const tiedSites = describeGpt({ ...tiny, tiedHead: true }).sites;
    expect(() => attention.select(tiedSites, { head: true })).toThrow('no separate head site (is the head tied to the embedding?)');
    const mlpSites = describeGpt(tiny).sites.filter((s) => !s.role.startsWith('attn'));
    expect(() => attention.select(mlpSites, {})).toThrow('the model has no "attn.q" sites; roles in this model: head, mlp.fc, mlp.proj');
  });
});
