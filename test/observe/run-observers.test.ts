import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { main } from '@rankwise/cli';
import type { RunSummary } from '@rankwise/core';
import { compareRuns, comparisonTable, loadRun, readMetricsLines, runReportHtml } from '@rankwise/observe';
import { runObserved, tinyPipeline } from './tiny-runs.js';

const hasPython = spawnSync('/usr/bin/python3', ['-c', 'import google.protobuf'], { stdio: 'ignore' }).status === 0;
if (!hasPython && process.env.RANKWISE_REQUIRE_PYTHON_PROTOBUF === '1')
  throw new Error('RANKWISE_REQUIRE_PYTHON_PROTOBUF=1 but /usr/bin/python3 cannot import google.protobuf (apt-get install python3-protobuf)');
let out: string;
let a: RunSummary;
let b: RunSummary;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'rankwise-observe-'));
  a = await runObserved(tinyPipeline(), out);
  b = await runObserved(tinyPipeline({ r: 4, lr: 0.02 }), out);
});

const eventsFile = async (dir: string) => join(dir, (await readdir(dir)).find((f) => f.startsWith('events.out.tfevents.'))!);

describe('every run folder gets TensorBoard events and a report', () => {
  test.skipIf(!hasPython)('the event file holds every train, eval and evaluate value of metrics.jsonl (read back by python3-protobuf)', async () => {
    const events = execFileSync('/usr/bin/python3', ['packages/observe/scripts/read_tfevents.py', await eventsFile(a.runDir)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; wall_time: number; values?: Array<{ tag: string; simple_value?: number }> });
    const got = new Map<string, number>();
    for (const e of events) for (const v of e.values ?? []) if (v.simple_value !== undefined) got.set(`${v.tag}@${e.step}@${e.wall_time}`, v.simple_value);
    const records = await readMetricsLines(join(a.runDir, 'metrics.jsonl'));
    const expected = new Map<string, number>();
    const f = Math.fround;
    for (const r of records) {
      const wall = Date.parse(r.time as string) / 1000;
      if (r.event === 'train')
        for (const [k, tag] of [
          ['loss', 'train/loss'],
          ['lr', 'train/learning_rate'],
          ['gradNorm', 'train/grad_norm'],
          ['stepsPerSec', 'train/steps_per_sec'],
        ])
          expected.set(`${tag}@${r.step}@${wall}`, f(r[k] as number));
      if (r.event === 'eval') for (const k of ['loss', 'accuracy']) expected.set(`eval/${k}@${r.step}@${wall}`, f(r[k] as number));
      if (r.event === 'evaluate')
        for (const k of ['loss', 'accuracy']) expected.set(`evaluate/${r.label}/${k}@${r.label === 'before' ? 0 : 20}@${wall}`, f(r[k] as number));
    }
    expect(records.filter((r) => r.event === 'train')).toHaveLength(4);
    const evals = records.filter((r) => r.event === 'eval').length;
    expect(evals).toBeGreaterThan(0);
    expect(expected.size).toBe(4 * 4 + evals * 2 + 2 * 2);
    expect(got).toEqual(expected);
  });

  test('report.html: curves, the evaluations, parameters, backend and timings; self-contained', async () => {
    const html = await readFile(join(a.runDir, 'report.html'), 'utf8');
    expect(html.match(/<svg/g)?.length).toBe(3); // loss, learning rate, gradient norm
    expect(html).toContain(a.parameterReport);
    for (const e of a.evaluations) expect(html).toContain(`<td>${e.metrics.accuracy.toPrecision(4)}</td>`);
    expect(html).toContain('cpu (tfjs cpu)');
    expect(html).toContain(`${(a.durationMs / 1000).toFixed(1)} s`);
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/);
  });

  test("overlaid report of two runs, and the comparison: the differing settings and both runs' metrics", async () => {
    const runs = [await loadRun(a.runDir), await loadRun(b.runDir)];
    const html = runReportHtml(runs);
    for (const run of runs) expect(html).toContain(run.name);
    expect(html).toContain('Loss (lines: training, diamonds: evaluation)');
    const c = await compareRuns(runs);
    expect(c.settings).toEqual([
      { pointer: '/stages/3/r', values: ['2', '4'] },
      { pointer: '/stages/4/optimizer/lr', values: ['0.01', '0.02'] },
    ]);
    const metric = (name: string) => c.metrics.find((m) => m.name === name)?.values;
    expect(metric('after accuracy')).toEqual([a.evaluations[1].metrics.accuracy, b.evaluations[1].metrics.accuracy]);
    expect(metric('final train loss')).toEqual([a.training[0].finalLoss, b.training[0].finalLoss]);
    expect(metric('trainable params')).toEqual([a.trainableParams, b.trainableParams]);
    expect(comparisonTable(c)).toMatch(/\/stages\/3\/r\s+2\s+4/);
  });

  test('rankwise runs --compare prints the table', async () => {
    const logs = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['runs', '--compare', a.runDir, b.runDir])).toBe(0);
      const printed = logs.mock.calls.flat().join('\n');
      expect(printed).toMatch(/\/stages\/4\/optimizer\/lr\s+0\.01\s+0\.02/);
      expect(printed).toMatch(/after accuracy/);
    } finally {
      logs.mockRestore();
    }
  });

  test('rankwise report rebuilds report.html and overlays several runs; one run to compare or a non-run folder: exit 2', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const logs = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await rm(join(a.runDir, 'report.html'));
      expect(await main(['report', a.runDir])).toBe(0);
      expect(await readFile(join(a.runDir, 'report.html'), 'utf8')).toContain(a.parameterReport);
      const overlay = join(out, 'both.html');
      expect(await main(['report', a.runDir, b.runDir, '--output', overlay])).toBe(0);
      expect((await readFile(overlay, 'utf8')).match(/<h3>observe-tiny\//g)).toHaveLength(2);
      expect(await main(['runs', '--compare', a.runDir])).toBe(2);
      expect(await main(['report', a.runDir, out])).toBe(2);
      expect(errors.mock.calls.flat().join('\n')).toContain(`${out}: not a run folder`);
    } finally {
      errors.mockRestore();
      logs.mockRestore();
    }
  });
});
