import { lstat, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { temporaryFileFor } from './leftovers.ts';
import { symbolicLinkRefusal } from './writable.ts';

/**
 * Replaces `file` with `contents` so that a reader sees either the old file or the new one, never a mix,
 * and a crash at any moment leaves one of the two on disk. Refuses to replace a symbolic link.
 */
export async function writeFileAtomic(file: string, contents: string): Promise<void> {
  // The rename would replace a link with a regular file, and the link's target would silently stop getting updates.
  if ((await lstat(file).catch(() => undefined))?.isSymbolicLink()) throw symbolicLinkRefusal(file);
  const temporary = temporaryFileFor(file);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await syncDirectory(path.dirname(file));
}

// The rename is only durable once the directory entry itself reaches the disk.
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
