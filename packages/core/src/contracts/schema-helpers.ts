import { Type, type TSchema, type TUnsafe } from '@sinclair/typebox';

/**
 * Helpers for writing stage options with TypeBox (@sinclair/typebox, pinned). TypeBox was chosen over
 * json-schema-to-ts because one expression is both the JSON Schema object (plain JSON Schema 2020-12, given to
 * ajv and written to pipeline.schema.json) and, through `Static<>`, the TypeScript type: no generics over
 * `as const` literals, and composition (spread, Optional) reads like the types it produces.
 */

/** Marks a schema as shared (an enumerable symbol: TypeBox copies it when cloning, JSON and ajv ignore it): the pipeline schema generator writes it once under `$defs/<name>` and refers to it. */
export const SHARED = Symbol.for('rankwise.schema.shared');

export function shared<T extends TSchema>(name: string, schema: T): T {
  Object.defineProperty(schema, SHARED, { value: name, enumerable: true });
  return schema;
}

export function sharedName(schema: unknown): string | undefined {
  return schema !== null && typeof schema === 'object' ? ((schema as Record<symbol, unknown>)[SHARED] as string | undefined) : undefined;
}

/** `{ enum: [...] }` (ajv's message lists the allowed values) typed as the union of the strings. */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description: string; default?: T[number] }): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ enum: [...values], ...options });
}

/** A name or a non-empty list of names. */
export function NameOrNames(description: string): TUnsafe<string | string[]> {
  return Type.Unsafe<string | string[]>({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
    'x-allowed': 'a name or a non-empty list of names',
    description,
  });
}

/** A shared schema used with a description of its own (written as `{ "$ref": …, "description": … }`). */
export const SHARED_REF = Symbol.for('rankwise.schema.sharedRef');

export function describedRef<T extends TSchema>(schema: T, description: string): T {
  const copy = { ...schema, description } as T;
  Object.defineProperty(copy, SHARED_REF, { value: schema, enumerable: true });
  return copy;
}

export function sharedRefTarget(schema: unknown): TSchema | undefined {
  return schema !== null && typeof schema === 'object' ? ((schema as Record<symbol, unknown>)[SHARED_REF] as TSchema | undefined) : undefined;
}
