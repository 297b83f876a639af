import { describe, expect, test } from 'vitest';
import { checkClassificationData, describeDataset, type ClassificationData } from '@rankwise/datasets';

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

describe('classification data', () => {
  test('checkClassificationData rejects inconsistent data', () => {
    expect(() => checkClassificationData(tiny(3))).not.toThrow();
    expect(() => checkClassificationData({ ...tiny(3), n: 0 })).toThrow('data.n must be an integer ≥ 1; got 0');
    expect(() => checkClassificationData({ ...tiny(3), features: 1.5 })).toThrow('data.features must be an integer ≥ 1; got 1.5');
    expect(() => checkClassificationData({ ...tiny(3), classes: Number.NaN })).toThrow('data.classes must be an integer ≥ 1; got NaN');
    expect(() => checkClassificationData({ ...tiny(3), n: 4 })).toThrow('data.x must be a Float32Array of n·features = 8 values; got Float32Array of 6 values');
    expect(() => checkClassificationData({ ...tiny(3), classes: 2 })).toThrow('data.y[2] = 2 is outside [0, 2)');
  });

  test('describeDataset summarizes classification data', () => {
    expect(describeDataset(tiny(5))).toBe('tiny: 5 examples × 2 features, 3 classes [0:2 1:2 2:1]');
  });
});
