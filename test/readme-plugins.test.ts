import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

const readme = readFileSync('docs/plugins.md', 'utf8'); // the plugin guide the README links to
const block = (language: string, text: string) => `\`\`\`${language}\n${text.replace(/\n$/, '')}\n\`\`\``;
const fixture = (path: string) => readFileSync(`test/fixtures/packages/${path}`, 'utf8');

test("docs/plugins.md's plugin examples are the fixture packages the installed-packages e2e test installs and runs", () => {
  expect(readme).toContain(block('json', fixture('rankwise-placement-largest/package.json')));
  expect(readme).toContain(block('js', fixture('rankwise-placement-largest/index.js')));
  expect(readme).toContain(block('ts', fixture('rankwise-placement-largest/index.d.ts')));
  expect(readme).toContain(block('js', fixture('rankwise-stage-adapter-norms/index.js')));
});

test("docs/plugins.md's plugin test is test/plugins/plugin-author-example.test.ts, importing the plugin by its package name", () => {
  const example = readFileSync('test/plugins/plugin-author-example.test.ts', 'utf8').replace(
    "import largest from '../fixtures/packages/rankwise-placement-largest/index.js';",
    "import largest from 'rankwise-placement-largest';",
  );
  expect(example).toContain("from 'rankwise-placement-largest'");
  expect(readme).toContain(block('ts', example));
});
