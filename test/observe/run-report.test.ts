import { describe, expect, test } from 'vitest';
import { curvesOf, runReportHtml, type RunData } from '@rankwise/observe';

const records = [
  { time: 't', event: 'evaluate', index: 1, label: 'zero-shot', data: 'sotu', loss: 2.5, bitsPerChar: 3.6 },
  { time: 't', event: 'train', index: 3, step: 10, loss: 2.25, gradNorm: 0.5, lr: 0.001, stepsPerSec: 9 },
  { time: 't', event: 'eval', index: 3, step: 10, data: 'sotu', loss: 2.375 },
  { time: 't', event: 'train', index: 5, step: 10, loss: 2.0, gradNorm: 0.25, lr: 0.0005, stepsPerSec: 8 },
];

function run(summary: RunData['summary'], status: RunData['status'] = 'completed'): RunData {
  return { dir: '/runs/lm/20260101-000000', name: 'lm/20260101-000000', pipeline: 'lm', status, summary, records, curves: curvesOf(records) };
}

describe('a run report from its records', () => {
  test('curves use global steps: a second train stage continues the first', () => {
    expect(curvesOf(records)).toEqual([
      { step: 10, kind: 'train', loss: 2.25, lr: 0.001, gradNorm: 0.5, stepsPerSec: 9 },
      { step: 10, kind: 'eval', loss: 2.375 },
      { step: 20, kind: 'train', loss: 2.0, lr: 0.0005, gradNorm: 0.25, stepsPerSec: 8 },
    ]);
  });

  test('samples are shown escaped; a running run takes its evaluations from metrics.jsonl', () => {
    const html = runReportHtml([
      run({
        pipeline: 'lm',
        evaluations: [
          {
            index: 1,
            label: 'zero-shot',
            stage: 'evaluate',
            data: 'sotu',
            metrics: { loss: 2.5 },
            samples: ['Mr. Speaker, <script>alert(1)</script> & "you"'],
          },
        ],
      }),
    ]);
    expect(html).toContain('<pre class="sample">Mr. Speaker, &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;you&quot;</pre>');
    expect(html).not.toContain('<script>');
    const running = runReportHtml([run({ pipeline: 'lm' }, 'running')]);
    expect(running).toMatch(/<td class="label">zero-shot<\/td><td>sotu<\/td><td>2\.500<\/td><td>3\.600<\/td>/);
    expect(running).not.toContain('Samples');
  });
});
