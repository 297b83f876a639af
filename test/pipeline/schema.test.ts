import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { getLanguageService, TextDocument, type JSONSchema } from 'vscode-json-languageservice';
import { BUILTIN_STAGES, buildPipelineSchema, createRankwise, PIPELINE_SCHEMA_PATH, STAGE_NAMES } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { main } from '@rankwise/cli';
import { pluginProject } from '../helpers/plugin-project.js';

afterEach(() => vi.restoreAllMocks());

type Node = Record<string, unknown>;

/** Every `properties` entry that declares a field (not the conditions inside if / not / anyOf), with its path. */
function properties(schema: unknown, path = ''): Array<{ path: string; schema: Node }> {
  if (schema === null || typeof schema !== 'object') return [];
  if (Array.isArray(schema)) return schema.flatMap((s, i) => properties(s, `${path}/${i}`));
  const node = schema as Node;
  const own =
    node.properties && typeof node.properties === 'object'
      ? Object.entries(node.properties as Node).map(([key, value]) => ({ path: `${path}/properties/${key}`, schema: value as Node }))
      : [];
  const declared = own.filter((p) => !(Object.keys(p.schema).length === 1 && 'const' in p.schema));
  return [
    ...declared,
    ...Object.entries(node)
      .filter(([key]) => key !== 'if' && key !== 'not')
      .flatMap(([key, value]) => properties(value, `${path}/${key}`)),
  ];
}

describe('the pipeline schema is generated from the stage definitions', () => {
  test('the committed pipeline.schema.json is exactly what `rankwise schema` writes here (regenerate it when this fails)', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'rankwise-schema-')), 'pipeline.schema.json');
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['schema', '--out', out])).toBe(0);
    const generated = await readFile(out, 'utf8');
    expect(await readFile(PIPELINE_SCHEMA_PATH, 'utf8')).toBe(generated);
    const schema = JSON.parse(generated) as Node;
    // it carries every built-in stage and, in this repository, both built-in placement plugins' options
    expect(Object.keys(schema.$defs as Node)).toEqual(expect.arrayContaining(['loadStage', 'injectStage', 'trainStage', 'saveStage']));
    expect(JSON.stringify(schema)).toContain('"rankPattern"');
  });

  test("every property has a description (stages, data, grid, and the built-in placement plugins' options)", async () => {
    const all = properties(JSON.parse(await readFile(PIPELINE_SCHEMA_PATH, 'utf8')));
    expect(all.length).toBeGreaterThan(60);
    expect(all.filter((p) => typeof p.schema.description !== 'string' || p.schema.description === '').map((p) => p.path)).toEqual([]);
  });

  test('the stage property is open: built-in names or an npm package name; one if/then per stage', () => {
    const schema = buildPipelineSchema() as Node;
    const stage = (schema.$defs as Record<string, Node>).stage;
    expect(JSON.stringify((stage.properties as Node).stage)).toContain('"pattern"');
    // one if/then per stage of the registry, in its order (nothing lists the names by hand)
    const conditioned = (stage.allOf as Array<{ if: { properties: { stage: { const: string } } } }>).map((c) => c.if.properties.stage.const);
    expect(conditioned).toEqual(BUILTIN_STAGES.map((s) => s.name));
    expect(conditioned).toEqual([...STAGE_NAMES]);
    expect(conditioned).toContain('generate');
  });
});

describe('editor completion in a user project (vscode-json-languageservice)', () => {
  const pipelineText = (options: string, stageOptions: string) =>
    `{
  "name": "demo",
  "stages": [
    { "stage": "load", "architecture": "mlp", "config": { "sizes": [784, 32, 10] } },
    { "stage": "inject", "r": 4, "placement": { "plugin": "@acme/placement-largest", "options": ${options} } },
    { "stage": "rankwise-stage-scale-lr", ${stageOptions} }
  ]
}`;

  async function languageService(): Promise<{
    complete(text: string): Promise<string[]>;
    diagnose(text: string): Promise<Array<{ line: number; message: string }>>;
  }> {
    const { dir, loader } = await pluginProject();
    const schema = (await createRankwise({ cwd: dir, loader, progress: new SilentProgress() }).pipelineSchema()) as JSONSchema;
    const service = getLanguageService({});
    service.configure({ validate: true, schemas: [{ uri: 'https://rankwise.dev/schema/pipeline.schema.json', fileMatch: ['*.json'], schema }] });
    const parse = (text: string) => {
      const document = TextDocument.create('file:///project/pipelines/demo.json', 'json', 1, text);
      return { document, json: service.parseJSONDocument(document) };
    };
    return {
      async complete(text) {
        const offset = text.indexOf('|');
        const { document, json } = parse(text.replace('|', ''));
        const list = await service.doComplete(document, document.positionAt(offset), json);
        return (list?.items ?? []).map((item) => item.label);
      },
      async diagnose(text) {
        const { document, json } = parse(text);
        return (await service.doValidation(document, json)).map((d) => ({
          line: d.range.start.line,
          message: typeof d.message === 'string' ? d.message : d.message.value,
        }));
      },
    };
  }

  test("an installed placement plugin's option key completes, and a bad value is flagged on its line", async () => {
    const ls = await languageService();
    expect(await ls.complete(pipelineText('{ | }', '"factor": 2'))).toContain('count');
    expect(await ls.diagnose(pipelineText('{ "count": 2 }', '"factor": 2'))).toEqual([]);
    const bad = await ls.diagnose(pipelineText('{ "count": "many" }', '"factor": 2'));
    expect(bad).toHaveLength(1);
    expect(bad[0].line).toBe(4);
    expect(bad[0].message).toMatch(/integer/i);
  });

  test("an installed stage package's options complete and are checked", async () => {
    const ls = await languageService();
    expect(await ls.complete(pipelineText('{ "count": 2 }', '|'))).toContain('factor');
    const bad = await ls.diagnose(pipelineText('{ "count": 2 }', '"factor": -1'));
    expect(bad).toHaveLength(1);
    expect(bad[0].line).toBe(5);
  });
});
