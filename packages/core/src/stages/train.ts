import { Type, type Static } from '@sinclair/typebox';
import { trainLoadedAdapters } from '@rankwise/lora';
import { activeBackend } from '../backend/resolve.js';
import { DataSchema } from '../contracts/data-schema.js';
import { describedRef, shared, StringEnum } from '../contracts/schema-helpers.js';
import { defineStage, type TrainingRecord } from '../contracts/stage.js';
import type { DataSummary } from '../contracts/task-data.js';
import { checkDataFile } from './input-files.js';
import { parameterReport } from '@rankwise/lora';
import { formatSpeed } from '../progress/rate-meter.js';
import { lossRoseWarning } from '../train/finite-guard.js';
import { CHECKPOINTABLE_ARCHITECTURES, setGradientCheckpointing } from '../train/gradient-checkpointing.js';
import { trainLoop } from '../train/loop.js';
import { trainCheckpointing } from '../train/stage-checkpoints.js';
import { createOptimizer } from '../train/optimizer.js';

const OptimizerSchema = shared(
  'optimizer',
  Type.Object(
    {
      name: StringEnum(['adam', 'adamw', 'sgd'], { description: 'adam, adamw (decoupled weight decay) or sgd (optionally with momentum).' }),
      lr: Type.Number({ exclusiveMinimum: 0, maximum: 10, description: 'Peak learning rate.' }),
      weightDecay: Type.Optional(Type.Number({ minimum: 0, description: 'adamw: decoupled decay (default 0.01); sgd: L2; not allowed with adam.' })),
      beta1: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'adam, adamw: decay of the first moment (default 0.9).' })),
      beta2: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'adam, adamw: decay of the second moment (default 0.999).' })),
      eps: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'adam, adamw: added to the denominator (default 1e-8).' })),
      momentum: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'sgd only.' })),
      loraPlusRatio: Type.Optional(
        Type.Number({
          exclusiveMinimum: 0,
          maximum: 1000,
          description:
            'LoRA+ (PEFT loraplus_lr_ratio): lora_B and 1-D parameters (biases, DoRA magnitudes) learn at lr · ratio, the rest at lr. The LoRA+ paper suggests 16.',
        }),
      ),
    },
    {
      additionalProperties: false,
      description: 'The optimizer and its hyperparameters.',
      allOf: [
        {
          if: { properties: { name: { const: 'adam' } } },
          then: { not: { required: ['weightDecay'] }, 'x-message': '"weightDecay" is not allowed with adam; use adamw for decoupled weight decay' },
        },
        { if: { properties: { name: { enum: ['adam', 'adamw'] } } }, then: { not: { required: ['momentum'] }, 'x-message': '"momentum" is only for sgd' } },
        {
          if: { properties: { name: { const: 'sgd' } } },
          then: {
            not: { anyOf: [{ required: ['beta1'] }, { required: ['beta2'] }, { required: ['eps'] }] },
            'x-message': '"beta1", "beta2" and "eps" are only for adam and adamw',
          },
        },
      ],
    },
  ),
);

const ScheduleSchema = shared(
  'schedule',
  Type.Object(
    {
      type: StringEnum(['constant', 'cosine'], { description: 'constant, or cosine decay from lr to minLr.' }),
      warmupSteps: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Linear warm-up from 0 to lr.' })),
      minLr: Type.Optional(Type.Number({ minimum: 0, default: 0, description: 'cosine: final learning rate.' })),
    },
    { additionalProperties: false, description: 'The learning-rate schedule (default constant).' },
  ),
);

