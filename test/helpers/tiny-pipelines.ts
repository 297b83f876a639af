import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Pipeline, TrainStageSpec } from '@rankwise/core';

type Edit = (pipeline: Pipeline) => void;

/**
 * Copies of real pipeline files with fewer steps and less data, in a temp dir (`from` links kept between the
 * copies), so e2e tests run the shipped pipelines' exact stage lists in seconds.
 */
export async function tinyCopies(
  files: Record<string, { steps: number; limit: number; edit?: Edit }>,
): Promise<{ dir: string; path: (name: string) => string }> {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-e2e-'));
  for (const [file, { steps, limit, edit }] of Object.entries(files)) {
    const pipeline = JSON.parse(await readFile(resolve(file), 'utf8')) as Pipeline;
    delete pipeline.$schema;
    for (const stage of pipeline.stages) {
      if (stage.stage === 'train') {
        (stage as TrainStageSpec).steps = steps;
        delete (stage as TrainStageSpec).epochs;
        stage.logEvery = Math.min(stage.logEvery ?? 25, 5);
      }
      if ('data' in stage && stage.data.dataset === 'digits') stage.data.limit = limit;
    }
    edit?.(pipeline);
    await writeFile(join(dir, file.split('/').pop()!), `${JSON.stringify(pipeline, null, 2)}\n`);
  }
  return { dir, path: (name) => join(dir, name) };
}

/**
 * The shipped digits grid, shrunk: ranks 1 and 4 × {last two layers, all layers} + full fine-tuning = 5 cells
 * (`edit` changes the grid further).
 */
export function tinyDigitsGrid(edit?: (grid: NonNullable<Pipeline['grid']>, pipeline: Pipeline) => void): ReturnType<typeof tinyCopies> {
  return tinyCopies({
    'pipelines/digits-base.json': { steps: 30, limit: 400 },
    'pipelines/digits-grid.json': {
      steps: 15,
      limit: 300,
      edit: (p) => {
        p.grid!.rank = [1, 4];
        p.grid!.placement = p.grid!.placement.slice(1);
        edit?.(p.grid!, p);
      },
    },
  });
}
