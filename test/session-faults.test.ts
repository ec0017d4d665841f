import assert from 'node:assert/strict';
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { linkFrames } from './helpers/frame-folder.ts';
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
  // obama stays in view for two frames (one frame alone marks nobody: MATCH_MIN_FRAMES), then an empty room for longer
  // than the test can take to notice that he was marked: the folder goes while the session is still reading it.
  for (const copy of ['a1.jpg', 'a2.jpg']) await copyFile(path.join(FIXTURES, 'frames', '02-obama.jpg'), path.join(folder, copy));
  await linkFrames(path.join(FIXTURES, 'frames', '01-empty-room.jpg'), folder, 20_000, 'b');
  const session = await recognitionApp(path.join(scratch, 'vanishing-folder'), { CAMERA: `dir:${folder}` });
  try {
    await session.students.addMany([{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }], 'now');
    assert.equal((await session.call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => ((await session.status()).recognizedThisSession === 1 ? true : undefined), 'obama to be marked');
    await rm(folder, { recursive: true, force: true });
    const failing = await waitFor(async () => ((await session.status()).lastError ? await session.status() : undefined), 'the missing folder to be noticed');
    assert.match(failing.lastError, /cannot read frame b\d+\.jpg from .*vanishing-frames: ENOENT/);
    assert.equal(failing.sourceEnded, false, 'the folder went before the session had read it all');
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

/**
 * What the fake fswebcam of the start/stop storm logged: a `start` and an `end` line per capture, `overlap` if another
 * was running; each with its pid, the time and the folder it was asked to write into (one per session's camera).
 */
async function cameraLog(file: string): Promise<{ event: string; pid: number; at: bigint; folder: string }[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text.split('\n').filter(Boolean).map((line) => {
    const [event, pid, at, folder] = line.split(' ');
    return { event: event!, pid: Number(pid), at: BigInt(at!), folder: folder! };
  });
}

test('starts and stops hammered in arrival order: each answers as its turn says, a camera really opens each time, never two at once', async () => {
  const bin = path.join(scratch, 'slow-bin');
  const log = path.join(scratch, 'captures.log');
  const lock = path.join(scratch, 'camera.lock');
  await mkdir(bin);
  // A camera that takes 1 s per grab and holds an exclusive lock on it: a second fswebcam starting while one still
  // runs cannot take the lock and logs `overlap`. flock is the kernel's, released when the holder exits, whatever kills
  // it; the sleep and cp do not inherit the lock's descriptor, so only this process holds it.
  await writeFile(
    path.join(bin, 'fswebcam'),
    [
      '#!/bin/sh',
      'for last; do :; done',
      'folder=$(dirname "$last")',
      `exec 9>>'${lock}'`,
      `flock -n 9 || echo "overlap $$ $(date +%s%N) $folder" >> '${log}'`,
      `echo "start $$ $(date +%s%N) $folder" >> '${log}'`,
      'sleep 1 9>&-',
      `cp '${path.join(FIXTURES, 'frames/01-empty-room.jpg')}' "$last" 9>&-`,
      `echo "end $$ $(date +%s%N) $folder" >> '${log}'`,
      '',
    ].join('\n'),
  );
  await chmod(path.join(bin, 'fswebcam'), 0o755);
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}${path.delimiter}${savedPath}`; // the worker thread copies the environment when it starts
  const session = await recognitionApp(path.join(scratch, 'hammer'), { CAMERA: 'webcam' });
  const rounds = 3;
  try {
    assert.equal((await session.call('POST', '/start-recognition')).status, 200);
    for (let round = 0; round < rounds; round++) {
      // Wait until this session's camera is in the middle of a grab: the moment a careless stop would leave it running.
      const seen = (await cameraLog(log)).filter((entry) => entry.event === 'start').length;
      const grabbing = await waitFor(async () => (await cameraLog(log)).filter((entry) => entry.event === 'start')[seen], `round ${round}: the camera to open`, 30_000);
      // Sent together, without waiting for an answer. Starts and stops are handled one at a time in arrival order:
      // the first start finds a session running (409), the stop ends it (200) once the camera is released, and the
      // start after it finds none (200) and opens the camera again, which must not happen before the old one exited.
      const sent = [session.call('POST', '/start-recognition'), session.call('POST', '/stop-recognition'), session.call('POST', '/start-recognition')] as const;
      const [again, stopped, restarted] = await Promise.all([
        sent[0],
        sent[1].then(async (answer) => {
          // The stop answers once the camera is released: the stopped session's captures have all ended by now.
          const entries = await cameraLog(log);
          const ended = new Set(entries.filter((entry) => entry.event === 'end').map((entry) => entry.pid));
          const unfinished = entries.filter((entry) => entry.event === 'start' && entry.folder === grabbing.folder && !ended.has(entry.pid));
          assert.deepEqual(unfinished, [], `round ${round}: stop answered while its camera process still ran`);
          return answer;
        }),
        sent[2],
      ]);
      assert.deepEqual([again.status, stopped.status, restarted.status], [409, 200, 200], `round ${round}`);
      assert.equal(again.json.code, 'SESSION_ALREADY_RUNNING');
    }
    await waitFor(async () => ((await cameraLog(log)).filter((entry) => entry.event === 'start').length > rounds ? true : undefined), 'the last session to open the camera', 30_000);
    assert.equal((await session.call('POST', '/stop-recognition')).status, 200);
    assert.equal((await session.status()).running, false);
  } finally {
    process.env.PATH = savedPath;
    await session.app.close();
  }
  const entries = await cameraLog(log);
  assert.deepEqual(entries.filter((entry) => entry.event === 'overlap'), [], 'never two camera processes at once');
  const starts = entries.filter((entry) => entry.event === 'start');
  assert.ok(starts.length >= rounds + 1, `each of the ${rounds + 1} sessions opened the camera (${starts.length} captures)`);
  const running = starts.filter(({ pid }) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  assert.deepEqual(running, [], 'no camera process left behind');
});

test('200 concurrent registrations while recognition sessions read the roster: each rollNo stored once, the file always valid', async () => {
  const dataDir = path.join(scratch, 'concurrent');
  const frames = path.join(scratch, 'no-frames');
  await mkdir(frames, { recursive: true });
  const services = await startServices({ DATA_DIR: dataDir, CAMERA: `dir:${frames}`, RATE_LIMIT_PER_MINUTE: '1000' });
  const file = path.join(dataDir, 'students_data.json');
  let reading = true;
  /** How many students each read of the file found: every read must parse, and a later read never finds fewer. */
  const seen: number[] = [];
  const reader = (async () => {
    while (reading) {
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined; // not written yet
        throw error;
      });
      if (text !== undefined) seen.push((JSON.parse(text) as unknown[]).length);
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
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'no read ever found fewer students than one before it');
  assert.ok(seen.some((count) => count > 0 && count < 150), `the reader saw the file between writes (counts seen: ${[...new Set(seen)].join(', ')})`);
});