const TrainOptions = Type.Object(
  {
    data: describedRef(DataSchema, 'The training data.'),
    steps: Type.Optional(Type.Integer({ minimum: 1, description: 'Optimizer steps (or give epochs).' })),
    epochs: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Passes over the training data (or give steps).' })),
    batchSize: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65536, default: 64, description: 'Examples (or context windows) per step (per micro-batch with accumulateSteps).' }),
    ),
    accumulateSteps: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 4096,
        default: 1,
        description:
          'Gradient accumulation: each optimizer step averages the gradients of this many micro-batches of batchSize, the same update as one batch accumulateSteps times larger. steps, epochs, the schedule, logs, progress and checkpoints count optimizer steps.',
      }),
    ),
    gradientCheckpointing: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "Keep only each transformer block's input through the forward pass and recompute the block in the backward pass (llama and gpt): much less memory for about one more forward pass of time.",
      }),
    ),
    optimizer: describedRef(OptimizerSchema, 'The optimizer and its hyperparameters.'),
    schedule: Type.Optional(describedRef(ScheduleSchema, 'The learning-rate schedule (default constant).')),
    clipNorm: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Clip the global gradient norm to this value.' })),
    logEvery: Type.Optional(Type.Integer({ minimum: 1, default: 25, description: 'Write a metrics line every N steps.' })),
    evalEvery: Type.Optional(Type.Integer({ minimum: 1, description: 'Evaluate on evalData every N steps.' })),
    evalData: Type.Optional(describedRef(DataSchema, 'Data to evaluate on every evalEvery steps.')),
    checkpointEvery: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Save a training checkpoint (trainable parameters, optimizer state, data order, random state) every N steps; by default about once a minute. `rankwise run --resume` continues from the last one.',
      }),
    ),
    divergence: Type.Optional(
      Type.Object(
        {
          factor: Type.Number({ exclusiveMinimum: 1, description: 'How many times the early mean a logged loss may reach.' }),
          window: Type.Optional(Type.Integer({ minimum: 1, default: 3, description: 'How many logged losses make the early mean.' })),
        },
        { additionalProperties: false, description: 'Stop the run (exit 1) when a logged loss exceeds factor × the mean of the first `window` logged losses.' },
      ),
    ),
  },
  {
    description: 'Trains the trainable parameters (the adapters after freeze + inject; everything after unfreeze).',
    additionalProperties: false,
    dependentRequired: { evalEvery: ['evalData'] },
    'x-message': 'give exactly one of "steps" or "epochs"',
    oneOf: [{ required: ['steps'] }, { required: ['epochs'] }],
  },
);
export type TrainOptions = Static<typeof TrainOptions>;
export type OptimizerOptions = Static<typeof OptimizerSchema>;

/** Trains exactly the trainable parameters (A and B after freeze + inject; everything for full fine-tuning). */
/** More steps than this is almost always a typo (1e12); `allowLargeRuns` accepts it. */
export const MAX_STEPS = 10_000_000;

