import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MLP_PARAMS, TRANSFORMER_PARAMS, initialValues, mlpLoss, transformerForward, type ParamSpec } from './models.js';
import { normRelativeError } from '../helpers/numeric.js';
import { noAdapter, runOn, suiteName, type BackendName } from './support.js';

/**
 * Training-step computations on webgpu vs cpu. Tolerance for every output and every gradient
 * tensor: normwise relative error max|gpu − cpu| / max|cpu| ≤ 1e-5 (observed ≈1e-7).
 */
const TOLERANCE = 1e-5;

function tensorsOf(specs: readonly ParamSpec[], values: readonly Float32Array[]): tf.Tensor[] {
  return specs.map((spec, i) => tf.tensor(values[i], spec.shape));
}

/** Loss, extra outputs and the gradient of the loss for every parameter. */
function lossAndGrads(specs: readonly ParamSpec[], values: readonly Float32Array[], forward: (p: tf.Tensor[]) => tf.Tensor[]) {
  return () => {
    const params = tensorsOf(specs, values);
    const outputs = forward(params);
    const grads = tf.grads((...p: tf.Tensor[]) => forward(p)[0] as tf.Scalar)(params);
    return [...outputs, ...grads];
  };
}

function expectClose(gpu: Float32Array[], cpu: Float32Array[], names: string[]): void {
  const errors = Object.fromEntries(names.map((name, i) => [name, normRelativeError(gpu[i], cpu[i])]));
  if (process.env.SHOW_ERRORS) console.log(errors);
  for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThanOrEqual(TOLERANCE);
}

/** Adam on tf.variable parameters: `steps` × (variableGrads + applyGradients); returns final values. */
async function adamSteps(backend: BackendName, values: readonly Float32Array[], steps: number): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const initial = tensorsOf(MLP_PARAMS, values);
  const variables = initial.map((tensor, i) => tf.variable(tensor, true, `adam_${backend}_${MLP_PARAMS[i].name}`));
  tf.dispose(initial);
  const optimizer = tf.train.adam(0.01);
  try {
    for (let step = 0; step < steps; step++) {
      const { value, grads } = tf.variableGrads(() => mlpLoss(variables));
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      tf.dispose([value, grads]);
    }
    return await Promise.all(variables.map(async (v) => Float32Array.from(await v.data())));
  } finally {
    optimizer.dispose();
    tf.dispose(variables);
  }
}

describe.skipIf(noAdapter)(suiteName, () => {
  const mlpValues = initialValues(MLP_PARAMS, 1);
  const transformerValues = initialValues(TRANSFORMER_PARAMS, 2);

  it('MLP 20-16-16-5 (relu, softmax cross-entropy): loss and gradients match cpu', async () => {
    const build = lossAndGrads(MLP_PARAMS, mlpValues, (p) => [mlpLoss(p)]);
    const cpu = await runOn('cpu', build);
    const gpu = await runOn('webgpu', build);
    expectClose(gpu, cpu, ['loss', ...MLP_PARAMS.map((s) => `d${s.name}`)]);
  });

  it('tiny transformer (gather, layer norm, causal attention, GELU): forward and gradients match cpu', async () => {
    const build = lossAndGrads(TRANSFORMER_PARAMS, transformerValues, (p) => transformerForward(p));
    const cpu = await runOn('cpu', build);
    const gpu = await runOn('webgpu', build);
    expectClose(gpu, cpu, ['loss', 'logits', ...TRANSFORMER_PARAMS.map((s) => `d${s.name}`)]);
  });

  it('5 Adam steps (variableGrads + applyGradients) end at the same parameters as cpu', async () => {
    const cpu = await adamSteps('cpu', mlpValues, 5);
    const gpu = await adamSteps('webgpu', mlpValues, 5);
    expectClose(
      gpu,
      cpu,
      MLP_PARAMS.map((s) => s.name),
    );
    // The parameters did move.
    expect(normRelativeError(cpu[0], mlpValues[0])).toBeGreaterThan(1e-3);
  });

  it('leaks no tensors over a full forward/backward/Adam round on webgpu', async () => {
    await tf.setBackend('webgpu');
    await adamSteps('webgpu', mlpValues, 1);
    await runOn(
      'webgpu',
      lossAndGrads(TRANSFORMER_PARAMS, transformerValues, (p) => transformerForward(p)),
    );
    const before = tf.memory().numTensors;
    await adamSteps('webgpu', mlpValues, 3);
    await runOn(
      'webgpu',
      lossAndGrads(TRANSFORMER_PARAMS, transformerValues, (p) => transformerForward(p)),
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
