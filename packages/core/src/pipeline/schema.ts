import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { AnyStageDefinition } from '../contracts/stage.js';
import type { JsonObject } from '@rankwise/models';
import { builtinStage } from '../stages/builtin.js';
import { buildPipelineSchema, PIPELINE_SCHEMA_ID, stageObjectSchema } from './schema-build.js';
import type { PipelineSection } from './section.js';

/** Absolute path of the JSON Schema core ships (pipeline files point `$schema` at it); `rankwise schema` writes it. */
export const PIPELINE_SCHEMA_PATH = fileURLToPath(new URL('../../schema/pipeline.schema.json', import.meta.url));

let cachedSchema: JsonObject | null = null;

/** The schema validation uses: generated from the built-in stage definitions. */
export function pipelineSchema(): JsonObject {
  cachedSchema ??= buildPipelineSchema();
  return cachedSchema;
}

/** One Ajv for the pipeline schema and every plugin's options schema (compiled once each). */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
  ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-allowed', schemaType: 'string' });
  return ajv;
}

let ajvInstance: Ajv2020 | null = null;
let pipelineValidator: ValidateFunction | null = null;
const optionValidators = new WeakMap<object, ValidateFunction>();

export function sharedAjv(): Ajv2020 {
  ajvInstance ??= createAjv();
  return ajvInstance;
}

const sectionValidators = new Map<string, { sections: readonly PipelineSection[]; validate: ValidateFunction }>();

/** Validates a whole pipeline object; `sections`: the top-level keys other packages own (compiled once per set). */
export function validatePipelineSchema(data: unknown, sections: readonly PipelineSection[] = []): ValidateFunction {
  if (sections.length === 0) {
    if (!pipelineValidator) {
      const id = pipelineSchema().$id as string;
      pipelineValidator = sharedAjv().getSchema(id) ?? sharedAjv().compile(pipelineSchema());
    }
    pipelineValidator(data);
    return pipelineValidator;
  }
  const key = sections.map((s) => s.key).join(',');
  let entry = sectionValidators.get(key);
  if (!entry || entry.sections.some((s, i) => s.schema !== sections[i]?.schema)) {
    // its own $id: the stage validators refer to the plain pipeline schema's $defs by the shared one
    const schema = { ...buildPipelineSchema({ sections }), $id: `${PIPELINE_SCHEMA_ID.replace(/\.schema\.json$/, '')}+${key}.schema.json` };
    entry = { sections, validate: sharedAjv().compile(schema) };
    sectionValidators.set(key, entry);
  }
  entry.validate(data);
  return entry.validate;
}

/** Compiles (once per schema object) and runs a plugin's options schema. */
export function validateAgainst(schema: Record<string, unknown>, data: unknown): ValidateFunction {
  let validate = optionValidators.get(schema);
  if (!validate) {
    validate = sharedAjv().compile(schema);
    optionValidators.set(schema, validate);
  }
  validate(data);
  return validate;
}

const stageValidators = new WeakMap<object, ValidateFunction>();

/** Validates one stage object (`stage`, `label` and the stage's options) against its definition's schema. */
export function validateStageObject(stage: AnyStageDefinition, data: unknown): ValidateFunction {
  let validate = stageValidators.get(stage);
  if (!validate) {
    const label = { type: 'string', minLength: 1, maxLength: 80, description: 'Name of the stage in summaries.' };
    const id = pipelineSchema().$id as string;
    if (!sharedAjv().getSchema(id)) sharedAjv().addSchema(pipelineSchema());
    // Built-ins refer to shared $defs of the pipeline schema; stage packages bring plain JSON Schema.
    validate = sharedAjv().compile(builtinKey(stage) ? { $ref: `${id}#/$defs/${builtinKey(stage)}` } : stageObjectSchema(stage, label));
    stageValidators.set(stage, validate);
  }
  validate(data);
  return validate;
}

function builtinKey(stage: AnyStageDefinition): string | null {
  return builtinStage(stage.name) === stage ? `${stage.name}Stage` : null;
}
