import { BACKEND_REQUESTS } from '../backend/resolve.js';
import { sharedName, sharedRefTarget } from '../contracts/schema-helpers.js';
import type { AnyStageDefinition } from '../contracts/stage.js';
import type { JsonObject } from '@rankwise/models';
import type { PlacementPlugin } from '../contracts/placement.js';
import { BUILTIN_STAGES, STAGE_NAMES } from '../stages/builtin.js';
import type { PipelineSection } from './section.js';
import type { AnyDatasetDefinition } from '../contracts/dataset.js';
import { BUILTIN_DATASETS } from '../datasets/builtin.js';

export const PIPELINE_SCHEMA_ID = 'https://rankwise.dev/schema/pipeline.schema.json';

/** npm's rule for package names (scoped or unscoped, lower case). */
export const PACKAGE_NAME_PATTERN = '^(@[a-z0-9-~][a-z0-9-._~]*/)?[a-z0-9-~][a-z0-9-._~]*$';

/** What the pipeline schema is generated from. */
export interface SchemaSources {
  /** Stage definitions: the built-ins, then installed stage packages. */
  stages?: readonly AnyStageDefinition[];
  /** Placement plugins whose options schema an editor should apply (selected by `placement.plugin`). */
  placements?: ReadonlyArray<{ plugin: Pick<PlacementPlugin<unknown>, 'name' | 'description' | 'optionsSchema'>; aliases?: readonly string[] }>;
  /** Dataset definitions: the built-ins, then installed dataset packages (each selected by `data.dataset`). */
  datasets?: ReadonlyArray<Pick<AnyDatasetDefinition, 'name' | 'description' | 'options'>>;
  /** Top-level keys other packages own (the grid's `grid`), after `stages`. */
  sections?: readonly Pick<PipelineSection, 'key' | 'schema'>[];
}

type Schema = Record<string, unknown>;

/**
 * Writes shared TypeBox schemas (marked with `shared()` / `describedRef()`) once under `$defs` and refers to them;
 * copies everything else as plain JSON (symbol keys, TypeBox's bookkeeping, are dropped).
 */
class Hoister {
  readonly defs: Record<string, unknown> = {};

  value(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.value(v));
    if (value === null || typeof value !== 'object') return value;
    const target = sharedRefTarget(value);
    if (target) return { $ref: this.define(target), description: (value as Schema).description };
    if (sharedName(value)) return { $ref: this.define(value) };
    return this.object(value as Schema);
  }

  object(schema: Schema): Schema {
    const out: Schema = {};
    for (const [key, v] of Object.entries(schema)) out[key] = this.value(v);
    return out;
  }

  define(schema: object): string {
    const name = sharedName(schema)!;
    if (!(name in this.defs)) {
      this.defs[name] = null; // reserve the slot (and the order) before walking
      this.defs[name] = this.object(schema as Schema);
    }
    return `#/$defs/${name}`;
  }
}