export default defineStage<TrainOptions, TrainingRecord, 'train'>({
  name: 'train',
  description: 'Trains the trainable parameters (the adapters after freeze + inject; everything after unfreeze).',
  options: TrainOptions,
  requires: ['model'],
  provides: [],
  async check(options, ctx) {
    if (ctx.has('frozen') && !ctx.has('adapter')) ctx.issue('', 'nothing to train: every parameter is frozen and no adapter was injected before this stage');
    if (ctx.has('quantized') && !ctx.has('frozen'))
      ctx.issue(
        '',
        'the base model is stored quantized (load.quantize) and not frozen: its Linear weights cannot be trained; add "freeze" and "inject" before this stage (QLoRA)',
      );
    const architecture = ctx.model?.architecture;
    if (options.gradientCheckpointing && architecture !== undefined && !CHECKPOINTABLE_ARCHITECTURES.includes(architecture)) {
      ctx.issue(
        '/gradientCheckpointing',
        `found true for a ${architecture} model; allowed: models with transformer blocks (${CHECKPOINTABLE_ARCHITECTURES.join(', ')})`,
      );
    }
    for (const key of ['data', 'evalData'] as const) {
      const spec = options[key];
      if (spec) await ctx.data(spec, `/${key}`);
    }
    await checkDataFile(options.data, '/data', ctx);
    if (options.evalData) await checkDataFile(options.evalData, '/evalData', ctx);
    if (!ctx.allowLargeRuns && (options.steps ?? 0) > MAX_STEPS) {
      ctx.issue(
        '/steps',
        `found ${options.steps}, allowed: at most ${MAX_STEPS.toLocaleString('en-US')} (likely a typo; set "allowLargeRuns": true at the top level if you mean it)`,
      );
    }
  },
  async run(options, ctx) {
    const model = ctx.model.require('train');
    // adapters loaded frozen (PEFT's from_pretrained) are trained as with is_trainable=True: the active ones, not the base
    if (trainLoadedAdapters(model)) ctx.progress.info('train: the loaded adapters become trainable (PEFT is_trainable=True); the base stays frozen');
    const data = await ctx.data.prepare(options.data, ctx.seed);
    const evalData = options.evalData ? await ctx.data.prepare(options.evalData, 0) : undefined;
    if (data.classNames) ctx.data.classNames = [...data.classNames];
    const summary = data.summary?.();
    if (summary) ctx.progress.info(`train: data ${describeData(summary)}`);
    const batchSize = options.batchSize ?? 64;
    const accumulateSteps = options.accumulateSteps ?? 1;
    const steps = options.steps ?? Math.ceil(((options.epochs ?? 1) * data.size) / (batchSize * accumulateSteps));
    const named = model.namedParameters().filter(([, v]) => v.trainable);
    const variables = named.map(([, v]) => v);
    const report = parameterReport(model);
    const optimizer = createOptimizer(options.optimizer, activeBackend()?.createAdam);
    const tag = ctx.label ?? ctx.index;
    const where = { index: ctx.index, ...(ctx.label !== undefined ? { label: ctx.label } : {}) };
    const perStep = accumulateSteps === 1 ? `${batchSize}` : `${accumulateSteps}×${batchSize} (accumulated)`;
    const checkpointed = options.gradientCheckpointing ? `, gradient checkpointing over ${setGradientCheckpointing(model, true)} blocks` : '';
    ctx.progress.info(
      `train: ${steps} steps of ${perStep}${checkpointed} on ${data.name} (${data.size.toLocaleString('en-US')}), ${options.optimizer.name} lr ${options.optimizer.lr}; ${report.text}`,
    );
    try {
      const checkpoints = await trainCheckpointing(
        ctx.runDir,
        ctx.index,
        { model, variables: named, optimizer: optimizer.optimizer, data },
        steps,
        options.checkpointEvery,
      );
      if (checkpoints.resume) ctx.progress.info(`train: resuming at step ${checkpoints.resume.step}/${steps} from its checkpoint`);
      const result = await trainLoop({
        checkpoint: checkpoints.policy,
        resume: checkpoints.resume,
        divergence: options.divergence,
        model,
        data,
        variables,
        optimizer,
        steps,
        batchSize,
        accumulateSteps,
        lr: options.optimizer.lr,
        schedule: options.schedule,
        clipNorm: options.clipNorm,
        logEvery: Math.min(options.logEvery ?? 25, steps),
        evalEvery: options.evalEvery,
        evalData,
        signal: ctx.signal,
        progress: ctx.progress.task(`train[${tag}]`, steps),
        onLog: (record) => ctx.metrics.write({ event: 'train', ...where, ...record }),
        onEval: (step, metrics) => {
          ctx.metrics.write({ event: 'eval', ...where, step, data: evalData?.name, ...metrics });
          ctx.progress.info(
            `train: step ${step} ${Object.entries(metrics)
              .map(([k, v]) => `${k} ${v.toFixed(4)}`)
              .join(' ')}`,
          );
        },
      });
      const record: TrainingRecord = {
        ...where,
        stage: ctx.name,
        steps: result.steps,
        durationMs: result.durationMs,
        stepsPerSec: result.stepsPerSec,
        finalLoss: result.finalLoss,
        trainableParams: report.trainable,
        totalParams: report.total,
        parameterReport: report.text,
        optimizerStateBytes: optimizer.stateBytes(),
        ...(summary ? { data: summary } : {}),
      };
      ctx.records.training(record);
      const rose = lossRoseWarning(result.firstLoss, result.finalLoss);
      if (rose) ctx.progress.info(`train: ${rose}`);
      ctx.progress.info(`train: done, loss ${result.finalLoss.toFixed(4)}, ${formatSpeed(result.stepsPerSec)}, ${(result.durationMs / 1000).toFixed(1)} s`);
      return record;
    } finally {
      optimizer.optimizer.dispose();
      if (options.gradientCheckpointing) setGradientCheckpointing(model, false);
    }
  },
});

/** e.g. "iris.csv/train: 120 examples of 4, 3 classes (setosa, versicolor, virginica)" or "…: 1,000 examples, 52,000 tokens, 38.1% carry loss, 3 truncated". */
export function describeData(summary: DataSummary): string {
  const parts = [`${summary.name}: ${summary.examples.toLocaleString('en-US')} examples${summary.inputShape ? ` of ${summary.inputShape.join('×')}` : ''}`];
  if (summary.classes) parts.push(`${summary.classes.length} classes (${summary.classes.slice(0, 10).join(', ')}${summary.classes.length > 10 ? ', …' : ''})`);
  if (summary.tokens !== undefined) parts.push(`${summary.tokens.toLocaleString('en-US')} tokens`);
  if (summary.lossShare !== undefined) parts.push(`${(summary.lossShare * 100).toFixed(1)}% of tokens carry loss`);
  if (summary.truncated !== undefined) parts.push(`${summary.truncated} truncated`);
  return parts.join(', ');
}
