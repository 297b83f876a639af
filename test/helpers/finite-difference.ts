import * as tf from '@tensorflow/tfjs';
import { take, values } from './numeric.js';

export interface GradientCheck {
  name: string;
  index: number;
  analytic: number;
  numeric: number;
  /** |analytic − numeric| / max(|analytic|, |numeric|, 1e-3) */
  relativeError: number;
}

/**
 * Central finite differences (f(w+ε) − f(w−ε)) / 2ε on chosen entries of each variable, against tf.variableGrads.
 * Every variable is restored exactly afterwards.
 */
export async function checkGradients(
  lossOf: () => tf.Scalar,
  variables: tf.Variable[],
  pickIndices: (size: number) => number[],
  eps = 1e-2,
): Promise<GradientCheck[]> {
  const { grads, value } = tf.variableGrads(lossOf, variables);
  value.dispose();
  const checks: GradientCheck[] = [];
  for (const variable of variables) {
    const analytic = await take(grads[variable.name]);
    const base = await values(variable);
    for (const index of pickIndices(base.length)) {
      const at = async (delta: number): Promise<number> => {
        const shifted = base.slice();
        shifted[index] += delta;
        tf.tidy(() => variable.assign(tf.tensor(shifted, variable.shape)));
        return (await take(lossOf()))[0];
      };
      const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      tf.tidy(() => variable.assign(tf.tensor(base, variable.shape)));
      const a = analytic[index];
      checks.push({ name: variable.name, index, analytic: a, numeric, relativeError: Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), 1e-3) });
    }
  }
  return checks;
}
