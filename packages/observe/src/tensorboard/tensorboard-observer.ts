import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObservedRun, RunListener, RunObserver, RunSummary } from '@rankwise/core';
import type { SummaryValue } from './event-proto.js';
import { EventFileWriter } from './event-writer.js';

/** Fields of a train record and their TensorBoard tags. */
export const TRAIN_TAGS: Readonly<Record<string, string>> = {
  loss: 'train/loss',
  lr: 'train/learning_rate',
  gradNorm: 'train/grad_norm',
  stepsPerSec: 'train/steps_per_sec',
};

/** Record fields that say where a record belongs, never plotted. */
const NOT_METRICS = new Set(['time', 'event', 'index', 'label', 'step', 'data', 'stage', 'elapsedMs', 'durationMs']);

/** Where an evaluate stage's values go: `evaluate/<label or stage-<index>>/<metric>`. */
export function evaluationName(record: { index?: unknown; label?: unknown }): string {
  return typeof record.label === 'string' ? record.label : `stage-${String(record.index)}`;
}

const seconds = (record: Readonly<Record<string, unknown>>): number => (typeof record.time === 'string' ? Date.parse(record.time) / 1000 : Date.now() / 1000);

/**
 * Turns metrics.jsonl records into TensorBoard summaries. Steps are global: the steps of a run's second train stage
 * continue after its first's, and an evaluate stage is logged at the step training had reached.
 */
export class TensorBoardMapper {
  private readonly offsets = new Map<number, number>();
  /** The global step reached so far. */
  step = 0;
  /** The step at which each evaluate stage (by stage index) ran: its samples go there too. */
  readonly evaluatedAt = new Map<number, number>();

  /** The event (step, wall time, values) of a record, or null for records with nothing to plot. */
  map(record: Readonly<Record<string, unknown>>): { step: number; wallTime: number; values: SummaryValue[] } | null {
    const kind = record.event;
    const numeric = (keep: (key: string) => boolean) => Object.entries(record).filter(([k, v]) => typeof v === 'number' && keep(k)) as Array<[string, number]>;
    if (kind === 'train' || kind === 'eval') {
      const index = Number(record.index);
      if (!this.offsets.has(index)) this.offsets.set(index, this.step);
      const step = this.offsets.get(index)! + Number(record.step);
      this.step = Math.max(this.step, step);
      const values =
        kind === 'train'
          ? numeric((k) => k in TRAIN_TAGS).map(([k, v]) => ({ tag: TRAIN_TAGS[k], scalar: v }))
          : numeric((k) => !NOT_METRICS.has(k)).map(([k, v]) => ({ tag: `eval/${k}`, scalar: v }));
      return { step, wallTime: seconds(record), values };
    }
    if (kind === 'evaluate') {
      this.evaluatedAt.set(Number(record.index), this.step);
      const name = evaluationName(record);
      return {
        step: this.step,
        wallTime: seconds(record),
        values: numeric((k) => !NOT_METRICS.has(k)).map(([k, v]) => ({ tag: `evaluate/${name}/${k}`, scalar: v })),
      };
    }
    return null;
  }
}

/** Parsed lines of a metrics.jsonl (unreadable lines skipped). */
export async function readMetricsLines(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut short by a killed process
    }
  }
  return out;
}

/**
 * Writes `events.out.tfevents.*` into every run folder: scalars for loss, learning rate, gradient norm, steps/s and
 * every evaluation metric as they are logged, and the evaluations' text samples when the run ends.
 */
export const tensorBoardObserver: RunObserver = {
  name: 'tensorboard',
  async open(run: ObservedRun): Promise<RunListener> {
    const mapper = new TensorBoardMapper();
    // a resumed run: earlier records (in the earlier event file) set the step offsets, nothing is written twice
    if (run.resumed) for (const record of await readMetricsLines(join(run.dir, 'metrics.jsonl'))) mapper.map(record);
    const writer = new EventFileWriter(run.dir);
    return {
      record(record) {
        const event = mapper.map(record);
        if (event) writer.write(event.step, event.wallTime, event.values);
      },
      async finish(summary: RunSummary) {
        const wallTime = Date.parse(summary.finishedAt) / 1000;
        for (const evaluation of summary.evaluations) {
          if (!evaluation.samples?.length) continue;
          const step = mapper.evaluatedAt.get(evaluation.index) ?? mapper.step;
          const name = evaluationName(evaluation);
          writer.write(
            step,
            wallTime,
            evaluation.samples.map((text, i) => ({ tag: `samples/${name}/${i}`, text })),
          );
        }
        await writer.flush();
      },
    };
  },
};
