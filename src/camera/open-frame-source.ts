import type { CameraSetting, FrameSize } from '../config/config.ts';
import { withoutCredentials } from '../config/without-credentials.ts';
import { DirectorySource } from './directory-source.ts';
import { FfmpegSource } from './ffmpeg-source.ts';
import type { FrameSource } from './frame-source.ts';
import { WebcamSource } from './webcam-source.ts';

export function openFrameSource(camera: CameraSetting): FrameSource {
  switch (camera.kind) {
    case 'webcam':
      return new WebcamSource(camera.device, camera.size);
    case 'ffmpeg':
      return new FfmpegSource(camera.input, camera.size);
    case 'dir':
      return new DirectorySource(camera.folder);
  }
}

/** The `CAMERA` setting as a user would write it, without a URL's password, for status, events and logs. */
export function describeCamera(camera: CameraSetting): string {
  switch (camera.kind) {
    case 'webcam':
      return `${camera.device ? `webcam:${camera.device}` : 'webcam'}${sizeOf(camera.size)}`;
    case 'ffmpeg':
      return `ffmpeg:${withoutCredentials(camera.input)}${sizeOf(camera.size)}`;
    case 'dir':
      return `dir:${camera.folder}`;
  }
}

const sizeOf = (size: FrameSize | undefined) => (size ? ` at ${size.width}x${size.height}` : '');
