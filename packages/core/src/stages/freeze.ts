import { Type } from '@sinclair/typebox';
import { forgetLoadedAdapters } from '@rankwise/lora';
import { defineStage } from '../contracts/stage.js';
import { freeze } from '@rankwise/lora';

export interface FreezeResult {
  /** Parameter tensors marked not trainable. */
  frozen: number;
}

/** Every parameter becomes not trainable (before injecting adapters). */
export default defineStage<Record<never, never>, FreezeResult, 'freeze'>({
  name: 'freeze',
  description: 'Marks every parameter of the model not trainable.',
  options: Type.Object({}, { additionalProperties: false }),
  requires: ['model'],
  provides: ['frozen'],
  run(_options, ctx) {
    const model = ctx.model.require('freeze');
    forgetLoadedAdapters(model);
    const count = freeze(model);
    ctx.progress.info(`freeze: ${count} parameter tensors frozen`);
    return { frozen: count };
  },
});
