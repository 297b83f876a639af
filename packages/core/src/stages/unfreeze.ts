import { Type } from '@sinclair/typebox';
import { forgetLoadedAdapters } from '@rankwise/lora';
import { defineStage } from '../contracts/stage.js';
import { unfreeze } from '@rankwise/lora';

export interface UnfreezeResult {
  /** Parameter tensors marked trainable. */
  trainable: number;
}

/** Every parameter becomes trainable (full fine-tuning). */
export default defineStage<Record<never, never>, UnfreezeResult, 'unfreeze'>({
  name: 'unfreeze',
  description: 'Marks every parameter trainable (full fine-tuning).',
  options: Type.Object({}, { additionalProperties: false }),
  requires: ['model'],
  provides: [],
  removes: ['frozen'],
  check(_options, ctx) {
    if (ctx.has('quantized'))
      ctx.issue(
        '',
        `the base model is stored quantized (load.quantize): full fine-tuning of quantized weights is not possible; load without "quantize", or freeze and inject adapters (QLoRA)`,
      );
  },
  run(_options, ctx) {
    const model = ctx.model.require('unfreeze');
    forgetLoadedAdapters(model);
    const count = unfreeze(model);
    ctx.progress.info(`unfreeze: ${count} parameter tensors trainable`);
    return { trainable: count };
  },
});
