import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CameraError } from '../errors.ts';
import type { FrameSource } from './frame-source.ts';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

/**
 * Replays the images of a folder in name order (numbers compared as numbers), each exactly once,
 * only as fast as they are asked for: a run over a folder is deterministic.
 */
export class DirectorySource implements FrameSource {
  private files: string[] | undefined;
  private position = 0;
  readonly queuedFrames = 0;

  constructor(private readonly folder: string) {}

  async nextFrame(): Promise<Buffer | undefined> {
    this.files ??= await this.listImages();
    const file = this.files[this.position];
    if (file === undefined) return undefined;
    this.position += 1;
    try {
      return await readFile(path.join(this.folder, file));
    } catch (error) {
      throw new CameraError('CAMERA_FAILED', `cannot read frame ${file} from ${this.folder}: ${(error as Error).message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.files = [];
  }

  private async listImages(): Promise<string[]> {
    try {
      const entries = (await readdir(this.folder, { withFileTypes: true })).filter((entry) => IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase()));
      // A folder of links to frames kept elsewhere is a folder of frames; a link that leads nowhere is left out.
      const isFrame = async (entry: Dirent) => entry.isFile() || (entry.isSymbolicLink() && (await stat(path.join(this.folder, entry.name)).then((target) => target.isFile(), () => false)));
      const frames = (await Promise.all(entries.map(async (entry) => ((await isFrame(entry)) ? [entry.name] : [])))).flat();
      return frames.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    } catch (error) {
      throw new CameraError('CAMERA_UNAVAILABLE', `cannot read frame folder ${this.folder}: ${(error as Error).message}`, { cause: error });
    }
  }
}
