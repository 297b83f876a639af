import { definePlacementPlugin, escapePointer, PlacementError, type PlacementChoice, type Site } from '@rankwise/core/plugin';
import { compilePattern, type Matcher } from './matcher.js';

export interface PatternOptions {
  /** `"all-linear"` (every Linear but the output head), one pattern, or a list (a site matching any is chosen). */
  target: string | string[];
  /** Patterns of sites never to adapt. */
  exclude?: string | string[];
  /** Only sites whose layer index is listed (PEFT's layers_to_transform). */
  layers?: number[];
  /** Per-pattern rank overrides; the first matching key wins (PEFT's rank_pattern). */
  rankPattern?: Record<string, number>;
  /** Per-pattern alpha overrides; the first matching key wins (PEFT's alpha_pattern). */
  alphaPattern?: Record<string, number>;
}

const patternList = {
  oneOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  ],
  'x-allowed': 'a pattern (name, .suffix, glob, /regex/) or a non-empty list of patterns',
};

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const listPointer = (value: string | string[] | undefined, base: string, i: number): string => (Array.isArray(value) ? `${base}/${i}` : base);

function compileAll(value: string | string[] | undefined, base: string): Matcher[] {
  return list(value).map((p, i) => compilePattern(p, listPointer(value, base, i)));
}

/** A rankPattern / alphaPattern entry, compiled once; `pointer` locates it in the options. */
interface PatternOverride {
  key: string;
  pointer: string;
  value: number;
  matches: Matcher;
}

function compileOverrides(patterns: Record<string, number> | undefined, base: string): PatternOverride[] {
  return Object.entries(patterns ?? {}).map(([key, value]) => {
    const pointer = `${base}/${escapePointer(key)}`;
    return { key, pointer, value, matches: compilePattern(key, pointer) };
  });
}

/** PEFT's rule: the first matching key wins. */
const firstMatch = (overrides: readonly PatternOverride[], path: string): number | undefined => overrides.find((o) => o.matches(path))?.value;

export default definePlacementPlugin<PatternOptions>({
  name: '@rankwise/placement-pattern',
  description: 'choose sites by name: exact, .suffix, glob, /regex/, "all-linear"; exclude; layers; rank/alpha patterns',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['target'],
    properties: {
      target: {
        ...patternList,
        description: '"all-linear" (every Linear but the output head), a pattern, or a list of patterns (a site matching any is chosen).',
      },
      exclude: { ...patternList, description: 'Patterns of sites never to adapt.' },
      layers: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'integer', minimum: 0 },
        description: "Only sites whose layer index is listed (PEFT's layers_to_transform).",
      },
      rankPattern: {
        type: 'object',
        additionalProperties: { type: 'integer', minimum: 1, maximum: 4096 },
        description: "Per-pattern rank overrides; the first matching key wins (PEFT's rank_pattern).",
      },
      alphaPattern: {
        type: 'object',
        additionalProperties: { type: 'number', exclusiveMinimum: 0 },
        description: "Per-pattern alpha overrides; the first matching key wins (PEFT's alpha_pattern).",
      },
    },
  },
  select(sites: readonly Site[], options: PatternOptions): PlacementChoice[] {
    const allLinear = options.target === 'all-linear';
    const targets = allLinear ? [] : compileAll(options.target, '/target');
    const excludes = compileAll(options.exclude, '/exclude');
    if (options.layers) {
      const known = [...new Set(sites.map((s) => s.layer).filter((l): l is number => l !== null))].sort((a, b) => a - b);
      options.layers.forEach((layer, i) => {
        if (!known.includes(layer)) {
          throw new PlacementError(`layer ${layer} does not exist; the model's layers are ${known.join(', ')}`, `/layers/${i}`);
        }
      });
    }
    const chosen = sites.filter((site) => {
      const targeted = allLinear ? site.role !== 'head' : targets.some((m) => m(site.path));
      const inLayers = options.layers === undefined || (site.layer !== null && options.layers.includes(site.layer));
      return targeted && inLayers && !excludes.some((m) => m(site.path));
    });
    const ranks = compileOverrides(options.rankPattern, '/rankPattern');
    const alphas = compileOverrides(options.alphaPattern, '/alphaPattern');
    for (const [key, overrides] of [
      ['rankPattern', ranks],
      ['alphaPattern', alphas],
    ] as const) {
      for (const o of overrides) {
        if (!chosen.some((s) => o.matches(s.path))) {
          throw new PlacementError(
            `${key} key ${JSON.stringify(o.key)} matches none of the chosen sites (${chosen.map((s) => s.path).join(', ') || 'none'})`,
            o.pointer,
          );
        }
      }
    }
    return chosen.map((site) => {
      const r = firstMatch(ranks, site.path);
      const alpha = firstMatch(alphas, site.path);
      return { path: site.path, ...(r === undefined ? {} : { r }), ...(alpha === undefined ? {} : { alpha }) };
    });
  },
});
