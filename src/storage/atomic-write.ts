import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { temporaryFileFor } from './leftovers.ts';

/**
 * Replaces `file` with `contents` so that a reader sees either the old file or the new one, never a mix,
 * and a crash at any moment leaves one of the two on disk.
 */
export async function writeFileAtomic(file: string, contents: string): Promise<void> {
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
