import { describe, expect, test } from 'vitest';
import { createRankwise, type JsonObject, type Pipeline, type Site } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import largest from '../fixtures/packages/rankwise-placement-largest/index.js';

const site = (path: string, inFeatures: number, outFeatures: number): Site => ({ path, inFeatures, outFeatures, layer: null, role: 'linear', adapted: false });

const pipeline = (options: JsonObject): Pipeline => ({
  name: 'try-largest',
  stages: [
    { stage: 'load', architecture: 'mlp', config: { sizes: [784, 32, 16, 10] } },
    { stage: 'freeze' },
    { stage: 'inject', r: 4, placement: { plugin: 'rankwise-placement-largest', options } },
  ],
});

describe('rankwise-placement-largest', () => {
  test('select picks the k sites with the most weights', () => {
    const sites = [site('a', 4, 4), site('b', 16, 8), site('c', 8, 8)];
    expect(largest.select(sites, { k: 2 })).toEqual([{ path: 'b' }, { path: 'c' }]);
    expect(largest.select(sites, { k: 1, r: 2 })).toEqual([{ path: 'b', r: 2 }]);
  });

  test('rankwise validates its options before select runs, with JSON pointers', async () => {
    const rankwise = createRankwise({ plugins: [largest], progress: new SilentProgress() });
    await expect(rankwise.validate(pipeline({ k: 2 }))).resolves.toBeDefined();
    await expect(rankwise.validate(pipeline({ k: 0 }))).rejects.toThrow('/stages/2/placement/options/k: found 0, allowed: >= 1');
    await expect(rankwise.validate(pipeline({ k: 9 }))).rejects.toThrow('/stages/2/placement/options/k: k is 9 but the model has only 3 sites');
  });
});
