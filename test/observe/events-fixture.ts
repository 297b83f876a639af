import { EventFileWriter, TensorBoardMapper, type SummaryValue } from '@rankwise/observe';

/** Records as a run with two train stages, in-training evaluation and evaluate stages writes them (fixed times). */
export const FIXTURE_RECORDS: Array<Record<string, unknown>> = [
  { time: '2026-01-02T03:04:05.000Z', event: 'evaluate', index: 1, label: 'zero-shot', data: 'sotu', loss: 2.75, bitsPerChar: 3.9674, accuracy: 0.125 },
  { time: '2026-01-02T03:04:06.250Z', event: 'train', index: 4, step: 5, loss: 2.5, gradNorm: 0.75, lr: 0.0006, stepsPerSec: 12.5, elapsedMs: 400 },
  { time: '2026-01-02T03:04:06.500Z', event: 'train', index: 4, step: 10, loss: 2.25, gradNorm: 0.625, lr: 0.0012, stepsPerSec: 13.25, elapsedMs: 755 },
  { time: '2026-01-02T03:04:06.750Z', event: 'eval', index: 4, step: 10, data: 'sotu', loss: 2.3125, bitsPerChar: 3.33 },
  { time: '2026-01-02T03:04:07.000Z', event: 'stage', index: 4, stage: 'train', durationMs: 800 },
  {
    time: '2026-01-02T03:04:08.000Z',
    event: 'train',
    index: 6,
    label: 'second',
    step: 5,
    loss: 2.0,
    gradNorm: 0.5,
    lr: 0.001,
    stepsPerSec: 11,
    elapsedMs: 450,
  },
  { time: '2026-01-02T03:04:09.000Z', event: 'evaluate', index: 7, label: 'after', data: 'sotu', loss: 1.875, bitsPerChar: 2.705, accuracy: 0.5 },
];

/** Text samples the run's evaluations end with (stage index → samples). */
export const FIXTURE_SAMPLES: Array<{ index: number; label: string; samples: string[] }> = [
  { index: 1, label: 'zero-shot', samples: ['Mr. Speaker, the whale', 'Mr. Speaker, ünïcode ✓'] },
  { index: 7, label: 'after', samples: ['Mr. Speaker, the Union is strong'] },
];

export const FIXTURE_START_MS = Date.parse('2026-01-02T03:04:05.000Z');
export const FIXTURE_END_S = Date.parse('2026-01-02T03:04:10.000Z') / 1000;

/** Writes the fixture's event file into `dir` exactly as the TensorBoard observer would; returns its path. */
export async function writeFixtureEvents(dir: string): Promise<string> {
  const writer = new EventFileWriter(dir, FIXTURE_START_MS);
  const mapper = new TensorBoardMapper();
  for (const record of FIXTURE_RECORDS) {
    const event = mapper.map(record);
    if (event) writer.write(event.step, event.wallTime, event.values);
  }
  for (const { index, label, samples } of FIXTURE_SAMPLES) {
    const values: SummaryValue[] = samples.map((text, i) => ({ tag: `samples/${label}/${i}`, text }));
    writer.write(mapper.evaluatedAt.get(index) ?? mapper.step, FIXTURE_END_S, values);
  }
  await writer.flush();
  return writer.file;
}
