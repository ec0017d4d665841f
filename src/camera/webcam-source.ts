import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import NodeWebcam, { type Webcam } from 'node-webcam';
import type { FrameSize } from '../config/config.ts';
import { CameraError } from '../errors.ts';
import type { FrameSource } from './frame-source.ts';

export const FSWEBCAM_MISSING_MESSAGE =
  'fswebcam is not installed, and CAMERA=webcam needs it (node-webcam runs it for every frame). ' +
  'Install it (`sudo apt install fswebcam`), or set CAMERA=ffmpeg:/dev/video0 to read the camera with the ffmpeg that comes with npm install.';

async function isOnPath(command: string): Promise<boolean> {
  for (const directory of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    try {
      await access(path.join(directory, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Polls a webcam through node-webcam, which runs `fswebcam` once per frame (the original design). */
export class WebcamSource implements FrameSource {
  private webcam: Webcam | undefined;
  private folder: string | undefined;
  readonly queuedFrames = 0;

  constructor(
    private readonly device: string | undefined,
    private readonly size: FrameSize = { width: 640, height: 480 },
  ) {}

  async nextFrame(): Promise<Buffer> {
    this.webcam ??= await this.open();
    const location = path.join(this.folder!, 'frame.jpg');
    await rm(location, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.webcam!.capture(location, (error: Error | null) => (error ? reject(error) : resolve()));
    }).catch((error: Error) => {
      throw new CameraError('CAMERA_FAILED', `fswebcam failed: ${error.message.trim()}`, { cause: error });
    });
    // fswebcam exits 0 even when it could not grab a frame; the missing file is the only sign.
    const frame = await readFile(location).catch(() => undefined);
    if (!frame || frame.length === 0) {
      throw new CameraError('CAMERA_FAILED', `fswebcam produced no image from ${this.device ?? 'the default camera'} (is the camera connected and free?)`);
    }
    return frame;
  }

  async close(): Promise<void> {
    this.webcam = undefined;
    if (this.folder) await rm(this.folder, { recursive: true, force: true });
    this.folder = undefined;
  }

  private async open(): Promise<Webcam> {
    if (!(await isOnPath('fswebcam'))) throw new CameraError('CAMERA_UNAVAILABLE', FSWEBCAM_MISSING_MESSAGE);
    this.folder = await mkdtemp(path.join(os.tmpdir(), 'attendance-webcam-'));
    return NodeWebcam.create({
      // fswebcam -r: the camera delivers this size, or the nearest its driver supports.
      width: this.size.width,
      height: this.size.height,
      quality: 90,
      delay: 0,
      output: 'jpeg',
      device: this.device ?? false,
      callbackReturn: 'location',
      saveShots: false,
      verbose: false,
    });
  }
}
