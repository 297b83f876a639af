import { expect, test } from 'vitest';
import { formatSpeed, LineProgress, RateMeter } from '@rankwise/core/runs';

test('RateMeter: speed and ETA over the recent window, so a slow first step does not stretch the ETA', () => {
  const meter = new RateMeter(0, 30_000);
  // A 17 s first step, then 4.5 s steps (the Llama pipeline's shape).
  expect(meter.update(1, 20, 17_000).stepsPerSec).toBeCloseTo(1 / 17, 10);
  let at = 17_000;
  let last = { stepsPerSec: 0, etaSec: 0 };
  for (let step = 2; step <= 12; step++) {
    at += 4_500;
    last = meter.update(step, 20, at);
  }
  // The window holds the updates of the last 30 s: only 4.5 s steps, where an average since the start says 5.5 s.
  expect(1 / last.stepsPerSec).toBeCloseTo(4.5, 10);
  expect(last.etaSec).toBeCloseTo(8 * 4.5, 8);
  expect(new RateMeter(0).update(0, 10, 5_000).etaSec).toBe(Infinity);
});

test('formatSpeed: steps/s from 1 step/s up, seconds per step below', () => {
  expect(formatSpeed(12.345)).toBe('12.3 steps/s');
  expect(formatSpeed(1)).toBe('1.0 steps/s');
  expect(formatSpeed(1 / 4.5)).toBe('4.5 s/step');
  expect(formatSpeed(0)).toBe('? steps/s');
  expect(formatSpeed(Number.NaN)).toBe('? steps/s');
});

test('LineProgress prints the recent speed: the last line of a finished task', () => {
  const lines: string[] = [];
  const task = new LineProgress((line) => lines.push(line), 0).task('train[1]', 3);
  task.update(1, { loss: 2 });
  task.update(3, { loss: 1.5 });
  task.stop();
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatch(/^train\[1\] step 3\/3 {2}loss 1\.5000 {2}(\d+\.\d steps\/s|\d+\.\d s\/step) {2}ETA 0s$/);
});
