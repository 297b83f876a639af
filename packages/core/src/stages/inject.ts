import { Type, type Static } from '@sinclair/typebox';
import { describedRef, shared } from '../contracts/schema-helpers.js';
import { defineStage } from '../contracts/stage.js';
import { injectAdapters, type InjectTarget } from '@rankwise/lora';
import { BUILTIN_LORA_VARIANTS, initMovesBase, initOptionSchema, PLAIN_LORA, rsloraOptionSchema, variantOf, variantOptionSchemas } from '@rankwise/lora';
import { parameterReport } from '@rankwise/lora';
import type { JsonObject } from '@rankwise/models';
import { listSites } from '@rankwise/models';

export const PlacementSchema = shared(
  'placement',
  Type.Object(
    {
      plugin: Type.String({
        minLength: 1,
        description:
          'The placement plugin: an npm package name, found from the pipeline file\'s folder upwards ("pattern" and "attention" name the built-ins). Paths and URLs are refused.',
      }),
      options: Type.Optional(Type.Unsafe<JsonObject>({ type: 'object', description: "Validated against the plugin's own options schema." })),
    },
    { additionalProperties: false, description: 'Which sites get adapters: a placement plugin and its options.' },
  ),
);

const InjectOptions = Type.Object(
  {
    r: Type.Integer({ minimum: 1, maximum: 4096, description: 'Rank of the update ΔW = A·B.' }),
    alpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Scaling numerator: scaling = alpha / r (default alpha = r).' })),
    dropout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0, description: 'Dropout on the LoRA path (training only).' })),
    rslora: rsloraOptionSchema('inject'),
    ...variantOptionSchemas('inject'), // one flag per LoRA variant (lora/variants/registry.ts)
    init: initOptionSchema('inject'),
    placement: describedRef(PlacementSchema, 'Which sites get adapters: a placement plugin and its options.'),
  },
  { description: 'Adds LoRA factors A [in, r], B [r, out] to the sites the placement plugin selects.', additionalProperties: false },
);
export type InjectOptions = Static<typeof InjectOptions>;

export interface InjectResult {
  /** Every site injected, with its rank, alpha, rsLoRA flag and dropout. */
  sites: InjectTarget[];
  trainableParams: number;
  totalParams: number;
}

/** Asks the placement plugin which sites to adapt, then wraps each in a LoraLinear (outputs unchanged: B = 0, or PiSSA / OLoRA's residual). */
export default defineStage<InjectOptions, InjectResult, 'inject'>({
  name: 'inject',
  description: 'Adds LoRA factors A [in, r], B [r, out] to the sites the placement plugin selects.',
  options: InjectOptions,
  requires: ['model'],
  provides: ['adapter'],
  async check(options, ctx) {
    if (ctx.has('named-adapters')) {
      ctx.issue(
        '',
        'found after load.adapters: the new adapter would sit inactive beside the named ones (PEFT\'s add_adapter); allowed: train a loaded adapter by making it "active", or load one adapter with "adapter"',
      );
    }
    const chosen = await ctx.placement(options.placement, '/placement');
    if (ctx.has('quantized') && options.dora)
      ctx.issue('/dora', `found true, but the base model is stored quantized (load.quantize): DoRA reads W (its column norms); allowed: false`);
    if (ctx.has('quantized') && (options.init === 'pissa' || options.init === 'olora'))
      ctx.issue(
        '/init',
        `found "${options.init}", but the base model is stored quantized (load.quantize): ${options.init} rewrites W; allowed: kaiming, gaussian`,
      );
    for (const choice of chosen ?? []) {
      if (ctx.adaptedSites.has(choice.path)) ctx.issue('/placement', `site "${choice.path}" already has a LoRA adapter`);
      ctx.adaptedSites.add(choice.path);
    }
    if (chosen && ctx.model && options.init !== undefined && initMovesBase(options.init)) {
      // Inits that move part of W (PiSSA, OLoRA) take r components of it: every chosen site needs r ≤ min(in, out).
      const sites = new Map(ctx.model.sites.map((s) => [s.path, s]));
      const tooSmall = chosen.flatMap((c) => {
        const site = sites.get(c.path);
        const r = c.r ?? options.r;
        return site && r > Math.min(site.inFeatures, site.outFeatures) ? [`${c.path} [${site.inFeatures}, ${site.outFeatures}] at r = ${r}`] : [];
      });
      if (tooSmall.length)
        ctx.issue(
          '/init',
          `init "${options.init}" takes r components of W, so r must be at most min(in, out) of every adapted site; too small: ${tooSmall.join(', ')}`,
        );
    }
  },
  async run(options, ctx) {
    const model = ctx.model.require('inject');
    const chosen = await ctx.placement.select(options.placement, listSites(model), `${ctx.pointer}/placement`);
    const alpha = options.alpha ?? options.r;
    const targets: InjectTarget[] = chosen.map((c) => ({
      path: c.path,
      r: c.r ?? options.r,
      alpha: c.alpha ?? alpha,
      rslora: options.rslora ?? false,
      dropout: options.dropout ?? 0,
      ...variantFlags(options),
      init: options.init ?? 'kaiming',
    }));
    await injectAdapters(model, targets, ctx.seed);
    const report = parameterReport(model);
    const ranks = describeTargets(targets);
    const chosenVariant = variantOf(options);
    const variant = [chosenVariant.name !== PLAIN_LORA ? chosenVariant.label : '', options.init && options.init !== 'kaiming' ? `${options.init} init` : '']
      .filter(Boolean)
      .join(', ');
    ctx.progress.info(`inject: ${targets.length} sites (${ranks})${variant ? `; ${variant}` : ''}`);
    ctx.progress.info(`inject: ${report.text}`);
    return { sites: targets, trainableParams: report.trainable, totalParams: report.total };
  },
});

/** Each built-in variant's flag as the options set it (false when absent): `{ dora: false }`. */
function variantFlags(options: InjectOptions): Record<string, boolean> {
  return Object.fromEntries(
    BUILTIN_LORA_VARIANTS.flatMap((v) => (v.option ? [[v.option.key, (options as Record<string, unknown>)[v.option.key] === true]] : [])),
  );
}

/** Every site with its rank and alpha; for more than 8 sites (a 30-layer model), the first two, the last, and the counts per setting. */
function describeTargets(targets: readonly InjectTarget[]): string {
  const setting = (t: InjectTarget) => `r=${t.r} α=${t.alpha}`;
  if (targets.length <= 8) return targets.map((t) => `${t.path} ${setting(t)}`).join(', ');
  const counts = new Map<string, number>();
  for (const t of targets) counts.set(setting(t), (counts.get(setting(t)) ?? 0) + 1);
  const paths = [targets[0].path, targets[1].path, '…', targets[targets.length - 1].path].join(', ');
  return `${paths}; ${[...counts].map(([s, n]) => `${n} at ${s}`).join(', ')}`;
}
