import { expect, test } from 'vitest';
import { buildPipelineSchema, createRankwise, formatIssue, PipelineValidationError, type Pipeline } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { GridSchema, gridSection } from '@rankwise/grid';
import { createDatasetSource } from '@rankwise/datasets';
import pattern from '@rankwise/placement-pattern';

type Node = Record<string, unknown>;

const pipeline = (grid: unknown, evaluate = true): Pipeline => ({
  name: 'section',
  stages: [
    { stage: 'load', architecture: 'mlp', config: { sizes: [784, 6, 10] } },
    { stage: 'freeze' },
    { stage: 'inject', r: 2, placement: { plugin: 'pattern', options: { target: 'all-linear' } } },
    ...(evaluate ? [{ stage: 'evaluate' as const, data: { dataset: 'digits' as const, split: 'test' as const, limit: 50 } }] : []),
  ],
  grid: grid as Pipeline['grid'],
});

async function issues(sections: boolean, grid: unknown, evaluate = true): Promise<string[]> {
  const rw = createRankwise({
    progress: new SilentProgress(),
    datasets: createDatasetSource(),
    plugins: [pattern],
    ...(sections ? { sections: [gridSection] } : {}),
  });
  try {
    await rw.validate(pipeline(grid, evaluate));
    return [];
  } catch (error) {
    if (!(error instanceof PipelineValidationError)) throw error;
    return error.issues.map(formatIssue);
  }
}

test('core knows no grid: the grid package gives its key, schema and check as a section', async () => {
  const plain = buildPipelineSchema() as Node;
  expect(Object.keys(plain.properties as Node)).not.toContain('grid');
  const withGrid = buildPipelineSchema({ sections: [gridSection] }) as Node;
  expect((withGrid.properties as Node).grid).toEqual({ $ref: '#/$defs/grid', description: (GridSchema as Node).description });
  expect(Object.keys(withGrid.$defs as Node)).toContain('grid');

  const good = { rank: [1, 2], placement: [{ label: 'all', plugin: 'pattern', options: { target: 'all-linear' } }] };
  expect(await issues(true, good)).toEqual([]);
  // the section's schema: the same messages as when the grid schema lived in core
  expect(await issues(true, { ...good, rank: [0] })).toEqual(['<section>: /grid/rank/0: found 0, allowed: >= 1']);
  // the section's check runs after the stages' own
  expect(await issues(true, good, false)).toEqual(['<section>: /grid: a grid needs an "evaluate" stage: its metrics are what the grid compares']);
  // without the section a `grid` key is unknown, as any other top-level key
  expect(await issues(false, good)).toEqual([
    '<section>: /grid: unknown key "grid"; allowed: $schema, name, description, seed, backend, allowLargeRuns, stages',
  ]);
});
