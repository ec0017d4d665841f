import { constants } from 'node:fs';
import { access, lstat } from 'node:fs/promises';
import path from 'node:path';
import { DataFileNotWritableError } from '../errors.ts';

/** Error codes that mean the file system refuses a write, whatever is retried. */
const REFUSED_WRITES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted (an immutable file or folder?)',
  EROFS: 'the data folder is on a read-only file system',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  ENOTDIR: 'DATA_DIR is not a folder',
};

/** The file system's refusal of a write to `file` as a DataFileNotWritableError; other errors unchanged. */
export function asWriteRefusal(file: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (error instanceof DataFileNotWritableError || code === undefined || !Object.hasOwn(REFUSED_WRITES, code)) return error;
  return new DataFileNotWritableError(file, `${REFUSED_WRITES[code]} (${code})`, { cause: error });
}

export function symbolicLinkRefusal(file: string): DataFileNotWritableError {
  return new DataFileNotWritableError(
    file,
    'it is a symbolic link, which an atomic write would replace with a regular file; move the file itself into DATA_DIR, or point DATA_DIR at the folder that holds it',
  );
}

/**
 * Rejects with a DataFileNotWritableError when a write to `file` would fail: its folder cannot take new files (read-only
 * mount, immutable or unwritable folder), the file itself cannot be written, or it is a symbolic link. A file that
 * does not exist yet is fine when its folder is writable.
 */
export async function checkWritable(file: string): Promise<void> {
  try {
    await access(path.dirname(file), constants.W_OK | constants.X_OK);
    const stats = await lstat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (stats?.isSymbolicLink()) throw symbolicLinkRefusal(file);
    if (stats) await access(file, constants.W_OK);
  } catch (error) {
    throw asWriteRefusal(file, error);
  }
}
