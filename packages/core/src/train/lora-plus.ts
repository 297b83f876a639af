import * as tf from '@tensorflow/tfjs';

type Gradients = Parameters<tf.Optimizer['applyGradients']>[0];

/**
 * LoRA+ (Hayou et al. 2024; PEFT's `create_loraplus_optimizer`): B learns `ratio` times faster than A. PEFT's
 * grouping: a parameter named lora_B, or any 1-D parameter (biases, DoRA's lora_magnitude_vector), gets lr·ratio;
 * every other parameter (lora_A, other matrices) gets lr.
 */
export function inLoraPlusFastGroup(variable: tf.Variable): boolean {
  return /(^|[./])lora_B$/.test(variable.name) || variable.shape.length === 1;
}

/**
 * One optimizer over two parameter groups, each with its own inner optimizer (so its own learning rate and state):
 * PyTorch's param groups. Both inner optimizers step on every call, so Adam's bias corrections stay in step.
 */
export class GroupedOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'RankwiseGroupedOptimizer';
  }

  constructor(
    readonly slow: tf.Optimizer,
    readonly fast: tf.Optimizer,
    private readonly isFast: (variable: tf.Variable) => boolean,
  ) {
    super();
  }

  override applyGradients(grads: Gradients): void {
    const list = Array.isArray(grads) ? grads : Object.entries(grads).map(([name, tensor]) => ({ name, tensor }));
    const slow: tf.NamedTensorMap = {};
    const fast: tf.NamedTensorMap = {};
    for (const { name, tensor } of list) {
      const variable = tf.engine().registeredVariables[name];
      if (!variable) throw new Error(`optimizer: gradient for "${name}", which is not a variable`);
      (this.isFast(variable) ? fast : slow)[name] = tensor;
    }
    if (Object.keys(slow).length > 0) this.slow.applyGradients(slow);
    if (Object.keys(fast).length > 0) this.fast.applyGradients(fast);
  }

  override async getWeights(): Promise<Awaited<ReturnType<tf.Optimizer['getWeights']>>> {
    return [...(await this.slow.getWeights()), ...(await this.fast.getWeights())];
  }

  override async setWeights(): Promise<void> {
    throw new Error('GroupedOptimizer: restoring optimizer state is not supported');
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { slow: this.slow.getConfig(), fast: this.fast.getConfig() };
  }

  override dispose(): void {
    this.slow.dispose();
    this.fast.dispose();
  }
}
