import { Type } from '@sinclair/typebox';
import { defineStage } from '../contracts/stage.js';
import { snapshotAdapter } from '@rankwise/formats';
import { mergeAndUnload } from '@rankwise/lora';
import { assertFiniteParameters } from '../train/finite-guard.js';

export interface MergeResult {
  /** Adapters folded into their weights. */
  merged: number;
}

/** W ← W + scaling·A·B and back to plain Linear layers; the adapter is kept aside so `save` can still write it. */
export default defineStage<Record<never, never>, MergeResult, 'merge'>({
  name: 'merge',
  description: "Folds W + scaling·A·B into plain Linear layers (PEFT's merge_and_unload).",
  options: Type.Object({}, { additionalProperties: false }),
  requires: ['model', 'adapter'],
  provides: ['merged-adapter'],
  removes: ['adapter'],
  check(_options, ctx) {
    // PEFT merges into a 4-bit base by dequantizing, adding s·A·B and quantizing again, which rounds the merged
    // weights to NF4 once more; rankwise refuses instead.
    if (ctx.has('quantized'))
      ctx.issue(
        '',
        'the base model is stored quantized (load.quantize): merging adapters into quantized weights is refused (PEFT dequantizes, merges and quantizes again, losing the adapter\'s precision); save the adapter, or load the base without "quantize" in a pipeline that merges',
      );
    ctx.adaptedSites.clear();
  },
  async run(_options, ctx) {
    const model = ctx.model.require('merge');
    ctx.adapters.keep(snapshotAdapter(model));
    const count = mergeAndUnload(model);
    if (count === 0) throw new Error('merge: the model has no LoRA layers');
    await assertFiniteParameters(model, 'merge', 'the merged weights are not finite; nothing was saved');
    ctx.progress.info(`merge: ${count} adapters folded into their weights (no extra inference cost)`);
    return { merged: count };
  },
});
