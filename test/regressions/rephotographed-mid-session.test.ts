// A student given a new photo while a session was enrolling got the old photo's descriptor written back to the cache
// by that session; with the same URL, the next session reused it instead of fetching the new picture.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { FIXTURES, startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import { recognitionApp } from '../helpers/recognition-app.ts';
import { waitFor } from '../helpers/service-process.ts';

let scratch: string;
let photos: PhotoServer;
let release: () => void;
const held = new Promise<void>((resolve) => (release = resolve));

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-rephotographed-'));
  // rick's photo is answered only when the test says so: the session is still enrolling until then.
  photos = await startPhotoServer({
    '/held/rick.jpg': (_request, response) => {
      void held.then(async () => response.writeHead(200, { 'content-type': 'image/jpeg' }).end(await readFile(path.join(FIXTURES, 'photos/rick.jpg'))));
    },
  });
});
after(async () => {
  release();
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

test('a photo replaced during enrollment (same URL) is not cached from the old picture, and the next session fetches it again', async () => {
  const dataDir = path.join(scratch, 'data');
  const frames = path.join(scratch, 'frames');
  await mkdir(frames, { recursive: true });
  await copyFile(path.join(FIXTURES, 'frames/01-empty-room.jpg'), path.join(frames, '1.jpg'));
  const recognition = await recognitionApp(dataDir, { CAMERA: `dir:${frames}` });
  const registration = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dataDir }), students: recognition.students, logger: pino({ level: 'silent' }) });
  const obamaUrl = `${photos.origin}/obama.jpg`;
  await recognition.students.addMany([{ rollNo: 'obama', url: obamaUrl }, { rollNo: 'rick', url: `${photos.origin}/held/rick.jpg` }], new Date().toISOString());
  const readJson = async (file: string) => JSON.parse(await readFile(path.join(dataDir, file), 'utf8'));
  const obamaDownloads = () => photos.requests.filter((url) => url === '/obama.jpg').length;
  try {
    assert.equal((await recognition.call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => (obamaDownloads() === 1 && photos.requests.includes('/held/rick.jpg') ? true : undefined), 'both photos requested');
    const replaced = await registration.inject({ method: 'PUT', url: '/students/obama/photo', payload: { url: obamaUrl } });
    assert.equal(replaced.statusCode, 200);
    release();
    await waitFor(async () => ((await recognition.status()).phase !== 'enrolling' ? true : undefined), 'enrollment to finish');
    await recognition.call('POST', '/stop-recognition');

    assert.deepEqual(Object.keys((await readJson('descriptors.json')).students), ['rick'], "obama's old picture is not cached");
    assert.deepEqual(Object.keys(await readJson('enrollment.json')), ['rick'], 'nor is a verdict on it kept');

    assert.equal((await recognition.call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => ((await recognition.status()).phase !== 'enrolling' ? true : undefined), 'the second enrollment');
    await recognition.call('POST', '/stop-recognition');
    assert.equal(obamaDownloads(), 2, 'the second session fetched the replaced photo again');
    assert.deepEqual(Object.keys((await readJson('descriptors.json')).students).sort(), ['obama', 'rick']);
  } finally {
    await recognition.call('POST', '/stop-recognition');
    await recognition.app.close();
    await registration.close();
  }
});
