import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '@rankwise/cli';

const empty = mkdtempSync(join(tmpdir(), 'rankwise-empty-'));
mkdirSync(join(empty, 'sub'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function cli(args: string[]): Promise<{ code: number; errors: string[] }> {
  const errors: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => errors.push(String(line)));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, errors };
}

describe('file arguments that name no pipeline are invalid input (exit 2), for run and validate', () => {
  test.each(['validate', 'run'])('%s: a glob that matches nothing', async (command) => {
    expect(await cli([command, 'pipelines/nothing-*.json'])).toEqual({
      code: 2,
      errors: [`✖ pipelines/nothing-*.json: no file matches this glob (from ${process.cwd()})`],
    });
  });

  test.each(['validate', 'run'])('%s: a folder with no pipeline files', async (command) => {
    const folder = relative(process.cwd(), empty);
    expect(await cli([command, `${folder}/`])).toEqual({ code: 2, errors: [`✖ ${folder}: a folder with no pipeline files (*.json) in it`] });
  });

  test('a folder of pipelines expands to its files', async () => {
    expect((await cli(['validate', 'pipelines'])).code).toBe(0);
  });
});
