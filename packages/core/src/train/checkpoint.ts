import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { atomicDirectory, atomicWriteFile } from '@rankwise/formats';
import { nonFiniteAsString } from '@rankwise/formats';
import { readSafetensorsFile, writeSafetensorsFile } from '@rankwise/formats';
import type { Model } from '@rankwise/models';
import { Rng } from '@rankwise/models';
import type { TaskData } from '../contracts/task-data.js';

/**
 * Training checkpoints: everything a train stage needs to continue bit for bit: the trainable parameters, the
 * optimizer's state (Adam's moments, its step and β-powers; momentum accumulators), the loop's position (step,
 * losses not yet logged), the data order and every random stream (batch sampling, dropout). Each checkpoint is a
 * directory `step-<n>` written under a temporary name and renamed, so a kill leaves the previous one intact.
 */

export const TRAIN_CHECKPOINT_FORMAT = 'rankwise-train-checkpoint';
const STATE = 'state.json';
const PARAMS = 'params.safetensors';
const OPTIMIZER = 'optimizer.safetensors';

/** The loop's own position, saved with the tensors. */
export interface LoopState {
  /** Steps done. */
  step: number;
  /** Losses and gradient norms since the last log (their mean is the next logged value). */
  window: number[];
  windowNorms: number[];
  firstLoss: number;
  finalLoss: number;
  elapsedMs: number;
  lastFields: { loss?: number; lr?: number };
  /** The divergence rule's early losses. */
  early: number[];
}

export interface TrainingParts {
  model: Model;
  /** Trainable parameters by path. */
  variables: Array<[string, tf.Variable]>;
  optimizer: tf.Optimizer;
  data: TaskData;
}

interface StateFile {
  format: typeof TRAIN_CHECKPOINT_FORMAT;
  version: 1;
  totalSteps: number;
  loop: LoopState;
  sampler: unknown;
  /** State words of every Rng field in the model's modules, in module order. */
  rngs: number[];
  /** Optimizer scalars that setWeights would recompute differently (Adam's accumulated β powers). */
  optimizerScalars: Record<string, number>;
  optimizerWeights: number;
}

/** Every Rng the model's modules hold (dropout streams), in a fixed order. */
function modelRngs(model: Model): Rng[] {
  const out: Rng[] = [];
  for (const [, module] of model.namedModules()) {
    for (const value of Object.values(module)) if (value instanceof Rng) out.push(value);
    // Streams a module keeps elsewhere (a LoRA layer: one dropout stream per adapter).
    out.push(...((module as { randomStreams?: () => Rng[] }).randomStreams?.() ?? []));
  }
  return out;
}

