import { expect, test } from 'vitest';
import { exactMatch, normalizedAnswer } from '@rankwise/core/internal';

test("exact match trims surrounding whitespace only; the normalized form is SQuAD's normalize_answer", () => {
  expect(exactMatch(' forty-two\n', 'forty-two')).toBe(true);
  expect(exactMatch('Forty-two', 'forty-two')).toBe(false);
  expect(exactMatch('forty two', 'forty-two')).toBe(false);
  // lower case, punctuation removed (the hyphen too, as string.punctuation holds it), articles dropped, spaces collapsed
  expect(normalizedAnswer('The  Answer: Forty-two!')).toBe('answer fortytwo');
  expect(normalizedAnswer('a cat, an owl and THE dog.')).toBe('cat owl and dog');
  expect(normalizedAnswer('theory')).toBe('theory');
  expect(normalizedAnswer('  ')).toBe('');
  expect(normalizedAnswer('1+1=2 $5 «ok»')).toBe('112 5 ok');
});
