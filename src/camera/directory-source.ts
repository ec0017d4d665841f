import { readdir, readFile } from 'node:fs/promises';
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
      const entries = await readdir(this.folder, { withFileTypes: true });
      return entries
        .filter((entry) => entry.isFile() && IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase()))
        .map((entry) => entry.name)
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    } catch (error) {
      throw new CameraError('CAMERA_UNAVAILABLE', `cannot read frame folder ${this.folder}: ${(error as Error).message}`, { cause: error });
    }
  }
}
