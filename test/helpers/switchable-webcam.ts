import { chmod, copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

const FRAMES = path.resolve(import.meta.dirname, '../fixtures/frames');

export interface SwitchableWebcam {
  show(frame: string): Promise<void>;
  restore(): void;
}

/**
 * A fake `fswebcam` first on PATH whose picture a test changes: each capture copies whatever `current.jpg` in
 * `folder` is at that moment. `show` puts a fixture frame in front of it (atomically, so no capture sees half a file);
 * `restore` puts PATH back.
 */
export async function switchableWebcam(folder: string): Promise<SwitchableWebcam> {
  const bin = path.join(folder, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, 'fswebcam'), `#!/bin/sh\nfor last; do :; done\ncp '${path.join(folder, 'current.jpg')}' "$last"\n`);
  await chmod(path.join(bin, 'fswebcam'), 0o755);
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
  return {
    async show(frame) {
      const staged = path.join(folder, 'staged.jpg');
      await copyFile(path.join(FRAMES, frame), staged);
      await rename(staged, path.join(folder, 'current.jpg'));
    },
    restore() {
      process.env.PATH = savedPath;
    },
  };
}
