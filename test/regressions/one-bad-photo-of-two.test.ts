// A student registered with two photos, one of which could not be downloaded, was enrolled from the other and marked
// by the camera, yet `/roster` (the roll-call page's "photo problem") and `GET /students` said their photo was
// unusable: the failed photo's verdict was written after the usable one and replaced it. A teacher was told to fix a
// student the camera recognised.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startPhotoServer } from '../helpers/photo-server.ts';
import { recognitionApp } from '../helpers/recognition-app.ts';
import { waitFor } from '../helpers/service-process.ts';

test('a student enrolled from one of two photos is usable; the failed photo is still reported in /status', async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-one-bad-photo-'));
  const photos = await startPhotoServer();
  const { app, students, call, status } = await recognitionApp(path.join(scratch, 'data'), { CAMERA: `dir:${path.join(scratch, 'no-frames')}` });
  try {
    const good = `${photos.origin}/rick.jpg`;
    await students.addMany([{ rollNo: 'rick', url: good, urls: [good, 'http://photos.invalid/rick-2.jpg'] }], '2026-12-01T08:00:00.000Z');
    assert.equal((await call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => ((await status()).enrolled === 1 ? true : undefined), 'enrollment');
    await call('POST', '/stop-recognition');
    const [listed] = (await call('GET', '/roster')).json.students;
    assert.equal(listed.photo.usable, true, JSON.stringify(listed.photo));
    const errors = (await status()).enrollmentErrors as { rollNo: string; message: string }[];
    assert.deepEqual(errors.map((error) => error.rollNo), ['rick']);
    assert.match(errors[0]!.message, /photo 2 of 2/);
  } finally {
    await app.close();
    await photos.close();
    await rm(scratch, { recursive: true, force: true });
  }
});
