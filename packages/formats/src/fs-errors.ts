/** What an errno means, in words: file-system errors become one line naming the path and what is wrong. */
const REASONS: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  EBUSY: 'the resource is busy',
  EIO: 'input/output error',
};

export function isFsError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code!);
}

/** `<path>: <what is wrong> (<CODE>)`; `path` defaults to the error's own. */
export function describeFsError(error: NodeJS.ErrnoException, path = error.path ?? ''): string {
  const code = error.code ?? 'EIO';
  return `${path}: ${REASONS[code] ?? error.message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')} (${code})`;
}

/** A file-system error rethrown as one readable line; anything else unchanged. */
export function readableFsError(error: unknown, path?: string): unknown {
  if (!isFsError(error)) return error;
  const readable = new Error(describeFsError(error, path ?? error.path));
  (readable as NodeJS.ErrnoException).code = error.code;
  return readable;
}
