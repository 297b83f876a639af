/**
 * Compile-time checks of the stage types (`test/types/stage-types.test.ts` runs tsc on this file): every
 * `@ts-expect-error` below must be an error, and everything else must compile.
 */
import {
  type BUILTIN_STAGES,
  createRankwise,
  defineStage,
  STAGE_NAMES,
  type Pipeline,
  type StageName,
  type StageResult,
  type StageResults,
} from '@rankwise/core';
import { defineStage as defineViewStage } from '@rankwise/core/plugin';
import type { GridSpec } from '@rankwise/grid';

// A stage package declares its options and result types once, by declaration merging.
declare module '@rankwise/core/plugin' {
  interface StagePackages {
    'rankwise-stage-norms': { options: { top: number; relative?: boolean }; result: { norms: number[] } };
  }
}

export const norms = defineStage<{ top: number; relative?: boolean }, { norms: number[] }>({
  name: 'rankwise-stage-norms',
  description: 'the norms of the adapted sites',
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['top'],
    properties: { top: { type: 'integer', minimum: 1, description: 'How many.' }, relative: { type: 'boolean', description: 'Relative.' } },
  },
  requires: ['model'],
  provides: [],
  run: (options) => ({ norms: Array.from({ length: options.top }, () => 0) }),
});

// Pipelines built in code accept declared packages and check their options.
export const good: Pipeline = {
  name: 'typed',
  stages: [
    { stage: 'load', architecture: 'mlp', config: { sizes: [784, 8, 10] } },
    { stage: 'inject', r: 4, placement: { plugin: 'pattern', options: { target: 'all-linear' } } },
    { stage: 'rankwise-stage-norms', top: 3 },
  ],
};
export const badOption: Pipeline = {
  name: 'typed',
  // @ts-expect-error `top` is a number
  stages: [{ stage: 'rankwise-stage-norms', top: 'three' }],
};
export const badBuiltin: Pipeline = {
  name: 'typed',
  // @ts-expect-error `r` is a number
  stages: [{ stage: 'inject', r: 'four', placement: { plugin: 'pattern' } }],
};

export async function session(): Promise<void> {
  const s = createRankwise().session();
  const loaded = await s.stage({ stage: 'load', architecture: 'mlp', config: { sizes: [784, 8, 10] } });
  const params: number = loaded.totalParams;
  // @ts-expect-error a built-in stage's options are checked: `r` is a number
  await s.stage({ stage: 'inject', r: 'four', placement: { plugin: 'pattern' } });
  const injected = await s.stage({ stage: 'inject', r: 4, placement: { plugin: 'pattern', options: { target: 'all-linear' } } });
  const sites: number = injected.sites.length;
  // a declared package: options checked, result typed
  const result = await s.stage({ stage: 'rankwise-stage-norms', top: 2 });
  const first: number | undefined = result.norms[0];
  // @ts-expect-error a declared package's options are checked
  await s.stage({ stage: 'rankwise-stage-norms', top: 'two' });
  // an undeclared package (a scoped or hyphenated name): any options, result unknown
  const other = await s.stage({ stage: '@acme/report', anything: [1, 2] });
  const unknownResult: StageResult<{ stage: '@acme/report' }> = other;
  // @ts-expect-error an unknown result cannot be used as a number without a check
  const n: number = other;
  // @ts-expect-error a name that is neither built in nor a package name
  await s.stage({ stage: 'trian', steps: 3 });
  void [params, sites, first, unknownResult, n];
}

// A stage written against @rankwise/core/plugin (its context's model is a structural view) registers like any other.
export const viewStage = defineViewStage<{ factor: number }, { scaled: number }>({
  name: 'rankwise-stage-scale',
  description: 'counts parameter tensors, times a factor',
  options: { type: 'object', required: ['factor'], properties: { factor: { type: 'number', description: 'The factor.' } } },
  requires: ['model'],
  provides: [],
  run: (options, ctx) => ({ scaled: ctx.model.require(ctx.name).parameters().length * options.factor }),
});
export const withViewStage = createRankwise({ stages: [viewStage, norms] });

// The names, stage object types and results come from the registry (BUILTIN_STAGES): nothing lists them by hand.
type RegistryNames = (typeof BUILTIN_STAGES)[number]['name'];
export const sameNames: [StageName] extends [RegistryNames] ? ([RegistryNames] extends [StageName] ? true : false) : false = true;
export const names: readonly StageName[] = STAGE_NAMES;
// @ts-expect-error not a built-in stage name
export const notAName: StageName = 'trian';
export const mergeResult: StageResults['merge'] = { merged: 2 };
// @ts-expect-error a stage's result type is its definition's: merge returns { merged }
export const badResult: StageResults['merge'] = { frozen: 2 };

// `grid` belongs to @rankwise/grid, which adds it to Pipeline (PipelineSections); its options are checked.
export const gridPipeline: Pipeline = { ...good, grid: { rank: [1, 4], placement: [{ label: 'all', plugin: 'pattern' }] } satisfies GridSpec };
export const badGrid: Pipeline = {
  ...good,
  // @ts-expect-error grid ranks are numbers
  grid: { rank: ['four'], placement: [{ label: 'all', plugin: 'pattern' }] },
};
