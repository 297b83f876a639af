import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { AnyStageDefinition } from '../contracts/stage.js';
import { builtinStage } from '../stages/builtin.js';

/** A separate ajv that writes `default`s into what it validates (the shared one never changes its input). */
let filling: Ajv2020 | null = null;
const fillers = new WeakMap<AnyStageDefinition, ValidateFunction>();

/**
 * A stage package's options with its schema's `default`s filled in (top level and nested objects, as JSON Schema
 * tools do), on a copy: `check` and `run` see `{ factor: 2 }` for a stage whose schema says `"default": 2` and a
 * pipeline that leaves it out, while the pipeline itself (its content hash, pipeline.json) stays as written.
 * Built-in stages apply their defaults in code, as their option docs say.
 */
export function withSchemaDefaults(definition: AnyStageDefinition, options: Record<string, unknown>): Record<string, unknown> {
  if (builtinStage(definition.name) === definition) return options;
  let fill = fillers.get(definition);
  if (!fill) {
    filling ??= new Ajv2020({ useDefaults: true, strict: false, allowUnionTypes: true });
    fill = filling.compile(definition.options);
    fillers.set(definition, fill);
  }
  const copy = structuredClone(options);
  fill(copy); // already validated by the shared validator: only the defaults matter here
  return copy;
}
