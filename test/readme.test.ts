import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

const readme = readFileSync('README.md', 'utf8');
const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].split('\n').filter((l) => l && !l.startsWith('#')));

test('the README opens with the main-job command and the test command, and .ci/run runs the test command', () => {
  const [main, tests] = blocks;
  expect(main).toEqual(['npx -y pnpm@12.4.2 install --frozen-lockfile && npx -y pnpm@12.4.2 rankwise run pipelines/digits-lora.json']);
  expect(tests).toEqual(['npx -y pnpm@12.4.2 install --frozen-lockfile && npx -y pnpm@12.4.2 test']);
  expect(readme.indexOf('```sh')).toBeLessThan(400); // the two commands come first
  const ci = readFileSync('.ci/run', 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  expect(ci[ci.length - 1]).toBe(tests[0]);
});
