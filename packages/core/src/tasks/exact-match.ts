/** Exact match of a generated answer: equal to the reference once both are trimmed of surrounding whitespace. */
export function exactMatch(generated: string, reference: string): boolean {
  return generated.trim() === reference.trim();
}

/**
 * SQuAD's normalize_answer (the normalized exact match of the SQuAD and TriviaQA evaluation scripts): lower case,
 * punctuation removed (Python's string.punctuation, plus Unicode punctuation), the articles a / an / the removed,
 * whitespace collapsed to single spaces.
 */
export function normalizedAnswer(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\p{P}!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/gu, '')
    .replace(/\b(a|an|the)\b/g, ' ')
    .split(/\s+/)
    .filter((w) => w !== '')
    .join(' ');
}
