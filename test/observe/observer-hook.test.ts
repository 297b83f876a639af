import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createRankwise, type RunObserver, type RunSummary } from '@rankwise/core';
import { LineProgress } from '@rankwise/core/runs';
import { createDatasetSource } from '@rankwise/datasets';
import { readMetricsLines } from '@rankwise/observe';
import pattern from '@rankwise/placement-pattern';
import { tinyPipeline } from './tiny-runs.js';

test('core hands every metrics.jsonl record and the final summary to observers; a failing observer never fails the run', async () => {
  const out = await mkdtemp(join(tmpdir(), 'rankwise-hook-'));
  const seen: Array<Record<string, unknown>> = [];
  let finished: RunSummary | null = null;
  let opened: { dir: string; pipeline: string; resumed: boolean } | null = null;
  const recording: RunObserver = {
    name: 'recording',
    async open(run) {
      opened = run;
      return { record: (r) => void seen.push({ ...r }), finish: async (s) => void (finished = s) };
    },
  };
  const brokenOpen: RunObserver = {
    name: 'broken-open',
    open: async () => {
      throw new Error('cannot open');
    },
  };
  const brokenFinish: RunObserver = {
    name: 'broken-finish',
    open: async () => ({
      record: () => {},
      finish: async () => {
        throw new Error('disk full');
      },
    }),
  };
  const lines: string[] = [];
  const rankwise = createRankwise({
    progress: new LineProgress((l) => lines.push(l)),
    datasets: createDatasetSource(),
    plugins: [pattern],
    observers: [brokenOpen, recording, brokenFinish],
  });
  const { summary } = await rankwise.run(tinyPipeline({ name: 'hooked', steps: 10 }), { out });
  expect(summary.status).toBe('completed');
  expect(opened).toEqual({ dir: summary.runDir, pipeline: 'hooked', resumed: false });
  expect(seen).toEqual(await readMetricsLines(join(summary.runDir, 'metrics.jsonl')));
  expect(seen.map((r) => r.event)).toEqual(['stage', 'evaluate', 'stage', 'stage', 'stage', 'train', 'train', 'stage', 'evaluate', 'stage']);
  expect(finished).toMatchObject({ status: 'completed', runDir: summary.runDir, evaluations: summary.evaluations });
  expect(lines).toEqual(expect.arrayContaining(['warning: broken-open: cannot open', 'warning: broken-finish: disk full']));
  expect(JSON.parse(await readFile(join(summary.runDir, 'summary.json'), 'utf8')).status).toBe('completed');
});
