import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { DirectorySource } from '../src/camera/directory-source.ts';
import { FfmpegSource, ffmpegBinary } from '../src/camera/ffmpeg-source.ts';
import type { FrameSource } from '../src/camera/frame-source.ts';
import { WebcamSource } from '../src/camera/webcam-source.ts';
import { CameraError } from '../src/errors.ts';
import { FIXTURES } from './helpers/photo-server.ts';

const FRAMES = path.join(FIXTURES, 'frames');
let scratch: string;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-camera-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function drain(source: FrameSource): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  for (let frame = await source.nextFrame(); frame; frame = await source.nextFrame()) frames.push(frame);
  await source.close();
  return frames;
}

const isCameraError = (code: string, message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof CameraError, `expected a CameraError, got ${String(error)}`);
  assert.equal(error.code, code);
  assert.match(error.message, message);
  return true;
};

test('dir: replays every image of the folder once, in name order, then ends', async () => {
  const folder = path.join(scratch, 'numbered');
  await mkdir(folder);
  for (const name of ['frame-10.jpg', 'frame-2.jpg', 'frame-1.png', 'notes.txt']) await writeFile(path.join(folder, name), name);
  const frames = await drain(new DirectorySource(folder));
  assert.deepEqual(frames.map(String), ['frame-1.png', 'frame-2.jpg', 'frame-10.jpg']);
});

test('dir: links to frames kept elsewhere are frames; a link that leads nowhere is left out', async () => {
  const kept = path.join(scratch, 'kept');
  const linked = path.join(scratch, 'linked');
  await mkdir(kept);
  await mkdir(linked);
  await writeFile(path.join(kept, 'a.jpg'), 'a');
  await writeFile(path.join(linked, 'c.jpg'), 'c');
  await symlink(path.join(kept, 'a.jpg'), path.join(linked, 'b.jpg'));
  await symlink(path.join(kept, 'gone.jpg'), path.join(linked, 'd.jpg'));
  assert.deepEqual((await drain(new DirectorySource(linked))).map(String), ['a', 'c']);
});

test('dir: a missing folder is a clear camera error', async () => {
  await assert.rejects(new DirectorySource(path.join(scratch, 'nope')).nextFrame(), isCameraError('CAMERA_UNAVAILABLE', /cannot read frame folder .*nope/));
});

test('ffmpeg: a video file made from the fixture frames yields every frame as a decodable JPEG', async () => {
  const video = path.join(scratch, 'classroom.avi');
  const names = (await readdir(FRAMES)).sort();
  const list = path.join(scratch, 'frames.txt');
  await writeFile(list, names.map((name) => `file '${path.join(FRAMES, name)}'\nduration 0.2\n`).join(''));
  await promisify(execFile)(ffmpegBinary(), ['-loglevel', 'error', '-f', 'concat', '-safe', '0', '-i', list, '-r', '5', '-c:v', 'mjpeg', '-q:v', '3', video]);
  const frames = await drain(new FfmpegSource(video));
  assert.ok(frames.length >= names.length, `expected at least ${names.length} frames, got ${frames.length}`);
  for (const frame of frames) {
    const { width, height, format } = await sharp(frame).metadata();
    assert.deepEqual([width, height, format], [640, 480, 'jpeg']);
  }
});

test('ffmpeg: an input that cannot be read fails with ffmpeg\'s reason', async () => {
  await assert.rejects(new FfmpegSource(path.join(scratch, 'no-such-video.mp4')).nextFrame(), isCameraError('CAMERA_FAILED', /ffmpeg stopped reading .*no-such-video\.mp4.*No such file/));
});

test('ffmpeg: a missing ffmpeg binary is a clear camera error', async () => {
  const saved = process.env.FFMPEG_PATH;
  process.env.FFMPEG_PATH = path.join(scratch, 'no-ffmpeg');
  try {
    await assert.rejects(new FfmpegSource('/dev/video0').nextFrame(), isCameraError('CAMERA_UNAVAILABLE', /cannot run ffmpeg/));
  } finally {
    if (saved === undefined) delete process.env.FFMPEG_PATH;
    else process.env.FFMPEG_PATH = saved;
  }
});

