/** JSON values as pipeline files and configs hold them (standalone: no TensorFlow.js types). */
export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** What a model's outputs mean, which decides its loss and metrics. */
export type ModelTask = 'classification' | 'language-model';
