import { describe, expect, test } from 'vitest';
import { ClassificationBatcher, describeDataset, type ClassificationData } from '@rankwise/datasets';

/** n examples with x = [i, 100 + i] and y = i mod 3. */
function tiny(n: number): ClassificationData {
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = 100 + i;
    y[i] = i % 3;
  }
  return { name: 'tiny', x, y, n, features: 2, classes: 3 };
}

describe('ClassificationBatcher', () => {
  test('each epoch visits every example once; the last batch wraps into the next epoch', () => {
    const batcher = new ClassificationBatcher(tiny(5), 1);
    const seen: number[] = [];
    const epochs: number[] = [];
    for (let k = 0; k < 5; k++) {
      const { x, y, n } = batcher.next(2);
      expect([n, x.length, y.length]).toEqual([2, 4, 2]);
      for (let i = 0; i < n; i++) {
        expect(x[2 * i + 1]).toBe(100 + x[2 * i]); // rows stay whole
        expect(y[i]).toBe(x[2 * i] % 3); // labels follow their rows
        seen.push(x[2 * i]);
      }
      epochs.push(batcher.epoch);
    }
    expect(epochs).toEqual([0, 0, 1, 1, 2]); // batch 3 holds example 5 of epoch 0 and example 1 of epoch 1
    expect([...seen.slice(0, 5)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect([...seen.slice(5, 10)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(seen.slice(0, 5)).not.toEqual(seen.slice(5, 10)); // reshuffled
  });

  test('the same seed gives the same batches; a batch larger than the data wraps', () => {
    const a = new ClassificationBatcher(tiny(7), 11);
    const b = new ClassificationBatcher(tiny(7), 11);
    for (let k = 0; k < 4; k++) expect(Array.from(a.next(3).y)).toEqual(Array.from(b.next(3).y));
    const big = new ClassificationBatcher(tiny(3), 0).next(7);
    expect(big.n).toBe(7);
    expect(new Set(big.x.filter((_, i) => i % 2 === 0)).size).toBe(3);
  });

  test('rejects bad batch sizes and inconsistent data', () => {
    expect(() => new ClassificationBatcher(tiny(3), 0).next(0)).toThrow('batch must be an integer ≥ 1; got 0');
    expect(() => new ClassificationBatcher({ ...tiny(3), n: 4 }, 0)).toThrow('data.x must be a Float32Array of n·features = 8 values; got Float32Array of 6 values');
    expect(() => new ClassificationBatcher({ ...tiny(3), classes: 2 }, 0)).toThrow('data.y[2] = 2 is outside [0, 2)');
    expect(() => new ClassificationBatcher(tiny(3), 0.5)).toThrow('seed must be a safe integer; got 0.5');
  });

  test('describeDataset summarizes classification data', () => {
    expect(describeDataset(tiny(5))).toBe('tiny: 5 examples × 2 features, 3 classes [0:2 1:2 2:1]');
  });
});
