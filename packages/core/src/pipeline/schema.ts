import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { JsonObject } from '../nn/model.js';

/** Absolute path of the JSON Schema core ships (pipeline files point `$schema` at it). */
export const PIPELINE_SCHEMA_PATH = fileURLToPath(new URL('../../schema/pipeline.schema.json', import.meta.url));

let cachedSchema: JsonObject | null = null;

export function pipelineSchema(): JsonObject {
  cachedSchema ??= JSON.parse(readFileSync(PIPELINE_SCHEMA_PATH, 'utf8')) as JsonObject;
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

export function validatePipelineSchema(data: unknown): ValidateFunction {
  if (!pipelineValidator) {
    const id = pipelineSchema().$id as string;
    pipelineValidator = sharedAjv().getSchema(id) ?? sharedAjv().compile(pipelineSchema());
  }
  pipelineValidator(data);
  return pipelineValidator;
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

let stageValidator: ValidateFunction | null = null;

/** Validates one stage object against `$defs/stage` (for stages called from code). */
export function validateStageSchema(data: unknown): ValidateFunction {
  if (!stageValidator) {
    const id = pipelineSchema().$id as string;
    if (!sharedAjv().getSchema(id)) sharedAjv().addSchema(pipelineSchema());
    stageValidator = sharedAjv().compile({ $ref: `${id}#/$defs/stage` });
  }
  stageValidator(data);
  return stageValidator;
}
