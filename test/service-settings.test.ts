import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { DESCRIPTOR_MODEL_VERSION } from '../src/faces/face-engine.ts';
import { buildRegistrationApp } from '../src/registration/app.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';
import { openEventStream } from './helpers/event-stream.ts';
import { FIXTURES, misbehavingPhotoRoutes, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { recognitionApp } from './helpers/recognition-app.ts';
import { exitOf, getJson, makeWorkDir, postJson, spawnService, startServices, waitFor, withDeadline } from './helpers/service-process.ts';

// The documented limits and settings, each seen taking effect in the service (not only in the config parser).

let scratch: string;
let photos: PhotoServer;
const timers = new Set<NodeJS.Timeout>();

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-settings-'));
  const photo = (name: string) => async (_request: unknown, response: import('node:http').ServerResponse) => {
    const body = await readFile(path.join(FIXTURES, 'photos', name));
    response.writeHead(200, { 'content-type': 'image/jpeg' }).end(body);
  };
  photos = await startPhotoServer({
    ...misbehavingPhotoRoutes(timers, 100),
    '/redirect.jpg': (_request, response) => response.writeHead(302, { location: '/obama.jpg' }).end(),
    // Eight photos under their own URLs: enough uncached photos for extra enrollment threads.
    ...Object.fromEntries(['obama', 'rick', 'biden', 'kit_harington', 'zy', 'daryl-1', 'rick-1', 'obama-3'].map((name, i) => [`/p/${i}.jpg`, photo(`${name}.jpg`)])),
  });
});
after(async () => {
  for (const timer of timers) clearInterval(timer);
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

test('registration takes URLs of up to 2048 characters and up to 10 photos per student, and refuses one more (url and urls together)', async () => {
  const dir = path.join(scratch, 'limits');
  await mkdir(dir);
  const app = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dir }), students: new JsonStudentStore(dir), logger: pino({ level: 'silent' }) });
  const add = (student: object) => app.inject({ method: 'POST', url: '/add-student', payload: { classStudents: [student] } });
  const url = (length: number) => { const start = 'https://photos.invalid/'; return `${start}${'a'.repeat(length - start.length - 4)}.jpg`; };
  try {
    assert.equal(url(2048).length, 2048);
    assert.equal((await add({ rollNo: 'long', url: url(2048) })).statusCode, 200);
    const tooLong = await add({ rollNo: 'longer', url: url(2049) });
    assert.equal(tooLong.statusCode, 400);
    assert.match(tooLong.json().message, /classStudents\.0\.url/);
    const urls = (count: number) => Array.from({ length: count }, (_, i) => `https://photos.invalid/${i}.jpg`);
    assert.equal((await add({ rollNo: 'ten', urls: urls(10) })).statusCode, 200);
    const eleven = await add({ rollNo: 'eleven', urls: urls(11) });
    assert.equal(eleven.statusCode, 400);
    assert.match(eleven.json().message, /classStudents\.0\.urls: at most 10 photos per student/);
    const tenAndUrl = await add({ rollNo: 'ten-and-url', url: 'https://photos.invalid/another.jpg', urls: urls(10) });
    assert.equal(tenAndUrl.statusCode, 400, 'url beside 10 urls makes 11 photos');
    const stored = JSON.parse(await readFile(path.join(dir, 'students_data.json'), 'utf8')) as { rollNo: string; urls?: string[] }[];
    assert.deepEqual(stored.map((student) => [student.rollNo, student.urls?.length]), [['long', undefined], ['ten', 10]]);
  } finally {
    await app.close();
  }
});

