import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { buildRegistrationApp } from '../src/registration/app.ts';
import { DESCRIPTOR_LENGTH } from '../src/faces/face-descriptor.ts';
import { decodeDescriptor, encodeDescriptor } from '../src/storage/descriptor-store.ts';
import { JsonDescriptorStore } from '../src/storage/json-descriptor-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';
import { descriptorFrom, fusedDescriptor } from './helpers/descriptors.ts';
import { startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { recognitionApp } from './helpers/recognition-app.ts';
import { waitFor } from './helpers/service-process.ts';

let scratch: string;
let photos: PhotoServer;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-cache-'));
  photos = await startPhotoServer();
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

const everyone = async (rollNos: string[]) => new Set(rollNos);

test('descriptors survive the round trip, and another model version makes every entry stale', async () => {
  const cache = new JsonDescriptorStore(path.join(scratch, 'store'));
  await mkdir(path.join(scratch, 'store'));
  const descriptor = descriptorFrom((i) => i / DESCRIPTOR_LENGTH - 0.5);
  const photo = { url: 'https://photos.invalid/a.jpg', sha256: 'a'.repeat(64), descriptor: encodeDescriptor(descriptor) };
  await cache.recordMany('v1', { a: [photo] }, everyone);
  const listed = await cache.list('v1');
  assert.deepEqual(decodeDescriptor(listed.a![0]!.descriptor), descriptor);
  assert.equal(descriptor.length, 1152, "dlib's 128 values and faceres's 1024");
  assert.deepEqual(await cache.list('v2'), {}, 'descriptors of another model are never used');
  await cache.recordMany('v2', { b: [{ ...photo, url: 'https://photos.invalid/b.jpg' }] }, everyone);
  assert.deepEqual(Object.keys(await cache.list('v2')), ['b'], 'writing with a new model drops the old entries');
  assert.equal(await cache.remove('b'), true);
  assert.equal(await cache.remove('b'), false);
});

test('a student removed while a session writes back their descriptors does not keep them', async () => {
  const dataDir = path.join(scratch, 'race');
  await mkdir(dataDir);
  const students = new JsonStudentStore(dataDir);
  const descriptors = new JsonDescriptorStore(dataDir);
  await students.addMany([{ rollNo: 'a', url: 'https://photos.invalid/a.jpg' }, { rollNo: 'b', url: 'https://photos.invalid/b.jpg' }], 't0');
  const photo = (rollNo: string) => ({ url: `https://photos.invalid/${rollNo}.jpg`, sha256: rollNo.repeat(64), descriptor: encodeDescriptor(fusedDescriptor([0])) });
  let deletion: Promise<boolean> | undefined;
  await descriptors.recordMany('v1', { a: [photo('a')], b: [photo('b')] }, async (rollNos) => {
    // The session has checked the roster: both are registered. Then the registration service's DELETE arrives, in its
    // order: the roster entry first, then the descriptors.
    const registered = new Set((await students.list()).map((student) => student.rollNo));
    deletion = students.remove('a').then(() => descriptors.remove('a'));
    await waitFor(async () => ((await students.get('a')) ? undefined : true), 'the roster entry to go');
    return new Set(rollNos.filter((rollNo) => registered.has(rollNo)));
  });
  await deletion;
  assert.deepEqual(Object.keys(await descriptors.list('v1')), ['b'], "a's descriptors were written, then erased by the DELETE that waited for them");
});

test('a second session reuses cached descriptors without downloading; removing or re-photographing a student erases theirs', async () => {
  const dataDir = path.join(scratch, 'service');
  const frames = path.join(scratch, 'no-frames');
  await mkdir(frames, { recursive: true });
  const recognition = await recognitionApp(dataDir, { CAMERA: `dir:${frames}` });
  const registration = await buildRegistrationApp({
    config: loadConfig({ DATA_DIR: dataDir }),
    students: new JsonStudentStore(dataDir),
    logger: pino({ level: 'silent' }),
  });
  const session = async () => {
    assert.equal((await recognition.call('POST', '/start-recognition')).status, 200);
    const ended = await waitFor(async () => ((await recognition.status()).sourceEnded ? await recognition.status() : undefined), 'enrollment');
    await recognition.call('POST', '/stop-recognition');
    return ended;
  };
  const cachedRollNos = async () => Object.keys(JSON.parse(await readFile(path.join(dataDir, 'descriptors.json'), 'utf8')).students).sort();
  try {
    await recognition.students.addMany(
      [
        { rollNo: 'obama', url: `${photos.origin}/obama.jpg` },
        { rollNo: 'rick', url: `${photos.origin}/rick.jpg` },
      ],
      'now',
    );
    assert.equal((await session()).enrolled, 2);
    assert.deepEqual(await cachedRollNos(), ['obama', 'rick']);

    const downloadsBefore = photos.requests.length;
    assert.equal((await session()).enrolled, 2, 'both enrolled again');
    assert.equal(photos.requests.length, downloadsBefore, 'from the cache: no photo downloaded again');

    const removed = await registration.inject({ method: 'DELETE', url: '/students/obama' });
    assert.equal(removed.statusCode, 200);
    assert.deepEqual(await cachedRollNos(), ['rick'], "obama's descriptors are erased with obama");

    const rephotographed = await registration.inject({ method: 'PUT', url: '/students/rick/photo', payload: { url: `${photos.origin}/kit_harington.jpg` } });
    assert.equal(rephotographed.statusCode, 200);
    assert.deepEqual(await cachedRollNos(), [], "the old photo's descriptors go with the old photo");

    assert.equal((await session()).enrolled, 1);
    assert.equal(photos.requests.at(-1), '/kit_harington.jpg', 'the new photo is downloaded');
    assert.deepEqual(await cachedRollNos(), ['rick']);
  } finally {
    await Promise.all([recognition.app.close(), registration.close()]);
  }
});
