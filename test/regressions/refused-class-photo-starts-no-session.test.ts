// A class photo refused (not an image, a URL not allowed, a host that does not resolve) used to start a session first:
// the whole roster enrolled, its photos fetched, enrollment.json written and session events sent, about 2 s of work for
// any junk request. The photo is now fetched and checked before anything starts.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startPhotoServer } from '../helpers/photo-server.ts';
import { recognitionApp } from '../helpers/recognition-app.ts';

test('a refused class photo starts no session: no roster photo fetched, nothing written', async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-refused-photo-'));
  const photos = await startPhotoServer();
  const dataDir = path.join(scratch, 'data');
  const service = await recognitionApp(dataDir, { CAMERA: `dir:${scratch}`, ALLOW_PRIVATE_URLS: 'false', PRIVATE_URL_HOSTS: '127.0.0.1' });
  try {
    await service.students.addMany([{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }], 'now');
    const filesBefore = await readdir(dataDir);
    const refusals = [
      { headers: { 'content-type': 'image/jpeg' }, payload: Buffer.from('not a jpeg'), code: 'PHOTO_NOT_AN_IMAGE' },
      { payload: { url: 'http://169.254.169.254/latest/meta-data.jpg' }, code: 'PHOTO_URL_FORBIDDEN' },
      { payload: { url: 'https://photos.example.invalid/class.jpg' }, code: 'PHOTO_DOWNLOAD_FAILED' },
    ];
    for (const { code, ...request } of refusals) {
      const response = await service.app.inject({ method: 'POST', url: '/recognize-photo', ...request });
      assert.deepEqual([response.statusCode, response.json().code], [422, code]);
    }
    assert.deepEqual(photos.requests, [], 'no student photo was fetched');
    assert.deepEqual(await readdir(dataDir), filesBefore, 'no enrollment or descriptor file was written');
    const status = await service.status();
    assert.deepEqual([status.sessionId, status.phase], [null, 'idle'], 'no session was started');
  } finally {
    await service.app.close();
    await photos.close();
    await rm(scratch, { recursive: true, force: true });
  }
});

test('without its model files a service refuses a class photo before fetching it', async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-no-models-photo-'));
  const photos = await startPhotoServer();
  const service = await recognitionApp(path.join(scratch, 'data'), { CAMERA: `dir:${scratch}`, MODELS_DIR: scratch });
  try {
    const response = await service.app.inject({ method: 'POST', url: '/recognize-photo', payload: { url: `${photos.origin}/obama.jpg` } });
    assert.deepEqual([response.statusCode, response.json().code], [503, 'MODEL_FILES_MISSING']);
    assert.deepEqual(photos.requests, [], 'the photo was not fetched');
  } finally {
    await service.app.close();
    await photos.close();
    await rm(scratch, { recursive: true, force: true });
  }
});
