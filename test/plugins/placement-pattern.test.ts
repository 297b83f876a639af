import { describe, expect, test } from 'vitest';
import type { Site } from '@rankwise/core';
import pattern from '@rankwise/placement-pattern';

const site = (path: string, layer: number | null, role: string): Site => ({ path, inFeatures: 8, outFeatures: 8, layer, role, adapted: false });
/** A GPT-like site list: two blocks with attention and MLP sites, and a head. */
const sites: Site[] = [0, 1]
  .flatMap((l) => [
    site(`blocks.${l}.attn.q`, l, 'attn.q'),
    site(`blocks.${l}.attn.k`, l, 'attn.k'),
    site(`blocks.${l}.attn.v`, l, 'attn.v'),
    site(`blocks.${l}.attn.o`, l, 'attn.o'),
    site(`blocks.${l}.mlp.fc`, l, 'mlp.fc'),
    site(`blocks.${l}.mlp.proj`, l, 'mlp.proj'),
  ])
  .concat([site('head', null, 'head')]);

const paths = (options: Parameters<typeof pattern.select>[1]) => pattern.select(sites, options).map((c) => c.path);

describe('@rankwise/placement-pattern (PEFT semantics)', () => {
  test('plain name: exact path or a path ending in .<name>', () => {
    expect(paths({ target: 'head' })).toEqual(['head']);
    expect(paths({ target: ['q', 'v'] })).toEqual(['blocks.0.attn.q', 'blocks.0.attn.v', 'blocks.1.attn.q', 'blocks.1.attn.v']);
    expect(paths({ target: 'blocks.1.attn.q' })).toEqual(['blocks.1.attn.q']);
    expect(paths({ target: 'attn' })).toEqual([]); // a module that is not a site matches nothing
  });

  test('.suffix, glob and /regex/ (full match)', () => {
    expect(paths({ target: '.proj' })).toEqual(['blocks.0.mlp.proj', 'blocks.1.mlp.proj']);
    expect(paths({ target: 'blocks.*.attn.?' })).toHaveLength(8);
    expect(paths({ target: 'blocks.1.**' })).toHaveLength(6);
    expect(paths({ target: 'blocks.*.mlp' })).toEqual([]); // * stays within one segment
    expect(paths({ target: '/blocks\\.0\\.attn\\.[qk]/' })).toEqual(['blocks.0.attn.q', 'blocks.0.attn.k']);
    expect(paths({ target: '/attn\\.q/' })).toEqual([]); // full match, not search
  });

  test('all-linear skips the output head; exclude and layers filter', () => {
    expect(paths({ target: 'all-linear' })).toHaveLength(12);
    expect(paths({ target: 'all-linear', exclude: ['.fc', '.proj'] })).toHaveLength(8);
    expect(paths({ target: 'all-linear', layers: [1], exclude: '/.*mlp.*/' })).toEqual([
      'blocks.1.attn.q',
      'blocks.1.attn.k',
      'blocks.1.attn.v',
      'blocks.1.attn.o',
    ]);
  });

  test('rankPattern / alphaPattern: first matching key wins', () => {
    const chosen = pattern.select(sites, { target: ['q', 'v'], layers: [0], rankPattern: { '.v': 16, 'blocks.*.attn.*': 2 }, alphaPattern: { q: 4 } });
    expect(chosen).toEqual([
      { path: 'blocks.0.attn.q', r: 2, alpha: 4 },
      { path: 'blocks.0.attn.v', r: 16 },
    ]);
  });

  test('errors carry a pointer into the options', () => {
    expect(() => pattern.select(sites, { target: 'q', layers: [3] })).toThrow("layer 3 does not exist; the model's layers are 0, 1");
    expect(() => pattern.select(sites, { target: '/[/' })).toThrow('invalid pattern "/[/"');
    const thrown = (() => {
      try {
        pattern.select(sites, { target: ['q', '/(/'] });
      } catch (error) {
        return error as { pointer: string };
      }
      return null;
    })();
    expect(thrown?.pointer).toBe('/target/1');
  });

  test('an invalid rankPattern key is reported at its escaped JSON pointer', () => {
    const thrown = (() => {
      try {
        pattern.select(sites, { target: 'q', rankPattern: { '/(/': 4 } });
      } catch (error) {
        return error as { pointer: string; message: string };
      }
      return null;
    })();
    expect(thrown?.message).toContain('invalid pattern "/(/"');
    expect(thrown?.pointer).toBe('/rankPattern/~1(~1');
  });
});
