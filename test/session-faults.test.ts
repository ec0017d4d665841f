import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ffmpegBinary } from '../src/camera/ffmpeg-source.ts';
import { FIXTURES, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { recognitionApp } from './helpers/recognition-app.ts';
import { getJson, postJson, startServices, waitFor } from './helpers/service-process.ts';

const MODELS = path.resolve(import.meta.dirname, '../models');
let scratch: string;
let photos: PhotoServer;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-faults-'));
  photos = await startPhotoServer();
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

/** The pids of ffmpeg processes whose parent is this process. */
async function ffmpegChildren(): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === process.pid && stat.includes('(ffmpeg)')) found.push(Number(pid));
  }
  return found;
}

test('the webcam failing mid-session is reported and retried, and stop returns everything recorded before', async () => {
  const bin = path.join(scratch, 'flaky-bin');
  const counter = path.join(scratch, 'captures');
  await mkdir(bin);
  // Delivers obama's frame twice, then behaves like a camera that was unplugged (fswebcam exits 0 and writes nothing).
  await writeFile(
    path.join(bin, 'fswebcam'),
    `#!/bin/sh\nfor last; do :; done\necho x >> '${counter}'\n[ "$(wc -l < '${counter}')" -le 2 ] && cp '${path.join(FIXTURES, 'frames/02-obama.jpg')}' "$last"\nexit 0\n`,
  );
  await chmod(path.join(bin, 'fswebcam'), 0o755);
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
  const session = await recognitionApp(path.join(scratch, 'flaky-webcam'), { CAMERA: 'webcam' });
  try {
    await session.students.addMany([{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }], 'now');
    assert.equal((await session.call('POST', '/start-recognition')).status, 200);
    const failing = await waitFor(async () => {
      const current = await session.status();
      return current.lastError && current.framesProcessed === 2 ? current : undefined;
    }, 'the camera to fail after two frames');
    assert.match(failing.lastError, /fswebcam produced no image .*retrying in \d+ s/);
    assert.equal(failing.running, true);
    await waitFor(async () => ((await readFile(counter, 'utf8')).split('\n').length > 4 ? true : undefined), 'a retry after the backoff', 10_000);
    const stopped = await session.call('POST', '/stop-recognition');
    assert.deepEqual(stopped.json.recognizedStudents.map((r: { rollNo: string }) => r.rollNo), ['obama']);
  } finally {
    process.env.PATH = savedPath;
    await session.app.close();
  }
});

