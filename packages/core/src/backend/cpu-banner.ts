import * as tf from '@tensorflow/tfjs';

const QUIET = Symbol.for('rankwise.quietCpuFactory');

function quiet(backend: unknown): void {
  const b = backend as { firstUse?: unknown } | null;
  if (b && typeof b.firstUse === 'boolean') b.firstUse = false;
}

/**
 * tfjs's CPU backend prints "Hi, looks like you are running TensorFlow.js in Node.js … install our node backend" on
 * the first tensor each instance stores. rankwise chooses and names its backend itself (`resolveBackend` says which
 * and why), so building a model from code before that printed advice that does not apply. Every CPU backend instance
 * tfjs creates from now on starts marked as used, which silences exactly that message; other tfjs warnings stay.
 */
export function silenceCpuBanner(): void {
  const engine = tf.engine();
  const entry = engine.registryFactory.cpu as { factory: () => unknown; [QUIET]?: true } | undefined;
  if (entry && !entry[QUIET]) {
    const make = entry.factory;
    entry.factory = () => {
      const backend = make();
      quiet(backend);
      return backend;
    };
    entry[QUIET] = true;
  }
  quiet(engine.registry.cpu);
}
