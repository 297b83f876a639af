import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { injectLora, loadTfjsModel, mergeAndUnload, saveTfjsModel } from '@rankwise/core';
import { loadDigits } from '@rankwise/datasets';
import { buildDigitsCnn } from '../../examples/digits-cnn/train-base.js';
import { chromiumAvailable, CHROMIUM, drawDigit, launch, openPage, predictInPage, ROTATED_ONE } from '../../examples/browser/drive.js';
import { servePage, type PageServer } from '../../examples/browser/serve.js';
import { saveToTemp } from '../helpers/tfjs-models.js';
import { maxAbsDiff } from '../helpers/numeric.js';

// CI installs chromium (.ci/run) and sets this, so a missing browser fails instead of skipping.
if (!chromiumAvailable() && process.env.RANKWISE_REQUIRE_CHROMIUM === '1') throw new Error(`RANKWISE_REQUIRE_CHROMIUM=1 but ${CHROMIUM} is missing`);
if (!chromiumAvailable()) console.warn(`[browser test] skipping: ${CHROMIUM} not found (apt-get install -y chromium)`);

let server: PageServer;
let browser: Browser;
let baseDir: string;
let adaptedDir: string;

/** What Node's tfjs predicts with the exported folder, read from disk exactly as the browser fetches it. */
async function nodePredict(dir: string, images: Float32Array, n: number): Promise<Float32Array> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  const shards = await Promise.all(json.weightsManifest[0].paths.map((p: string) => readFile(join(dir, p))));
  const data = Buffer.concat(shards);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    }),
  );
  const out = tf.tidy(() => model.predict(tf.tensor4d(images, [n, 28, 28, 1])) as tf.Tensor);
  const values = Float32Array.from(await out.data());
  out.dispose();
  model.dispose();
  return values;
}

describe.skipIf(!chromiumAvailable())('the browser page (Debian chromium, headless, through puppeteer-core)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    // A digits CNN as the example builds it (untrained: the comparison is about numbers, not accuracy) …
    const cnn = buildDigitsCnn(3, [4, 8]);
    baseDir = await saveToTemp(cnn, 'browser-base');
    cnn.dispose();
    // … and rankwise's export of it with LoRA on every Conv2D and Dense layer, B non-zero, merged.
    const model = await loadTfjsModel(baseDir);
    const layers = injectLora(
      model,
      ['conv1', 'conv2', 'dense'].map((path) => ({ path, r: 2, alpha: 4 })),
      5,
    );
    layers.forEach((l, i) => tf.tidy(() => l.loraB.assign(tf.randomNormal(l.loraB.shape, 0, 0.3, 'float32', 40 + i))));
    mergeAndUnload(model);
    adaptedDir = join(await mkdtemp(join(tmpdir(), 'rankwise-browser-')), 'adapted');
    await saveTfjsModel(model, adaptedDir);
    model.dispose();
    server = await servePage({ base: baseDir, adapted: adaptedDir });
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('serves the page, tf.min.js from node_modules and both models on 127.0.0.1', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const bundle = await fetch(`${server.url}tf.min.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(500_000);
    expect((await fetch(`${server.url}models/adapted/model.json`)).status).toBe(200);
    expect((await fetch(`${server.url}models/adapted/..%2f..%2f..%2fetc%2fpasswd`)).status).toBe(404); // no way out of a model folder
  });

  test('tf.loadLayersModel in the browser predicts what Node predicts on fixed digits (≤ 1e-5)', async () => {
    const { page, backend } = await openPage(browser, `${server.url}?backend=cpu`);
    expect(backend).toBe('cpu');
    const digits = await loadDigits({ split: 'test', seed: 0, transform: 'rotate90', limit: 6 });
    const images = Array.from({ length: digits.n }, (_, i) => Array.from(digits.x.subarray(i * 784, (i + 1) * 784)));
    const inBrowser = await predictInPage(page, images);
    const base = await nodePredict(baseDir, digits.x, digits.n);
    const adapted = await nodePredict(adaptedDir, digits.x, digits.n);
    expect(inBrowser.base.flat()).toHaveLength(60);
    expect(maxAbsDiff(Float32Array.from(inBrowser.base.flat()), base)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(Float32Array.from(inBrowser.adapted.flat()), adapted)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(base, adapted)).toBeGreaterThan(1e-3); // the adapter changed the model
    await page.close();
  });

  test('a digit drawn with the mouse is classified by both models side by side; screenshot', async () => {
    const { page } = await openPage(browser, server.url);
    const shown = await drawDigit(page, ROTATED_ONE);
    expect(shown.ink).toBeGreaterThan(20); // the stroke reached the 28×28 input
    expect(shown.base).toMatch(/^\d {2}\d+\.\d %$/);
    expect(shown.adapted).toMatch(/^\d {2}\d+\.\d %$/);
    const file = join(await mkdtemp(join(tmpdir(), 'rankwise-shot-')), 'page.png');
    await page.screenshot({ path: file });
    expect((await stat(file)).size).toBeGreaterThan(5_000);
    await page.close();
  });
});
