import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { RunSummary } from '@rankwise/core';
import { observedStatus, type ObservedStatus } from '@rankwise/core/runs';
import { readMetricsLines, TensorBoardMapper } from '../tensorboard/tensorboard-observer.js';

/** One point of a run's curves, at a global step (train stages continue each other's steps). */
export interface CurvePoint {
  step: number;
  /** `train` (loss, lr, gradNorm, stepsPerSec) or `eval` (evaluation loss during training). */
  kind: 'train' | 'eval';
  loss?: number;
  lr?: number;
  gradNorm?: number;
  stepsPerSec?: number;
}

/** What a report (and the dashboard) shows of one run folder. */
export interface RunData {
  dir: string;
  /** `<pipeline>/<run id>`: how the run is named in overlays. */
  name: string;
  pipeline: string;
  status: ObservedStatus;
  summary: Partial<RunSummary> & Record<string, unknown>;
  records: Array<Record<string, unknown>>;
  curves: CurvePoint[];
}

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A metrics record as a curve point (null for records that are not on a curve). */
export function curvePoint(mapper: TensorBoardMapper, record: Readonly<Record<string, unknown>>): CurvePoint | null {
  const event = mapper.map(record);
  if (!event) return null;
  if (record.event === 'train')
    return {
      step: event.step,
      kind: 'train',
      loss: finite(record.loss),
      lr: finite(record.lr),
      gradNorm: finite(record.gradNorm),
      stepsPerSec: finite(record.stepsPerSec),
    };
  if (record.event === 'eval' && finite(record.loss) !== undefined) return { step: event.step, kind: 'eval', loss: finite(record.loss) };
  return null;
}

export function curvesOf(records: ReadonlyArray<Readonly<Record<string, unknown>>>): CurvePoint[] {
  const mapper = new TensorBoardMapper();
  return records.map((r) => curvePoint(mapper, r)).filter((p): p is CurvePoint => p !== null);
}

/** Reads a run folder (summary.json, metrics.jsonl); `summary` replaces summary.json (a run that is finishing). */
export async function loadRun(given: string, summary?: RunSummary): Promise<RunData> {
  const dir = await realpath(given).catch(() => given); // `<pipeline>/latest` → the run it points at
  let read: Record<string, unknown> = {};
  if (!summary) {
    try {
      read = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${dir}: not a run folder (no readable summary.json: ${(error as Error).message.split('\n')[0]})`);
    }
  }
  const s = (summary ?? read) as RunData['summary'];
  const records = await readMetricsLines(join(dir, 'metrics.jsonl'));
  const pipeline = typeof s.pipeline === 'string' ? s.pipeline : basename(dirname(dir));
  const status = summary ? summary.status : observedStatus(read as never);
  return { dir, name: `${pipeline}/${basename(dir)}`, pipeline, status, summary: s, records, curves: curvesOf(records) };
}