interface AdamScalars {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

/** Writes `<dir>/step-<n>` atomically, then removes older checkpoints of this stage. */
export async function saveTrainCheckpoint(dir: string, parts: TrainingParts, loop: LoopState, totalSteps: number): Promise<string> {
  const target = join(dir, `step-${String(loop.step).padStart(9, '0')}`);
  const weights = await parts.optimizer.getWeights();
  const scalars = parts.optimizer as unknown as AdamScalars;
  const optimizerScalars: Record<string, number> = {};
  for (const key of ['accBeta1', 'accBeta2'] as const) {
    const v = scalars[key];
    if (v instanceof tf.Variable) optimizerScalars[key] = (await v.data())[0];
  }
  try {
    await atomicDirectory(target, async (temp) => {
      await writeSafetensorsFile(
        join(temp, PARAMS),
        parts.variables.map(([name, tensor]) => ({ name, tensor })),
        { format: TRAIN_CHECKPOINT_FORMAT },
      );
      await writeSafetensorsFile(
        join(temp, OPTIMIZER),
        weights.map((w, i) => ({ name: `${i}:${w.name}`, tensor: w.tensor })),
        { format: TRAIN_CHECKPOINT_FORMAT },
      );
      const state: StateFile = {
        format: TRAIN_CHECKPOINT_FORMAT,
        version: 1,
        totalSteps,
        loop,
        sampler: parts.data.getSamplerState?.() ?? null,
        rngs: modelRngs(parts.model).map((r) => r.state32),
        optimizerScalars,
        optimizerWeights: weights.length,
      };
      await atomicWriteFile(join(temp, STATE), `${JSON.stringify(state, nonFiniteAsString)}\n`);
    });
  } finally {
    // getWeights returns the optimizer's own variables plus a fresh iteration-count scalar: dispose only that one.
    tf.dispose(weights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
  }
  for (const old of await listCheckpoints(dir)) if (old.dir !== target) await rm(old.dir, { recursive: true, force: true });
  return target;
}

/** Complete checkpoints of one train stage, oldest first (a half-written one has only a temporary name). */
export async function listCheckpoints(dir: string): Promise<Array<{ dir: string; step: number }>> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries
    .filter((e) => /^step-\d+$/.test(e))
    .map((e) => ({ dir: join(dir, e), step: Number(e.slice(5)) }))
    .sort((a, b) => a.step - b.step);
}

/**
 * Restores the newest checkpoint in `dir` into the parts (which must be set up exactly as at the start of the
 * stage); returns the loop state to continue from, or null when there is none.
 */
export async function restoreTrainCheckpoint(dir: string, parts: TrainingParts, totalSteps: number): Promise<LoopState | null> {
  const newest = (await listCheckpoints(dir)).pop();
  if (!newest) return null;
  const where = newest.dir;
  const state = JSON.parse(await readFile(join(where, STATE), 'utf8'), (_k, v: unknown) =>
    v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v,
  ) as StateFile;
  if (state.format !== TRAIN_CHECKPOINT_FORMAT || state.version !== 1)
    throw new Error(`${join(where, STATE)}: not a rankwise training checkpoint (format ${JSON.stringify(state.format)})`);
  if (state.totalSteps !== totalSteps)
    throw new Error(`${where}: saved for ${state.totalSteps} steps, but this stage trains ${totalSteps}; the pipeline changed since`);
  const params = await readSafetensorsFile(join(where, PARAMS));
  const names = parts.variables.map(([n]) => n);
  const missing = names.filter((n) => !params.tensors.has(n));
  if (missing.length > 0 || params.tensors.size !== names.length) {
    throw new Error(`${join(where, PARAMS)}: holds ${[...params.tensors.keys()].join(', ')}; this stage trains ${names.join(', ')}`);
  }
  for (const [name, variable] of parts.variables) {
    const t = params.tensors.get(name)!;
    if (t.shape.join(',') !== variable.shape.join(','))
      throw new Error(`${join(where, PARAMS)}: tensor "${name}": shape [${t.shape}], the model has [${variable.shape}]`);
  }
  for (const [name, variable] of parts.variables) {
    const t = params.tensors.get(name)!;
    tf.tidy(() => variable.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
  const optimizer = await readSafetensorsFile(join(where, OPTIMIZER));
  const entries = [...optimizer.tensors.entries()].map(([key, t]) => ({
    index: Number(key.slice(0, key.indexOf(':'))),
    name: key.slice(key.indexOf(':') + 1),
    t,
  }));
  entries.sort((a, b) => a.index - b.index);
  if (entries.length !== state.optimizerWeights)
    throw new Error(`${join(where, OPTIMIZER)}: ${entries.length} tensors, the state names ${state.optimizerWeights}`);
  const named = entries.map(({ name, t }) => ({ name, tensor: tf.tensor(t.data, t.shape, 'float32') }));
  try {
    await parts.optimizer.setWeights(named);
  } finally {
    tf.dispose(named.map((n) => n.tensor));
  }
  const scalars = parts.optimizer as unknown as AdamScalars;
  for (const [key, value] of Object.entries(state.optimizerScalars)) {
    const v = scalars[key as keyof AdamScalars];
    if (v instanceof tf.Variable) tf.tidy(() => v.assign(tf.scalar(value)));
  }
  if (state.sampler !== null) {
    if (!parts.data.setSamplerState) throw new Error(`${join(where, STATE)}: the data (${parts.data.name}) cannot restore its sampling position`);
    parts.data.setSamplerState(state.sampler);
  }
  const rngs = modelRngs(parts.model);
  if (rngs.length !== state.rngs.length) throw new Error(`${join(where, STATE)}: ${state.rngs.length} random streams saved, the model has ${rngs.length}`);
  rngs.forEach((rng, i) => (rng.state32 = state.rngs[i]));
  return state.loop;
}