test('the frame folder removed mid-session is reported, and stop still answers with what was recorded', async () => {
  const folder = path.join(scratch, 'vanishing-frames');
  await mkdir(folder);
  // obama stays in view for two frames: one frame alone marks nobody (MATCH_MIN_FRAMES).
  for (const [name, copy] of [['02-obama.jpg', '1.jpg'], ['02-obama.jpg', '2.jpg'], ['03-stranger.jpg', '3.jpg'], ['06-stranger.jpg', '4.jpg'], ['10-stranger.jpg', '5.jpg']]) {
    await copyFile(path.join(FIXTURES, 'frames', name!), path.join(folder, copy!));
  }
  const session = await recognitionApp(path.join(scratch, 'vanishing-folder'), { CAMERA: `dir:${folder}` });
  try {
    await session.students.addMany([{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }], 'now');
    assert.equal((await session.call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => ((await session.status()).framesProcessed >= 2 ? true : undefined), 'obama\'s two frames');
    await rm(folder, { recursive: true, force: true });
    const failing = await waitFor(async () => ((await session.status()).lastError ? await session.status() : undefined), 'the missing folder to be noticed');
    assert.match(failing.lastError, /vanishing-frames/);
    const stopped = await session.call('POST', '/stop-recognition');
    assert.equal(stopped.status, 200);
    assert.deepEqual(stopped.json.recognizedStudents.map((r: { rollNo: string }) => r.rollNo), ['obama']);
  } finally {
    await session.app.close();
  }
});

test('a crashing worker leaves the service up, shows the error, keeps recorded attendance, and a new start works', async () => {
  const models = path.join(scratch, 'models-copy');
  await cp(MODELS, models, { recursive: true });
  const frames = path.join(scratch, 'obama-frames');
  await mkdir(frames);
  await copyFile(path.join(FIXTURES, 'frames/02-obama.jpg'), path.join(frames, '1.jpg'));
  await copyFile(path.join(FIXTURES, 'frames/02-obama.jpg'), path.join(frames, '2.jpg'));
  const session = await recognitionApp(path.join(scratch, 'crash'), { CAMERA: `dir:${frames}`, MODELS_DIR: models });
  try {
    await session.students.addMany([{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }], 'now');
    await session.call('POST', '/start-recognition');
    await waitFor(async () => ((await session.status()).sourceEnded ? true : undefined), 'the first session');
    const recorded = (await session.call('POST', '/stop-recognition')).json.recognizedStudents;
    assert.equal(recorded.length, 1);

    // A damaged model file (a missing one refuses the start) makes the worker throw while it loads.
    await writeFile(path.join(models, 'face_recognition_model.bin'), 'not the weights');
    assert.equal((await session.call('POST', '/start-recognition')).status, 200);
    const crashed = await waitFor(async () => ((await session.status()).phase === 'failed' ? await session.status() : undefined), 'the worker to fail');
    assert.equal(crashed.running, false);
    assert.match(crashed.lastError, /^recognition worker failed: /);
    assert.equal((await session.call('GET', '/health')).status, 200);
    assert.deepEqual((await session.call('POST', '/stop-recognition')).json.recognizedStudents, recorded, 'recorded attendance is intact');

    await copyFile(path.join(MODELS, 'face_recognition_model.bin'), path.join(models, 'face_recognition_model.bin'));
    assert.equal((await session.call('POST', '/start-recognition')).status, 200, 'a new start after the crash works');
    const healthy = await waitFor(async () => ((await session.status()).sourceEnded ? await session.status() : undefined), 'the new session');
    assert.equal(healthy.enrolled, 1);
    assert.equal(healthy.lastError, null);
    await session.call('POST', '/stop-recognition');
  } finally {
    await session.app.close();
  }
});

test('50 interleaved starts and stops: every call answers, never two camera processes, none left behind', async () => {
  const video = path.join(scratch, 'long.avi');
  await promisify(execFile)(ffmpegBinary(), ['-loglevel', 'error', '-loop', '1', '-i', path.join(FIXTURES, 'frames/01-empty-room.jpg'), '-t', '30', '-r', '5', '-c:v', 'mjpeg', video]);
  const session = await recognitionApp(path.join(scratch, 'hammer'), { CAMERA: `ffmpeg:${video}` });
  let most = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      most = Math.max(most, (await ffmpegChildren()).length);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    const calls = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 40));
        return session.call('POST', i % 2 === 0 ? '/start-recognition' : '/stop-recognition');
      }),
    );
    for (const [i, call] of calls.entries()) {
      if (i % 2 === 1) assert.equal(call.status, 200, `stop #${i} answers`);
      else assert.ok([200, 409].includes(call.status), `start #${i} answers ${call.status}`);
    }
    assert.ok(calls.some((call, i) => i % 2 === 0 && call.status === 200));
    assert.equal((await session.call('POST', '/stop-recognition')).status, 200);
    assert.equal((await session.status()).running, false);
  } finally {
    watching = false;
    await watcher;
    await session.app.close();
  }
  assert.ok(most <= 1, `at most one camera process at a time (saw ${most})`);
  assert.deepEqual(await ffmpegChildren(), [], 'no camera process left behind');
});

test('200 concurrent registrations while recognition sessions read the roster: each rollNo stored once, the file always valid', async () => {
  const dataDir = path.join(scratch, 'concurrent');
  const frames = path.join(scratch, 'no-frames');
  await mkdir(frames, { recursive: true });
  const services = await startServices({ DATA_DIR: dataDir, CAMERA: `dir:${frames}`, RATE_LIMIT_PER_MINUTE: '1000' });
  const file = path.join(dataDir, 'students_data.json');
  let reading = true;
  let reads = 0;
  const reader = (async () => {
    while (reading) {
      const text = await readFile(file, 'utf8').catch(() => '[]');
      JSON.parse(text);
      reads += 1;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  const sessions = (async () => {
    for (let i = 0; i < 5; i++) {
      await postJson(`${services.recognition}/start-recognition`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await postJson(`${services.recognition}/stop-recognition`);
    }
  })();
  try {
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        postJson(`${services.registration}/add-student`, {
          classStudents: [
            { rollNo: `s${i % 150}`, url: `https://photos.invalid/${i}.jpg` },
            { rollNo: `s${(i * 7) % 150}`, url: `https://photos.invalid/${i}b.jpg` },
          ],
        }),
      ),
    );
    await sessions;
    for (const response of responses) assert.equal(response.status, 200);
    const added = responses.reduce((sum, { json }) => sum + Number(/Added: (\d+)/.exec(json.message)![1]), 0);
    const stored: { rollNo: string }[] = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(stored.length, 150);
    assert.equal(new Set(stored.map((s) => s.rollNo)).size, 150);
    assert.equal(added, 150, 'the Added counts sum to the students stored');
    assert.equal((await getJson(`${services.recognition}/status`)).status, 200);
  } finally {
    reading = false;
    await reader;
    await services.stop();
  }
  assert.ok(reads > 0);
});
