/**
 * Several adapters on one base, at SmolLM2-135M's size (the W4 Llama, random weights): what an extra adapter costs
 * and what switching and combining take. Three rank-16 all-linear adapters (random factors) on one base; measured:
 * - the bytes each adapter adds (its A, B) against the base's, and resident memory (RSS) with 1 and 3 adapters;
 * - setAdapter: the time to switch the active adapter (flags only: nothing is copied or reloaded);
 * - a forward of 1 × 256 tokens with the adapters disabled, one active, two active (their outputs summed);
 * - addWeightedAdapter on all 210 sites for linear, cat, svd (low-rank path), ties and dare_ties (density 0.5).
 * Writes bench/results/<date>-adapters.json.
 *
 *   pnpm bench:adapters               # W4_LAYERS=2 for a smoke run
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { addWeightedAdapter, describeBackend, injectLora, Llama, listSites, resolveBackend, setAdapter } from '@rankwise/core';
import { disableAdapters, enableAdapters, loraLayers, type CombinationType } from '@rankwise/lora';
import { LLAMA_W4_CONFIG } from './workloads.js';

const NAMES = ['sql', 'chat', 'code'];
const RANK = 16;

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const loadStart = loadavg();
  const backend = await resolveBackend('auto');
  tf.enableProdMode();
  console.log(describeBackend(backend));
  const model = new Llama(LLAMA_W4_CONFIG, 1);
  const baseBytes = model.parameters().reduce((n, p) => n + p.size * 4, 0);
  const sites = listSites(model).filter((s) => s.role !== 'head');
  const rssBase = rssMiB();
  const adapterBytes: number[] = [];
  const rssAfter: number[] = [];
  for (const [i, name] of NAMES.entries()) {
    const before = model.parameters().reduce((n, p) => n + p.size * 4, 0);
    injectLora(
      model,
      sites.map((s) => ({ path: s.path, r: RANK, alpha: 2 * RANK })),
      10 + i,
      name,
    );
    for (const [, layer] of loraLayers(model)) {
      const adapter = layer.adapter(name)!;
      tf.tidy(() => adapter.b.assign(tf.randomNormal(adapter.b.shape, 0, 0.02, 'float32', 20 + i)));
    }
    adapterBytes.push(model.parameters().reduce((n, p) => n + p.size * 4, 0) - before);
    rssAfter.push(rssMiB());
  }
  const ids = tf.tensor2d(
    Array.from({ length: 256 }, (_, i) => (i * 7919) % LLAMA_W4_CONFIG.vocab_size),
    [1, 256],
    'int32',
  );
  const forward = async (): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = process.hrtime.bigint();
      const out = model.forward(ids);
      await out.data();
      out.dispose();
      times.push(ms(start));
    }
    return median(times);
  };
  model.eval();
  await forward(); // warm-up
  disableAdapters(model);
  const forwardDisabled = await forward();
  enableAdapters(model);
  setAdapter(model, 'sql');
  const forwardOne = await forward();
  setAdapter(model, ['sql', 'chat']);
  const forwardTwo = await forward();
  const switches: number[] = [];
  for (let i = 0; i < 20; i++) {
    const start = process.hrtime.bigint();
    setAdapter(model, NAMES[i % NAMES.length]);
    switches.push(ms(start));
  }
  const combine: Record<string, number> = {};
  const cases: Array<[CombinationType, number | undefined]> = [
    ['linear', undefined],
    ['cat', undefined],
    ['svd', undefined],
    ['ties', 0.5],
    ['dare_ties', 0.5],
  ];
  for (const [combination, density] of cases) {
    const start = process.hrtime.bigint();
    await addWeightedAdapter(model, `mix-${combination.replace('_', '-')}`, { adapters: ['sql', 'chat'], weights: [0.6, 0.4], combination, density });
    combine[combination] = ms(start);
    console.log(`combine ${combination}: ${(combine[combination] / 1000).toFixed(2)} s`);
  }
  const result = {
    date: new Date().toISOString(),
    backend: describeBackend(backend),
    loadAverage: { start: loadStart, end: loadavg() },
    model: `W4 Llama (SmolLM2-135M shape), ${LLAMA_W4_CONFIG.num_hidden_layers} layers, random weights`,
    adapters: `${NAMES.length} × rank ${RANK} on ${sites.length} sites (all-linear)`,
    baseMiB: baseBytes / 2 ** 20,
    adapterMiB: adapterBytes.map((b) => b / 2 ** 20),
    rssMiB: { base: rssBase, withAdapters: rssAfter },
    setAdapterMs: { median: median(switches), max: Math.max(...switches) },
    forward1x256Ms: { disabled: forwardDisabled, oneActive: forwardOne, twoActive: forwardTwo },
    combineSeconds: Object.fromEntries(Object.entries(combine).map(([k, v]) => [k, v / 1000])),
  };
  console.log(JSON.stringify(result, null, 2));
  const dir = 'bench/results';
  await mkdir(dir, { recursive: true });
  const file = join(
    dir,
    `${result.date.slice(0, 10)}-adapters${LLAMA_W4_CONFIG.num_hidden_layers === 30 ? '' : `-layers${LLAMA_W4_CONFIG.num_hidden_layers}`}.json`,
  );
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${file}`);
  ids.dispose();
  model.dispose();
}

await main();
