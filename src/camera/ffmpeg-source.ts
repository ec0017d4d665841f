import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { statSync } from 'node:fs';
import { once } from 'node:events';
import { isIP } from 'node:net';
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

/**
 * `input` with its host name replaced by an address of it, port, path and credentials kept; an input that is not a URL
 * with a host name is returned as it is. The ffmpeg that comes with npm (a 2018 static build) crashes with SIGSEGV on
 * any host name it resolves itself with today's C library, while it reads a URL naming an address. An IPv4 address is
 * preferred: a camera on the local network is rarely reachable over IPv6 only.
 */
export async function withHostResolved(input: string): Promise<string> {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(input);
  if (!scheme) return input;
  const authorityStart = scheme[0].length;
  const authorityEnd = input.slice(authorityStart).search(/[/?#]/);
  const authority = authorityEnd === -1 ? input.slice(authorityStart) : input.slice(authorityStart, authorityStart + authorityEnd);
  const hostStart = authorityStart + authority.lastIndexOf('@') + 1;
  const host = /^[^:[\]]*/.exec(input.slice(hostStart, authorityStart + authority.length))![0];
  if (host === '' || isIP(host)) return input;
  let addresses: { address: string; family: number }[];
  try {
    addresses = await lookup(host, { all: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CameraError('CAMERA_FAILED', `cannot find the camera's host ${host} (${code}): check the host name in CAMERA`, { cause: error });
  }
  const { address, family } = addresses.find((candidate) => candidate.family === 4) ?? addresses[0]!;
  return `${input.slice(0, hostStart)}${family === 6 ? `[${address}]` : address}${input.slice(hostStart + host.length)}`;
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
  private starting: Promise<void> | undefined;
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
    this.starting ??= this.start();
    const frame = this.frames.shift();
    if (frame) {
      this.process?.stdout.resume();
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

  /** Spawns ffmpeg once the input's host name is resolved (for the bundled ffmpeg); failures reach the next frame. */
  private async start(): Promise<void> {
    let input = this.input;
    if (!process.env.FFMPEG_PATH) {
      try {
        input = await withHostResolved(this.input);
      } catch (error) {
        this.fail(error instanceof CameraError ? error : new CameraError('CAMERA_FAILED', `cannot read ${withoutCredentials(this.input)}: ${(error as Error).message}`, { cause: error }));
        return;
      }
    }
    if (this.closing) {
      this.ended = true;
      this.settleWaiting();
      return;
    }
    this.process = this.spawnFfmpeg(input);
  }

  private spawnFfmpeg(input: string): ChildProcessByStdio<null, Readable, Readable> {
    const device = this.input.startsWith('/dev/video');
    const inputFormat = device ? ['-f', 'v4l2', ...(this.size ? ['-video_size', `${this.size.width}x${this.size.height}`] : [])] : [];
    // A device is asked for the size; whatever it (or a stream or file) delivers larger is then scaled down to fit.
    const { width, height } = this.size ?? {};
    const scale = this.size ? ['-vf', `scale=w=min(${width}\\,iw):h=min(${height}\\,ih):force_original_aspect_ratio=decrease`] : [];
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', ...inputFormat, '-i', input, '-an', ...scale, '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1'];
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
      const crashed = signal === 'SIGSEGV' && !process.env.FFMPEG_PATH ? ': the ffmpeg that comes with npm crashed; set FFMPEG_PATH to a system ffmpeg (apt install ffmpeg)' : '';
      // ffmpeg's own last line may repeat the input URL, password included.
      this.fail(new CameraError('CAMERA_FAILED', withoutCredentials(`ffmpeg stopped reading ${this.input} (${signal ?? `exit code ${code}`})${why ? `: ${why}` : ''}${crashed}`)));
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
