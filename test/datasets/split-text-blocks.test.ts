import { describe, expect, test } from 'vitest';
import { CharVocab, loadText, splitTextBlocks } from '@rankwise/datasets';
import { sameArray } from './same-array.js';

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** The runs of consecutive values in `ids` as [first, length] pairs. */
function runs(ids: Int32Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < ids.length; i++) {
    if (i > 0 && ids[i] === ids[i - 1] + 1) out[out.length - 1][1]++;
    else out.push([ids[i], 1]);
  }
  return out;
}

describe('splitTextBlocks', () => {
  test('⌈fraction·blocks⌉ whole blocks go to validation, in order; the rest to train', () => {
    const ids = range(105); // 11 blocks of 10 (the last has 5)
    const split = splitTextBlocks(ids, { validationFraction: 0.2, blockSize: 10, seed: 1 });
    expect([split.trainBlocks, split.validationBlocks]).toEqual([8, 3]); // ⌈0.2·11⌉ = 3
    expect(split.train.length + split.validation.length).toBe(105);
    const starts = Array.from(split.validation.filter((v, i) => i % 10 === 0));
    for (const s of starts) expect(s % 10).toBe(0); // whole blocks
    expect([...split.validation]).toEqual([...split.validation].sort((a, b) => a - b)); // original order
    expect([...split.train]).toEqual([...split.train].sort((a, b) => a - b));
    const all = new Set([...split.train, ...split.validation]);
    expect(all.size).toBe(105); // disjoint and complete
    for (const [first, length] of runs(split.validation)) {
      expect(first % 10).toBe(0);
      expect(length % 10 === 0 || first + length === 105).toBe(true);
    }
  });

  test('deterministic for a seed, different for other seeds', () => {
    const ids = range(1000);
    const a = splitTextBlocks(ids, { validationFraction: 0.1, blockSize: 10, seed: 42 });
    const b = splitTextBlocks(ids, { validationFraction: 0.1, blockSize: 10, seed: 42 });
    expect(sameArray(a.validation, b.validation) && sameArray(a.train, b.train)).toBe(true);
    const chosen = (seed: number) => runs(splitTextBlocks(ids, { validationFraction: 0.1, blockSize: 10, seed }).validation).map(([f]) => f);
    expect(new Set([1, 2, 3, 4, 5].map((s) => chosen(s).join())).size).toBe(5);
  });

  test('default blockSize of 10,000 on Moby Dick: 122 blocks, 13 for validation at 10%', async () => {
    const book = await loadText({ corpus: 'moby-dick' });
    const ids = CharVocab.build(book.text).encode(book.text);
    const split = splitTextBlocks(ids, { validationFraction: 0.1, seed: 1 });
    expect([split.trainBlocks, split.validationBlocks]).toEqual([109, 13]);
    expect(split.validation.length).toBe(130_000); // the short last block (7,395) stayed in train
    expect(split.train.length).toBe(1_087_395);
  });

  test('never leaves a side empty; rejects bad options', () => {
    expect(() => splitTextBlocks(range(10), { validationFraction: 0.5, blockSize: 10, seed: 1 })).toThrow(
      'cannot split 10 tokens into train and validation with blockSize 10: that is 1 block(s), at least 2 are needed; use a blockSize below 10',
    );
    expect(() => splitTextBlocks(range(100), { validationFraction: 0.95, blockSize: 10, seed: 1 })).toThrow(
      /validationFraction 0.95 of 10 blocks puts all 10 in validation and leaves train empty/,
    );
    expect(splitTextBlocks(range(100), { validationFraction: 0.9, blockSize: 10, seed: 1 }).trainBlocks).toBe(1);
    expect(() => splitTextBlocks(range(100), { validationFraction: 0, seed: 1 })).toThrow(/open interval \(0, 1\); got 0/);
    expect(() => splitTextBlocks(range(100), { validationFraction: 1, seed: 1 })).toThrow(/got 1/);
    expect(() => splitTextBlocks(range(100), { validationFraction: 0.1, blockSize: 2.5, seed: 1 })).toThrow('blockSize must be an integer ≥ 1; got 2.5');
    expect(() => splitTextBlocks([1, 2, 3] as unknown as Int32Array, { validationFraction: 0.1, seed: 1 })).toThrow(
      'ids must be an Int32Array; got an array of length 3',
    );
  });
});
