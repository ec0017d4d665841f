import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { statSync } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import type { FrameSize } from '../config/config.ts';
import { withoutCredentials } from '../config/without-credentials.ts';
import { CameraError } from '../errors.ts';
import type { FrameSource } from './frame-source.ts';
import { JpegStreamSplitter } from './jpeg-stream-splitter.ts';

/** The ffmpeg binary: `FFMPEG_PATH` when set (a system ffmpeg), else the one shipped by @ffmpeg-installer. */
export function ffmpegBinary(): string {
  return process.env.FFMPEG_PATH || ffmpegInstaller.path;
}

function isRegularFile(input: string): boolean {
  try {
    return statSync(input).isFile();
  } catch {
    return false;
  }
}

/**
 * One long-running ffmpeg process that turns a device, stream or video file into MJPEG frames on a pipe.
 * A video file is read at the pace frames are asked for, so every frame is seen; a live input keeps only the
 * newest frame, so a slow consumer skips frames instead of falling behind or piling them up in memory.
 */
export class FfmpegSource implements FrameSource {
  private readonly live: boolean;
  private process: ChildProcessByStdio<null, Readable, Readable> | undefined;
  private readonly frames: Buffer[] = [];
  private waiting: { resolve: (frame: Buffer | undefined) => void; reject: (error: Error) => void } | undefined;
  private ended = false;
  private failure: CameraError | undefined;
  private stderrTail = '';
  private closing = false;

  constructor(
    private readonly input: string,
    private readonly size?: FrameSize,
  ) {
    this.live = !isRegularFile(input);
  }

  get queuedFrames(): number {
    return this.frames.length;
  }

  nextFrame(): Promise<Buffer | undefined> {
    this.process ??= this.start();
    const frame = this.frames.shift();
    if (frame) {
      this.process.stdout.resume();
      return Promise.resolve(frame);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.process?.stdout.resume();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'close');
    // 'close' waits for stdout to end, which a paused stdout (a file read ahead of its consumer) never does.
    child.stdout.resume();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  private start(): ChildProcessByStdio<null, Readable, Readable> {
    const device = this.input.startsWith('/dev/video');
    const inputFormat = device ? ['-f', 'v4l2', ...(this.size ? ['-video_size', `${this.size.width}x${this.size.height}`] : [])] : [];
    // A device is asked for the size; whatever it (or a stream or file) delivers larger is then scaled down to fit.
    const { width, height } = this.size ?? {};
    const scale = this.size ? ['-vf', `scale=w=min(${width}\\,iw):h=min(${height}\\,ih):force_original_aspect_ratio=decrease`] : [];
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', ...inputFormat, '-i', this.input, '-an', ...scale, '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1'];
    const child = spawn(ffmpegBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const splitter = new JpegStreamSplitter();
    child.stdout.on('data', (chunk: Buffer) => {
      for (const frame of splitter.push(chunk)) this.deliver(frame);
      if (!this.live && !this.closing && this.frames.length >= 2) child.stdout.pause();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    child.on('error', (error) => {
      this.fail(new CameraError('CAMERA_UNAVAILABLE', `cannot run ffmpeg (${ffmpegBinary()}): ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      if (this.closing || code === 0) {
        this.ended = true;
        this.settleWaiting();
        return;
      }
      const why = this.stderrTail.trim().split('\n').pop() ?? '';
      // ffmpeg's own last line may repeat the input URL, password included.
      this.fail(new CameraError('CAMERA_FAILED', withoutCredentials(`ffmpeg stopped reading ${this.input} (${signal ?? `exit code ${code}`})${why ? `: ${why}` : ''}`)));
    });
    return child;
  }

  private deliver(frame: Buffer): void {
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve(frame);
      return;
    }
    if (this.live) this.frames.length = 0;
    this.frames.push(frame);
  }

  private fail(error: CameraError): void {
    this.failure ??= error;
    this.settleWaiting();
  }

  private settleWaiting(): void {
    if (!this.waiting || this.frames.length > 0) return;
    const { resolve, reject } = this.waiting;
    this.waiting = undefined;
    if (this.failure) reject(this.failure);
    else resolve(undefined);
  }
}