test('an API_KEY under 16 characters stops the service at start; one in .env of the working directory is required', async () => {
  const workDir = await makeWorkDir();
  try {
    const short = spawnService('registration', { DATA_DIR: path.join(scratch, 'short-key'), API_KEY: '15-characters!!' }, workDir);
    let output = '';
    short.stdout!.on('data', (chunk) => (output += chunk));
    short.stderr!.on('data', (chunk) => (output += chunk));
    assert.equal(await withDeadline(exitOf(short), 60_000, 'the service to refuse a short key'), 1);
    assert.match(output, /API_KEY=\(\d+ characters, hidden\): an API key must be at least 16 characters/);
    assert.doesNotMatch(output, /15-characters!!/, 'the key itself is not printed');

    const key = 'key-from-dotenv-0123456789';
    await writeFile(path.join(workDir, '.env'), `API_KEY=${key}\nDATA_DIR=${path.join(scratch, 'dotenv-data')}\n`);
    const services = await startServices({}, 'registration', { workDir });
    try {
      assert.equal((await getJson(`${services.registration}/students`)).status, 401);
      assert.equal((await getJson(`${services.registration}/students`, { 'x-api-key': key })).status, 200);
      assert.equal((await postJson(`${services.registration}/add-student`, { classStudents: [{ rollNo: '1', url: 'https://photos.invalid/1.jpg' }] }, { 'x-api-key': key })).status, 200);
      await readFile(path.join(scratch, 'dotenv-data', 'students_data.json'), 'utf8');
    } finally {
      await services.stop();
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
});

test('PHOTO_MAX_BYTES, PHOTO_TIMEOUT_MS and PHOTO_MAX_REDIRECTS decide which photos a session refuses', async () => {
  const frames = path.join(scratch, 'no-frames');
  await mkdir(frames, { recursive: true });
  const session = await recognitionApp(path.join(scratch, 'photo-limits'), { CAMERA: `dir:${frames}`, PHOTO_MAX_BYTES: '40000', PHOTO_TIMEOUT_MS: '800', PHOTO_MAX_REDIRECTS: '0' });
  try {
    await session.students.addMany(
      [
        { rollNo: 'large', url: `${photos.origin}/obama.jpg` },
        { rollNo: 'slow', url: `${photos.origin}/drip.jpg` },
        { rollNo: 'redirected', url: `${photos.origin}/redirect.jpg` },
      ],
      'now',
    );
    const size = (await readFile(path.join(FIXTURES, 'photos/obama.jpg'))).length;
    assert.ok(size > 40_000, `obama.jpg (${size} bytes) is over the limit`);
    assert.equal((await session.call('POST', '/start-recognition')).status, 200);
    const enrolled = await waitFor(async () => ((await session.status()).phase !== 'enrolling' ? await session.status() : undefined), 'enrollment');
    assert.deepEqual(
      Object.fromEntries(enrolled.enrollmentErrors.map((problem: { rollNo: string; code: string; message: string }) => [problem.rollNo, [problem.code, problem.message]])),
      {
        large: ['PHOTO_TOO_LARGE', enrolled.enrollmentErrors.find((p: { rollNo: string }) => p.rollNo === 'large').message],
        slow: ['PHOTO_TIMEOUT', enrolled.enrollmentErrors.find((p: { rollNo: string }) => p.rollNo === 'slow').message],
        redirected: ['PHOTO_DOWNLOAD_FAILED', enrolled.enrollmentErrors.find((p: { rollNo: string }) => p.rollNo === 'redirected').message],
      },
    );
    const messages = Object.fromEntries(enrolled.enrollmentErrors.map((problem: { rollNo: string; message: string }) => [problem.rollNo, problem.message]));
    assert.match(messages.large, /40000 byte limit/);
    assert.match(messages.slow, /longer than 800 ms/);
    assert.match(messages.redirected, /more than 0 redirects/);
    assert.equal((await session.call('POST', '/stop-recognition')).status, 200);
  } finally {
    await session.app.close();
  }
});

test('ENROLLMENT_THREADS sets how many threads encode a cold enrollment', async () => {
  const frames = path.join(scratch, 'no-frames');
  await mkdir(frames, { recursive: true });
  const students = Array.from({ length: 8 }, (_, i) => ({ rollNo: `s${i}`, url: `${photos.origin}/p/${i}.jpg` }));
  // The value that differs from the default (the core count): one cold enrollment shows the setting is used.
  for (const threads of [os.availableParallelism() > 1 ? '1' : '2']) {
    const services = await startServices({ DATA_DIR: path.join(scratch, `threads-${threads}`), CAMERA: `dir:${frames}`, PRIVATE_URL_HOSTS: '127.0.0.1', ENROLLMENT_THREADS: threads }, 'both');
    try {
      assert.equal((await postJson(`${services.registration}/add-student`, { classStudents: students })).status, 200);
      assert.equal((await postJson(`${services.recognition}/start-recognition`)).status, 200);
      const finished = await services.logged((record) => record.msg === 'enrollment finished', 'enrollment to finish', 120_000);
      assert.equal(finished.threads, Number(threads), `ENROLLMENT_THREADS=${threads}`);
      assert.equal(finished.enrolled, 8);
      assert.equal((await postJson(`${services.recognition}/stop-recognition`)).status, 200);
    } finally {
      await services.stop();
    }
  }
});

test('MATCH_MARGIN decides whether a face close to two students marks the nearer one', async () => {
  const frames = path.join(scratch, 'obama-frames');
  await mkdir(frames, { recursive: true });
  for (const name of ['1.jpg', '2.jpg']) await copyFile(path.join(FIXTURES, 'frames/02-obama.jpg'), path.join(frames, name));
  // obama and his second photo registered as two students: the face is as near to one as to the other (0.359 and
  // 0.376 fused).
  const marked: Record<string, string[]> = {};
  for (const margin of ['0', '0.1']) {
    const session = await recognitionApp(path.join(scratch, `margin-${margin}`), { CAMERA: `dir:${frames}`, MATCH_MARGIN: margin });
    try {
      await session.students.addMany([{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }, { rollNo: 'obama-twin', url: `${photos.origin}/obama-3.jpg` }], 'now');
      assert.equal((await session.call('POST', '/start-recognition')).status, 200);
      const ended = await waitFor(async () => ((await session.status()).sourceEnded ? await session.status() : undefined), 'the frames to be read');
      assert.equal(ended.enrolled, 2);
      marked[margin] = (await session.call('POST', '/stop-recognition')).json.recognizedStudents.map((record: { rollNo: string }) => record.rollNo);
    } finally {
      await session.app.close();
    }
  }
  assert.equal(marked['0']!.length, 1, `without a margin the nearer of the two is marked (${marked['0']})`);
  assert.deepEqual(marked['0.1'], [], 'with the default margin a face too close to call marks nobody');
});

test('a reconnecting client is replayed the last 200 events, no more', async () => {
  const frames = path.join(scratch, 'no-frames');
  await mkdir(frames, { recursive: true });
  const session = await recognitionApp(path.join(scratch, 'replay'), { CAMERA: `dir:${frames}` });
  const base = await session.app.listen({ host: '127.0.0.1', port: 0 });
  try {
    // One enrollment-problem event per missing photo: 230 of them, between session-started and session-stopped.
    await session.students.addMany(Array.from({ length: 230 }, (_, i) => ({ rollNo: `m${i}`, url: `${photos.origin}/missing-${i}.jpg` })), 'now');
    const live = await openEventStream(`${base}/events`);
    assert.equal((await session.call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => ((await session.status()).phase !== 'enrolling' ? true : undefined), 'enrollment');
    assert.equal((await session.call('POST', '/stop-recognition')).status, 200);
    await waitFor(async () => (live.events.some((event) => event.event === 'session-stopped') ? true : undefined), 'the stop event');
    live.close();
    assert.equal(live.events.length, 232);
    const replay = await openEventStream(`${base}/events`, { 'last-event-id': live.events[0]!.id });
    await waitFor(async () => (replay.events.some((event) => event.event === 'session-stopped') ? true : undefined), 'the replay');
    replay.close();
    assert.deepEqual(replay.events.map((event) => event.id), live.events.slice(-200).map((event) => event.id));
  } finally {
    await session.app.close();
  }
});

test('a snapshot waits 10 s for a frame, then answers 409 NO_SNAPSHOT', { timeout: 90_000 }, async () => {
  const bin = path.join(scratch, 'stuck-bin');
  const release = path.join(scratch, 'release-camera');
  await mkdir(bin);
  // A camera that opens but delivers nothing until the test lets it.
  await writeFile(path.join(bin, 'fswebcam'), `#!/bin/sh\nfor last; do :; done\nwhile [ ! -e '${release}' ]; do sleep 0.1; done\ncp '${path.join(FIXTURES, 'frames/01-empty-room.jpg')}' "$last"\n`);
  await chmod(path.join(bin, 'fswebcam'), 0o755);
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
  const session = await recognitionApp(path.join(scratch, 'snapshot-timeout'), { CAMERA: 'webcam' });
  try {
    assert.equal((await session.call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => ((await session.status()).phase === 'watching' ? true : undefined), 'the session to watch the camera');
    const asked = Date.now();
    const snapshot = await session.app.inject({ method: 'GET', url: '/snapshot.jpg' });
    const waited = Date.now() - asked;
    assert.equal(snapshot.statusCode, 409);
    assert.equal(snapshot.json().code, 'NO_SNAPSHOT');
    assert.match(snapshot.json().message, /No frame was processed within 10 s/);
    assert.ok(waited >= 10_000, `answered after ${waited} ms`);
    await writeFile(release, '');
    assert.equal((await session.call('POST', '/stop-recognition')).status, 200);
  } finally {
    await writeFile(release, '');
    process.env.PATH = savedPath;
    await session.app.close();
  }
});

test('a change of model version re-encodes each cached photo once, through the service, and caches it again', async () => {
  const frames = path.join(scratch, 'no-frames');
  await mkdir(frames, { recursive: true });
  const dataDir = path.join(scratch, 'model-change');
  await mkdir(dataDir);
  const students = [{ rollNo: 'obama', url: `${photos.origin}/p/0.jpg` }, { rollNo: 'rick', url: `${photos.origin}/p/1.jpg` }];
  // Cached by an older model: the entries look valid but must not be used.
  const stale = { url: '', sha256: '0'.repeat(64), descriptor: Buffer.alloc(512).toString('base64') };
  await writeFile(
    path.join(dataDir, 'descriptors.json'),
    JSON.stringify({ model: 'an-older-model', students: Object.fromEntries(students.map(({ rollNo, url }) => [rollNo, [{ ...stale, url }]])) }),
  );
  const session = await recognitionApp(dataDir, { CAMERA: `dir:${frames}` });
  const requested = () => photos.requests.filter((url) => url === '/p/0.jpg' || url === '/p/1.jpg');
  const before = requested().length;
  try {
    await session.students.addMany(students, 'now');
    for (const round of [1, 2]) {
      assert.equal((await session.call('POST', '/start-recognition')).status, 200);
      const enrolled = await waitFor(async () => ((await session.status()).phase !== 'enrolling' ? await session.status() : undefined), 'enrollment');
      assert.equal(enrolled.enrolled, 2, `round ${round}`);
      assert.equal((await session.call('POST', '/stop-recognition')).status, 200);
      assert.deepEqual(requested().slice(before).sort(), ['/p/0.jpg', '/p/1.jpg'], `round ${round}: each photo downloaded once, the first time only`);
    }
  } finally {
    await session.app.close();
  }
  const cache = JSON.parse(await readFile(path.join(dataDir, 'descriptors.json'), 'utf8'));
  assert.equal(cache.model, DESCRIPTOR_MODEL_VERSION);
  assert.deepEqual(Object.keys(cache.students).sort(), ['obama', 'rick']);
  for (const photos of Object.values(cache.students) as { sha256: string; descriptor: string }[][]) {
    assert.notEqual(photos[0]!.sha256, '0'.repeat(64), 'the stale entry was replaced');
    assert.notEqual(photos[0]!.descriptor, stale.descriptor);
  }
});
