import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, test } from 'vitest';
import { createRankwise, formatIssue, loadCheckpoint, PipelineValidationError } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { createDatasetSource } from '@rankwise/datasets';
import { useTestBackend } from '../helpers/backend.js';

beforeAll(async () => {
  await useTestBackend();
});

/**
 * `session.stage({ stage: 'load', from })`: the session holds no load-specific code; the load stage asks the pipeline
 * service for its `from` model, which a code session validates then (and runs when stale), as a pipeline run does.
 */
test('a session loads a `from` pipeline: validated and run on demand, the model bit-identical to the saved one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-session-from-'));
  const base = {
    name: 'from-base',
    seed: 5,
    stages: [
      { stage: 'load', architecture: 'mlp', config: { sizes: [12, 6, 3] } },
      { stage: 'save', merged: true },
    ],
  };
  await writeFile(join(dir, 'base.json'), JSON.stringify(base));
  await writeFile(join(dir, 'unsaved.json'), JSON.stringify({ ...base, name: 'unsaved', stages: [base.stages[0]] }));
  const rw = createRankwise({ cwd: dir, progress: new SilentProgress(), datasets: createDatasetSource() });
  const tensors = tf.memory().numTensors;

  const session = rw.session();
  const result = await session.stage({ stage: 'load', from: 'base.json' });
  expect(result.architecture).toBe('mlp');
  expect(result.totalParams).toBe(12 * 6 + 6 + 6 * 3 + 3);
  const runs = (await readdir(join(dir, 'runs', 'from-base'))).filter((n) => n !== 'latest');
  expect(runs).toHaveLength(1);
  const { model: saved } = await loadCheckpoint(join(dir, 'runs', 'from-base', runs[0], 'merged'));
  const mine = new Map(session.model!.namedParameters().map(([name, v]) => [name, v]));
  for (const [name, v] of saved.namedParameters()) expect(await mine.get(name)!.data(), name).toEqual(await v.data());
  saved.dispose();
  session.dispose();
  expect(tf.memory().numTensors).toBe(tensors);

  // the dependency's own problems are validation errors, as in a pipeline file
  const other = rw.session();
  const error = await other.stage({ stage: 'load', from: 'unsaved.json' }).catch((e: unknown) => e);
  other.dispose();
  expect(error).toBeInstanceOf(PipelineValidationError);
  expect((error as PipelineValidationError).issues.map(formatIssue)).toEqual([
    '<session>: /stages/0/from: unsaved.json saves no model to load: it needs a "save" stage with "merged": true',
  ]);
});