async function withPath<T>(directory: string, task: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = `${directory}${path.delimiter}/usr/bin${path.delimiter}/bin`;
  try {
    return await task();
  } finally {
    process.env.PATH = saved;
  }
}

async function installFakeFswebcam(directory: string, body: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  const script = path.join(directory, 'fswebcam');
  await writeFile(script, `#!/bin/sh\n${body}\n`);
  await chmod(script, 0o755);
}

test('webcam: node-webcam runs fswebcam for each frame, with the configured device', async () => {
  const bin = path.join(scratch, 'fake-fswebcam');
  const log = path.join(scratch, 'fswebcam.log');
  const frame = path.join(FRAMES, '02-obama.jpg');
  // Like fswebcam: the output file is the last argument.
  await installFakeFswebcam(bin, `for last; do :; done\necho "$@" >> '${log}'\ncp '${frame}' "$last"`);
  const frames = await withPath(bin, async () => {
    const source = new WebcamSource('/dev/video7');
    const captured = [await source.nextFrame(), await source.nextFrame()];
    await source.close();
    return captured;
  });
  const expected = await readFile(frame);
  for (const captured of frames) assert.ok(captured.equals(expected));
  const calls = (await readFile(log, 'utf8')).trim().split('\n');
  assert.equal(calls.length, 2);
  assert.match(calls[0]!, /-r 640x480 .*-d \/dev\/video7 .*\.jpg$/);
});

test('webcam: fswebcam that exits 0 without writing a frame is reported as a failed capture', async () => {
  const bin = path.join(scratch, 'silent-fswebcam');
  await installFakeFswebcam(bin, 'echo "Error opening device" >&2\nexit 0');
  await withPath(bin, async () => {
    const source = new WebcamSource(undefined);
    try {
      await assert.rejects(source.nextFrame(), isCameraError('CAMERA_FAILED', /fswebcam produced no image/));
    } finally {
      await source.close();
    }
  });
});

test('webcam: without fswebcam installed the error says so and names the ffmpeg alternative', async () => {
  await withPath(path.join(scratch, 'empty-bin'), async () => {
    await assert.rejects(new WebcamSource(undefined).nextFrame(), isCameraError('CAMERA_UNAVAILABLE', /fswebcam is not installed.*CAMERA=ffmpeg:\/dev\/video0/));
  });
});

test('webcam: CAMERA_SIZE asks fswebcam for that resolution', async () => {
  const bin = path.join(scratch, 'sized-fswebcam');
  const log = path.join(scratch, 'sized-fswebcam.log');
  await installFakeFswebcam(bin, `for last; do :; done\necho "$@" >> '${log}'\ncp '${path.join(FRAMES, '02-obama.jpg')}' "$last"`);
  await withPath(bin, async () => {
    const source = new WebcamSource(undefined, { width: 1280, height: 720 });
    await source.nextFrame();
    await source.close();
  });
  assert.match(await readFile(log, 'utf8'), /-r 1280x720 /);
});

test('ffmpeg: CAMERA_SIZE scales a larger input down to fit it, and leaves a smaller one as it is', async () => {
  const video = path.join(scratch, 'hd.avi');
  await promisify(execFile)(ffmpegBinary(), [
    '-loglevel', 'error', '-loop', '1', '-i', path.join(FRAMES, '02-obama.jpg'), '-frames:v', '3', '-vf', 'scale=1920:1080', '-c:v', 'mjpeg', '-q:v', '3', video,
  ]);
  const sizes = async (size: { width: number; height: number }) =>
    Promise.all((await drain(new FfmpegSource(video, size))).map(async (frame) => {
      const { width, height } = await sharp(frame).metadata();
      return `${width}x${height}`;
    }));
  assert.deepEqual(await sizes({ width: 1280, height: 720 }), ['1280x720', '1280x720', '1280x720']);
  assert.deepEqual(await sizes({ width: 3840, height: 2160 }), ['1920x1080', '1920x1080', '1920x1080']);
});
