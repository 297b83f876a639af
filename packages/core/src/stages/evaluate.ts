import { Type, type Static } from '@sinclair/typebox';
import { DataSchema } from '../contracts/data-schema.js';
import { describedRef, shared } from '../contracts/schema-helpers.js';
import { defineStage, type EvaluationRecord } from '../contracts/stage.js';
import { formatMetric } from '../progress/format-metric.js';
import { checkDataFile } from './input-files.js';
import { sampleText } from '../tasks/sample.js';

const SamplesSchema = shared(
  'samples',
  Type.Object(
    {
      prompt: Type.Optional(Type.String({ minLength: 1, description: 'Text the samples start from (default a newline).' })),
      length: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096, default: 200, description: 'Characters to generate per sample.' })),
      count: Type.Optional(Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'How many samples.' })),
      temperature: Type.Optional(
        Type.Number({ exclusiveMinimum: 0, maximum: 10, default: 0.8, description: 'Softmax temperature: lower is more conservative.' }),
      ),
      topK: Type.Optional(Type.Integer({ minimum: 1, description: 'Sample among the k most likely characters.' })),
    },
    { description: 'Language models: text generated from a prompt, written into summary.json.', additionalProperties: false },
  ),
);

const EvaluateOptions = Type.Object(
  {
    data: describedRef(DataSchema, 'The data to evaluate on.'),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536, default: 500, description: 'Examples (or context windows) per forward pass.' })),
    samples: Type.Optional(describedRef(SamplesSchema, 'Language models: text generated from a prompt, written into summary.json.')),
  },
  { description: 'Metrics of the current model on a split (classification: loss, accuracy; text: bits per character).', additionalProperties: false },
);
export type EvaluateOptions = Static<typeof EvaluateOptions>;

/** Metrics of the current model on a split (classification: loss, accuracy). */
export default defineStage<EvaluateOptions, EvaluationRecord, 'evaluate'>({
  name: 'evaluate',
  description: 'Metrics of the current model on a split (classification: loss, accuracy; text: bits per character).',
  options: EvaluateOptions,
  requires: ['model'],
  provides: [],
  async check(options, ctx) {
    await ctx.data(options.data, '/data');
    await checkDataFile(options.data, '/data', ctx);
    if (options.samples && ctx.model?.task !== 'language-model') ctx.issue('/samples', 'text samples need a language model');
  },
  async run(options, ctx) {
    const model = ctx.model.require('evaluate');
    const data = await ctx.data.prepare(options.data, 0);
    model.eval();
    const metrics = await data.evaluate(model, options.batchSize ?? 500);
    const tag = ctx.label ?? ctx.index;
    // per-class results for data with named classes (numbered classes, like digits, keep their records as they were)
    const named = data.classNames?.some((name, i) => name !== String(i)) ?? false;
    const perClass = named ? data.perClass?.() : undefined;
    const record: EvaluationRecord = {
      index: ctx.index,
      ...(ctx.label !== undefined ? { label: ctx.label } : {}),
      stage: ctx.name,
      data: data.name,
      metrics,
      ...(perClass ? { perClass } : {}),
    };
    ctx.metrics.write({ event: 'evaluate', index: ctx.index, label: ctx.label, data: data.name, ...metrics });
    if (options.samples) {
      const { prompt = '\n', length = 200, count = 1, temperature = 0.8, topK } = options.samples;
      const vocabulary = ctx.vocabulary.current();
      if (!vocabulary || model.contextLength === undefined) throw new Error('evaluate: samples need a language model with a vocabulary');
      record.samples = [];
      for (let k = 0; k < count; k++) {
        const seed = ctx.seed + k;
        record.samples.push(prompt + (await sampleText(model, vocabulary, { prompt, length, temperature, topK, seed, context: model.contextLength })));
      }
    }
    ctx.records.evaluation(record);
    const shown = Object.entries(metrics).map(([k, v]) => `${k} ${formatMetric(k, v)}`);
    ctx.progress.info(`evaluate[${tag}]: ${data.name}: ${shown.join(', ')}`);
    if (perClass)
      ctx.progress.info(
        `evaluate[${tag}]: accuracy per class: ${perClass.map((c) => `${c.name} ${(c.accuracy * 100).toFixed(1)}% (${c.examples})`).join(', ')}`,
      );
    for (const sample of record.samples ?? []) ctx.progress.info(`evaluate[${tag}]: sample:\n${indent(sample)}`);
    return record;
  },
});

const indent = (text: string): string =>
  text
    .split('\n')
    .map((line) => `    │ ${line}`)
    .join('\n');