const defKey = (stage: AnyStageDefinition): string => (STAGE_NAMES.includes(stage.name as never) ? `${stage.name}Stage` : `stage:${stage.name}`);
const refTo = (key: string): string => `#/$defs/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** A whole stage object: `stage` and `label`, then the stage's own options. */
export function stageObjectSchema(
  stage: AnyStageDefinition,
  label: unknown = { $ref: '#/$defs/label', description: 'Name of the stage in summaries.' },
): Schema {
  const options = stage.options as Schema;
  const { properties, required, ...rest } = options;
  return {
    ...rest,
    type: 'object',
    required: ['stage', ...((required as string[] | undefined) ?? [])],
    properties: {
      stage: { const: stage.name, description: stage.description },
      label,
      ...((properties as Schema | undefined) ?? {}),
    },
  };
}

/** The pipeline JSON Schema, generated from the stage definitions (and, for editors, installed plugins). */
export function buildPipelineSchema(sources: SchemaSources = {}): JsonObject {
  const stages = sources.stages ?? BUILTIN_STAGES;
  const hoist = new Hoister();
  hoist.defs.label = { type: 'string', minLength: 1, maxLength: 80, description: 'Name of the stage in summaries.' };
  const external = stages.filter((s) => !STAGE_NAMES.includes(s.name as never)).map((s) => s.name);
  hoist.defs.stage = {
    type: 'object',
    required: ['stage'],
    properties: {
      stage: {
        anyOf: [{ enum: [...STAGE_NAMES, ...external] }, { type: 'string', pattern: PACKAGE_NAME_PATTERN }],
        'x-allowed': `${STAGE_NAMES.map((n) => JSON.stringify(n)).join(', ')} or the npm name of a stage package`,
        description: 'What this stage does: a built-in stage, or the npm package name of an installed stage package.',
      },
    },
    allOf: stages.map((s) => ({ if: { properties: { stage: { const: s.name } } }, then: { $ref: refTo(defKey(s)) } })),
  };
  for (const stage of stages) {
    hoist.defs[defKey(stage)] = null; // keep the stage before the shared schemas it brings
    hoist.defs[defKey(stage)] = hoist.object(stageObjectSchema(stage));
  }
  const sections = Object.fromEntries(
    (sources.sections ?? []).map(({ key, schema }) => [key, { ...(hoist.value(schema) as Schema), description: schema.description }]),
  );
  addPlacementOptions(hoist, sources.placements ?? []);
  addDatasets(hoist, sources.datasets ?? BUILTIN_DATASETS);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: PIPELINE_SCHEMA_ID,
    title: 'rankwise pipeline',
    description: 'A LoRA fine-tuning run: stages run in order on one model. Generated by `rankwise schema` from the stage definitions.',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'stages'],
    properties: {
      $schema: { type: 'string', description: 'Path or URL of this schema, for editors.' },
      name: {
        type: 'string',
        pattern: '^[a-z0-9][a-z0-9._-]*$',
        maxLength: 80,
        description: "Run directory name under runs/: lower-case letters, digits, '.', '_' and '-'.",
      },
      description: { type: 'string', description: 'What the pipeline is for (free text).' },
      seed: { type: 'integer', minimum: 0, maximum: 4294967295, default: 0, description: 'Seeds init, data order, splits and dropout.' },
      backend: { enum: [...BACKEND_REQUESTS], default: 'auto', description: 'TensorFlow.js backend; auto picks the fastest available.' },
      allowLargeRuns: {
        type: 'boolean',
        default: false,
        description:
          "Accept sizes that validation would refuse as likely mistakes (more than 10 million steps, a model whose training state exceeds this machine's memory).",
      },
      stages: { type: 'array', minItems: 1, items: { $ref: '#/$defs/stage' }, description: 'The stages, run in order on one model.' },
      ...sections,
    },
    $defs: hoist.defs as JsonObject,
  } as JsonObject;
}

/** Editors: `placement.options` checked against the chosen plugin's options schema (if/then on `plugin`). */
function addPlacementOptions(hoist: Hoister, placements: NonNullable<SchemaSources['placements']>): void {
  const placement = hoist.defs.placement as Schema | undefined;
  if (!placement || placements.length === 0) return;
  const names = placements.flatMap((p) => [p.plugin.name, ...(p.aliases ?? [])]);
  const properties = placement.properties as Schema;
  properties.plugin = { ...(properties.plugin as Schema), examples: names };
  placement.allOf = placements.map(({ plugin, aliases = [] }) => ({
    if: { properties: { plugin: { enum: [plugin.name, ...aliases] } }, required: ['plugin'] },
    then: { properties: { options: { ...hoist.object(plugin.optionsSchema as Schema), description: `Options of ${plugin.name}: ${plugin.description}` } } },
  }));
}

/**
 * A data object's whole schema from a dataset's options: `dataset` (the name) plus the options' own properties,
 * nothing else. Built-ins whose shared schema already names `dataset` are used as they are.
 */
export function dataObjectSchema(dataset: Pick<AnyDatasetDefinition, 'name' | 'description' | 'options'>): Schema {
  const options = dataset.options as Schema;
  const properties = (options.properties ?? {}) as Schema;
  if ('dataset' in properties) return options;
  return {
    ...options,
    type: 'object',
    properties: { dataset: { const: dataset.name, description: dataset.description }, ...properties },
    required: ['dataset', ...((options.required as string[] | undefined) ?? [])],
    additionalProperties: options.additionalProperties ?? false,
  };
}

const isBuiltinDataset = (name: string): boolean => BUILTIN_DATASETS.some((d) => d.name === name);

/**
 * `$defs/data`: `dataset` is a registered dataset or the npm name of a dataset package, and the data object is checked
 * against the schema of the dataset it names (if/then on `dataset`). Packages not installed at generation time are
 * accepted by name here; validation then checks their options against the package's own schema.
 */
function addDatasets(hoist: Hoister, datasets: ReadonlyArray<Pick<AnyDatasetDefinition, 'name' | 'description' | 'options'>>): void {
  const names = datasets.map((d) => d.name);
  const builtins = names.filter(isBuiltinDataset);
  hoist.defs.data = {
    type: 'object',
    required: ['dataset'],
    properties: {
      dataset: {
        anyOf: [{ enum: names }, { type: 'string', pattern: PACKAGE_NAME_PATTERN, not: { enum: builtins } }],
        'x-allowed': `${builtins.map((n) => JSON.stringify(n)).join(', ')} or the npm name of a dataset package`,
        description: `The dataset: a built-in (${builtins.join(', ')}) or the npm package name of an installed dataset package.`,
      },
    },
    allOf: datasets.map((d) => ({ if: { properties: { dataset: { const: d.name } }, required: ['dataset'] }, then: hoist.value(dataObjectSchema(d)) })),
    description: 'The data a stage reads.',
  };
}
