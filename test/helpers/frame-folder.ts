import { copyFile, link } from 'node:fs/promises';
import path from 'node:path';

/**
 * Fills `folder` with `count` copies of `frame` as hard links (one file's data, `count` names): a `dir:` camera that
 * cannot reach its end while a test waits for an event, however fast the pipeline gets (20 000 frames are minutes
 * even at 100 frames/s), at the cost of directory entries only.
 */
export async function linkFrames(frame: string, folder: string, count: number, prefix = 'f'): Promise<void> {
  const first = path.join(folder, `${prefix}0.jpg`);
  await copyFile(frame, first);
  for (let i = 1; i < count; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, j) => link(first, path.join(folder, `${prefix}${i + j}.jpg`))));
  }
}
