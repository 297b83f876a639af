import { afterEach, expect, test, vi } from 'vitest';
import { validateInProcess } from '../helpers/validate-in-process.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const validate = validateInProcess;

test('bad chat and completion records: exit 2, one line each with the file, line and pointer; nothing loads', async () => {
  const { code, errors } = await validate('test/fixtures/bad-data/chat.json');
  expect(code).toBe(2);
  expect(errors).toEqual([
    expect.stringMatching(/^✖ test\/fixtures\/bad-data\/chat\.jsonl:2: \/: not valid JSON \(/),
    '✖ test/fixtures/bad-data/chat.jsonl:3: /messages: missing field "messages" (the conversation: a list of {role, content})',
    '✖ test/fixtures/bad-data/chat.jsonl:4: /messages/1/role: unknown role "bot"; allowed: system, user, assistant',
    '✖ test/fixtures/bad-data/chat.jsonl:5: /messages/1/content: an empty assistant turn (nothing to train on or compare with)',
    '✖ test/fixtures/bad-data/chat.jsonl:6: /messages: no assistant message: with assistantOnlyLoss the conversation has nothing to train on',
    '✖ test/fixtures/bad-data/prompts.jsonl:2: /completion: missing field "completion" (the completion)',
  ]);
});
