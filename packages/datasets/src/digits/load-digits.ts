/**
 * MNIST digits (10,000 images from the `mnist` package) with a seeded, stratified train/test split
 * and optional task-shift transforms.
 */
import type { ClassificationData } from '../classification.js';
import { ceilFraction } from '../ceil-fraction.js';
import { SplitMix32, deriveSeed } from '../random.js';
import { requireFraction, requireInteger, requireOneOf, requireSeed } from '../validate.js';
import { DIGIT_CLASSES, DIGIT_PIXELS, DIGIT_SIDE, loadDigitClasses, type DigitClassImages } from './mnist-files.js';
import { DIGIT_TRANSFORMS, transformImages, type DigitTransform } from './transforms.js';
import { stratifiedQuotas } from './stratified-quotas.js';

export interface DigitsOptions {
  split: 'train' | 'test';
  /** Seeds the split and the order of the examples (nothing else). */
  seed: number;
  /** Default 0.2. Stratified: per class, shuffled with the seed, the last ⌈fraction·n⌉ go to test. */
  testFraction?: number;
  /** Default 'none'. */
  transform?: DigitTransform;
  /**
   * Keep only the first `limit` examples of the split's seeded shuffled order, stratified (each class
   * gets its share of `limit`, largest remainders first). A limit ≥ the split's size keeps everything.
   */
  limit?: number;
}

const SPLITS = ['train', 'test'] as const;

/** Indices (into the class's images) of one class's examples that belong to `split`. */
function classSplit(images: DigitClassImages, split: 'train' | 'test', seed: number, testFraction: number): Int32Array {
  const order = new SplitMix32(deriveSeed(seed, `digits/split/class-${images.digit}`)).permutation(images.count);
  const testCount = ceilFraction(testFraction, images.count);
  if (testCount >= images.count) {
    throw new RangeError(`testFraction ${testFraction} puts all ${images.count} images of digit ${images.digit} in test; use a smaller fraction`);
  }
  const trainCount = images.count - testCount;
  return split === 'train' ? order.subarray(0, trainCount) : order.subarray(trainCount);
}

/**
 * Loads one side of the split. Examples come in a seeded shuffled order (from `seed`); the same
 * options always give the same arrays. Pixels are in [0, 1] (also after every transform).
 */
export async function loadDigits(options: DigitsOptions): Promise<ClassificationData> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('loadDigits needs an options object { split, seed, testFraction?, transform?, limit? }');
  }
  const split = requireOneOf('split', options.split, SPLITS);
  const seed = requireSeed('seed', options.seed);
  const testFraction = requireFraction('testFraction', options.testFraction ?? 0.2);
  const transform = requireOneOf('transform', options.transform ?? 'none', DIGIT_TRANSFORMS);
  const limit = options.limit === undefined ? undefined : requireInteger('limit', options.limit, 1);

  const classes = await loadDigitClasses();
  const perClass = classes.map((images) => classSplit(images, split, seed, testFraction));
  const total = perClass.reduce((sum, indices) => sum + indices.length, 0);

  // The split's examples as (class, index) pairs, in a seeded shuffled order.
  const exampleClass = new Int32Array(total);
  const exampleIndex = new Int32Array(total);
  let k = 0;
  perClass.forEach((indices, digit) => {
    for (const index of indices) {
      exampleClass[k] = digit;
      exampleIndex[k] = index;
      k++;
    }
  });
  const order = new SplitMix32(deriveSeed(seed, `digits/order/${split}`)).permutation(total);

  let chosen: Int32Array = order;
  if (limit !== undefined && limit < total) {
    const quotas = stratifiedQuotas(
      perClass.map((indices) => indices.length),
      limit,
    );
    chosen = new Int32Array(limit);
    let m = 0;
    for (const e of order) {
      if (quotas[exampleClass[e]] > 0) {
        quotas[exampleClass[e]]--;
        chosen[m++] = e;
      }
    }
  }

  const n = chosen.length;
  const gathered = new Float32Array(n * DIGIT_PIXELS);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const e = chosen[i];
    const { pixels } = classes[exampleClass[e]];
    const start = exampleIndex[e] * DIGIT_PIXELS;
    gathered.set(pixels.subarray(start, start + DIGIT_PIXELS), i * DIGIT_PIXELS);
    y[i] = exampleClass[e];
  }
  const x = transform === 'none' ? gathered : transformImages(gathered, DIGIT_SIDE, transform);
  return { name: `digits/${split}/${transform}`, x, y, n, features: DIGIT_PIXELS, classes: DIGIT_CLASSES };
}
