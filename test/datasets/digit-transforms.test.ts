import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { DIGIT_TRANSFORMS, SplitMix32, pixelPermutation, transformImages, type DigitTransform } from '@rankwise/datasets';
import { sameArray } from './same-array.js';
import { scanNumberArray } from '../../packages/datasets/src/digits/parse-number-array.js';

/**
 * 1 2 3
 * 4 5 6
 * 7 8 9
 */
const GRID = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
const apply = (t: DigitTransform, image: Float32Array = GRID, side = 3): number[] => Array.from(transformImages(image, side, t));

function randomImages(count: number, side: number, seed: number): Float32Array {
  const rng = new SplitMix32(seed);
  return Float32Array.from({ length: count * side * side }, () => rng.next());
}

describe('digit transforms', () => {
  test('the list of transforms', () => {
    expect(DIGIT_TRANSFORMS).toEqual(['none', 'rotate90', 'rotate180', 'rotate270', 'flip-horizontal', 'flip-vertical', 'invert', 'permute-pixels']);
  });

  test('on a known 3×3 image: rotate90 is counter-clockwise', () => {
    expect(apply('none')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(apply('rotate90')).toEqual([3, 6, 9, 2, 5, 8, 1, 4, 7]); // top-right corner (3) goes to the top-left
    expect(apply('rotate180')).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(apply('rotate270')).toEqual([7, 4, 1, 8, 5, 2, 9, 6, 3]);
    expect(apply('flip-horizontal')).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7]);
    expect(apply('flip-vertical')).toEqual([7, 8, 9, 4, 5, 6, 1, 2, 3]);
    const tenths = GRID.map((v) => v / 10);
    expect(apply('invert', tenths).map((v) => Math.round(v * 10))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  test('rotate90 moves a single pixel (r, c) of a 28×28 image to (27 - c, r)', () => {
    for (const [r, c] of [
      [0, 0],
      [0, 27],
      [3, 10],
      [27, 5],
      [13, 14],
    ]) {
      const image = new Float32Array(784);
      image[r * 28 + c] = 1;
      const out = transformImages(image, 28, 'rotate90');
      expect(out.indexOf(1)).toBe((27 - c) * 28 + r);
      expect(out.reduce((a, b) => a + b, 0)).toBe(1);
    }
  });

  test('rotate90 four times is the identity; compositions agree', () => {
    const images = randomImages(3, 28, 11);
    let x = images;
    for (let k = 0; k < 4; k++) x = transformImages(x, 28, 'rotate90');
    expect(sameArray(x, images)).toBe(true);
    const twice = transformImages(transformImages(images, 28, 'rotate90'), 28, 'rotate90');
    expect(sameArray(twice, transformImages(images, 28, 'rotate180'))).toBe(true);
    expect(sameArray(transformImages(transformImages(images, 28, 'rotate90'), 28, 'rotate270'), images)).toBe(true);
    expect(sameArray(transformImages(transformImages(images, 28, 'flip-horizontal'), 28, 'flip-horizontal'), images)).toBe(true);
    expect(sameArray(transformImages(transformImages(images, 28, 'flip-vertical'), 28, 'flip-horizontal'), transformImages(images, 28, 'rotate180'))).toBe(
      true,
    );
  });

  test('permute-pixels is a fixed permutation (splitmix32, seed 0)', () => {
    const perm = pixelPermutation(784);
    expect(new Set(perm).size).toBe(784);
    expect(Math.min(...perm)).toBe(0);
    expect(Math.max(...perm)).toBe(783);
    expect(sameArray(perm, new SplitMix32(0).permutation(784))).toBe(true);
    expect(Array.from(perm.subarray(0, 6))).toEqual([129, 590, 415, 502, 640, 776]);
    expect(perm.filter((v, i) => v === i).length).toBe(0); // no pixel stays in place
    const images = randomImages(2, 28, 5);
    const out = transformImages(images, 28, 'permute-pixels');
    let misplaced = 0;
    for (let i = 0; i < 784; i++) if (out[784 + i] !== images[784 + perm[i]]) misplaced++;
    expect(misplaced).toBe(0);
    expect(sameArray(out.slice().sort(), images.slice().sort())).toBe(true);
    expect(sameArray(transformImages(images, 28, 'permute-pixels'), out)).toBe(true);
  });

  test('does not modify its input and rejects bad arguments', () => {
    const copy = GRID.slice();
    transformImages(GRID, 3, 'rotate90');
    expect(GRID).toEqual(copy);
    expect(() => transformImages(GRID, 2, 'none')).toThrow(/9 values, not a multiple of side² = 4/);
    expect(() => transformImages(GRID, 3, 'spin' as DigitTransform)).toThrow(/transform must be one of/);
  });
});

describe('digit file reader', () => {
  test('the byte scanner equals JSON.parse on a real digit file and falls back on other syntax', () => {
    const dir = path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
    const bytes = readFileSync(path.join(dir, 'src', 'digits', '5.json'));
    const scanned = scanNumberArray(bytes);
    const parsed = Float32Array.from((JSON.parse(bytes.toString('utf8')) as { data: number[] }).data);
    expect(scanned).not.toBeNull();
    expect(scanned!.length).toBe(863 * 784);
    expect(sameArray(scanned!, parsed)).toBe(true);
    const text = '{ "data": [0, 0.2, 0.624, 1, 0.996, 12.5, 0.1234567890123] }';
    expect(Array.from(scanNumberArray(Buffer.from(text))!)).toEqual(Array.from(Float32Array.from(JSON.parse(text).data as number[])));
    for (const odd of ['{"data":[1e-5]}', '{"data":[-1]}', '{"data":[1,,2]}', '{"data":[1.]}', '{"data":[1', '{"data":[0.1234567890123456]}']) {
      expect(scanNumberArray(Buffer.from(odd))).toBeNull();
    }
  });
});
