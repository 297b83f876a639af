import { Type, type Static } from '@sinclair/typebox';
import type { JsonObject } from '@rankwise/core';
import { initOptionSchema, rsloraOptionSchema, variantOptionSchemas } from '@rankwise/lora';
import { shared } from '@rankwise/core/internal';

/** The `grid` key of a pipeline: its schema and type from one TypeBox source (given to core as a pipeline section). */
export const GridSchema = shared(
  'grid',
  Type.Object(
    {
      rank: Type.Array(Type.Integer({ minimum: 1, maximum: 4096 }), { minItems: 1, uniqueItems: true, description: 'The ranks to try (one column each).' }),
      placement: Type.Array(
        Type.Object(
          {
            label: Type.String({ minLength: 1, maxLength: 40, description: 'Name of the row in tables and plots.' }),
            plugin: Type.String({ minLength: 1, description: 'Placement plugin package or short name.' }),
            options: Type.Optional(Type.Unsafe<JsonObject>({ type: 'object', description: "Validated against the plugin's own options schema." })),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, description: 'The placements to try (one row each).' },
      ),
      variant: Type.Optional(
        Type.Array(
          Type.Object(
            {
              label: Type.String({ minLength: 1, maxLength: 40, description: 'Name of the variant in tables and plots.' }),
              alpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "Inject alpha for this variant (over the grid's alpha rule)." })),
              dropout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Inject dropout for this variant.' })),
              rslora: rsloraOptionSchema('grid'),
              ...variantOptionSchemas('grid'), // one flag per LoRA variant (lora/variants/registry.ts)
              init: initOptionSchema('grid'),
              loraPlusRatio: Type.Optional(
                Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: "LoRA+: every train stage's lora_B learns at lr · ratio." }),
              ),
            },
            { additionalProperties: false },
          ),
          {
            minItems: 1,
            description:
              'A third axis: labelled sets of inject options (and the LoRA+ ratio), e.g. { "label": "DoRA", "dora": true }, { "label": "PiSSA", "init": "pissa" }. Every (placement, rank) runs once per variant; the report draws one heatmap per variant and colours the trade-off plot by variant.',
          },
        ),
      ),
      alpha: Type.Optional(
        Type.Unsafe<number | string>({
          description: 'A fixed alpha for every cell, or proportional to rank: "2r", "r", "0.5r".',
          oneOf: [
            { type: 'number', exclusiveMinimum: 0 },
            { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?)?r$' },
          ],
          'x-allowed': 'a positive number, or a multiple of r such as "2r", "r", "0.5r"',
        }),
      ),
      fullFineTune: Type.Optional(
        Type.Unsafe<boolean | { lr: number }>({
          oneOf: [
            { type: 'boolean' },
            {
              type: 'object',
              additionalProperties: false,
              required: ['lr'],
              properties: { lr: { type: 'number', exclusiveMinimum: 0, maximum: 10, description: 'Learning rate of the full fine-tuning cell.' } },
            },
          ],
          'x-allowed': 'true, false, or { "lr": <number> } to train the corner with its own learning rate',
          default: false,
          description: 'Add the far corner: every parameter trained (optionally with its own learning rate).',
        }),
      ),
      metric: Type.Optional(
        Type.String({ minLength: 1, description: 'Metric for the heatmap colour (default accuracy, or bitsPerChar for language models).' }),
      ),
      evaluation: Type.Optional(Type.String({ minLength: 1, description: 'Label of the evaluate stage whose metrics the grid reports (default: the last).' })),
      retained: Type.Optional(
        Type.String({
          minLength: 1,
          description:
            'Label of a second evaluate stage that measures a task the model should retain (e.g. the pretraining corpus): the report plots the grid metric on both evaluations per cell, learning vs forgetting, with the frontier.',
        }),
      ),
    },
    { description: 'Expressivity vs rank: runs the stages once per (rank, placement) cell, plus full fine-tuning.', additionalProperties: false },
  ),
);

export type GridSpec = Static<typeof GridSchema>;
export type GridPlacementSpec = GridSpec['placement'][number];
export type GridVariantSpec = NonNullable<GridSpec['variant']>[number];
