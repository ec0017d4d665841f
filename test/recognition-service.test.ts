import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ffmpegBinary } from '../src/camera/ffmpeg-source.ts';
import { FIXTURES, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { recognitionApp } from './helpers/recognition-app.ts';
import { waitFor } from './helpers/service-process.ts';

let scratch: string;
let photos: PhotoServer;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-recognition-'));
  photos = await startPhotoServer();
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

test('CAMERA=webcam without fswebcam: /status says so and names the alternative; stop still answers', async () => {
  const savedPath = process.env.PATH;
  process.env.PATH = path.join(scratch, 'no-bin'); // the worker thread copies the environment when it starts
  const { app, status } = await recognitionApp(path.join(scratch, 'webcam'), { CAMERA: 'webcam' });
  try {
    assert.equal((await app.inject({ method: 'POST', url: '/start-recognition' })).statusCode, 200);
    const reported = await waitFor(async () => ((await status()).lastError ? await status() : undefined), 'the camera problem');
    assert.match(reported.lastError, /fswebcam is not installed.*CAMERA=ffmpeg:\/dev\/video0/);
    assert.equal(reported.running, true, 'the worker keeps retrying the camera');
    const stopped = await app.inject({ method: 'POST', url: '/stop-recognition' });
    assert.deepEqual(stopped.json(), { recognizedStudents: [] });
    assert.equal((await status()).running, false);
  } finally {
    process.env.PATH = savedPath;
    await app.close();
  }
});

// Each picture stays 3 frames: a student is marked after MATCH_MIN_FRAMES frames of one face track.
test('CAMERA=ffmpeg:<video file> recognises registered students in the video', async () => {
  const video = path.join(scratch, 'door.avi');
  const list = path.join(scratch, 'door.txt');
  const frames = ['01-empty-room.jpg', '02-obama.jpg', '03-stranger.jpg', '07-rick.jpg'];
  const entry = (name: string) => `file '${path.join(FIXTURES, 'frames', name)}'\nduration 0.5\n`;
  await writeFile(list, frames.map((name) => entry(name).repeat(3)).join(''));
  await promisify(execFile)(ffmpegBinary(), ['-loglevel', 'error', '-f', 'concat', '-safe', '0', '-i', list, '-r', '2', '-c:v', 'mjpeg', '-q:v', '3', video]);
  // How many frames the file holds, counted by ffmpeg itself: a video file is read at the pace of analysis, so all of them are seen.
  const counted = await promisify(execFile)(ffmpegBinary(), ['-i', video, '-map', '0:v', '-c', 'copy', '-f', 'null', '-']);
  const framesInVideo = Number([...counted.stderr.matchAll(/frame=\s*(\d+)/g)].at(-1)?.[1]);
  assert.ok(framesInVideo >= frames.length * 3, `the video has a frame per still and half second (${framesInVideo})`);

  const { app, students, status } = await recognitionApp(path.join(scratch, 'ffmpeg'), { CAMERA: `ffmpeg:${video}` });
  try {
    await students.addMany(
      [
        { rollNo: 'obama', url: `${photos.origin}/obama.jpg` },
        { rollNo: 'rick', url: `${photos.origin}/rick.jpg` },
        { rollNo: 'biden', url: `${photos.origin}/biden.jpg` },
      ],
      'now',
    );
    assert.equal((await app.inject({ method: 'POST', url: '/start-recognition' })).statusCode, 200);
    const ended = await waitFor(async () => ((await status()).sourceEnded ? await status() : undefined), 'the end of the video');
    assert.equal(ended.enrolled, 3);
    assert.equal(ended.framesProcessed, framesInVideo, 'every frame of the video file is analysed');
    const report = (await app.inject({ method: 'POST', url: '/stop-recognition' })).json();
    assert.deepEqual(report.recognizedStudents.map((r: { rollNo: string }) => r.rollNo).sort(), ['obama', 'rick']);
  } finally {
    await app.close();
  }
});
