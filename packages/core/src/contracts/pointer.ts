/** One token of an RFC 6901 JSON pointer: `~` → `~0`, `/` → `~1`. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
