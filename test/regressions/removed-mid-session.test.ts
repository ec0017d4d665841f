// A student removed while a session runs used to be marked by it afterwards (the session still holds their
// descriptor), undoing `DELETE /students/:rollNo?attendance=delete`.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import { recognitionApp } from '../helpers/recognition-app.ts';
import { waitFor } from '../helpers/service-process.ts';
import { switchableWebcam, type SwitchableWebcam } from '../helpers/switchable-webcam.ts';

let scratch: string;
let photos: PhotoServer;
let webcam: SwitchableWebcam;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-removed-'));
  photos = await startPhotoServer();
  webcam = await switchableWebcam(scratch);
});
after(async () => {
  webcam.restore();
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

test('a student removed during a session is not marked by it afterwards; the others still are', async () => {
  const dataDir = path.join(scratch, 'data');
  await webcam.show('01-empty-room.jpg');
  const recognition = await recognitionApp(dataDir, { CAMERA: 'webcam', MATCH_MIN_FRAMES: '1' });
  const registration = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dataDir }), students: recognition.students, logger: pino({ level: 'silent' }) });
  await recognition.students.addMany(
    [
      { rollNo: 'obama', url: `${photos.origin}/obama.jpg` },
      { rollNo: 'rick', url: `${photos.origin}/rick.jpg` },
    ],
    new Date().toISOString(),
  );
  const framesAfter = async (count: number) => {
    const start = (await recognition.status()).framesProcessed;
    await waitFor(async () => ((await recognition.status()).framesProcessed >= start + count ? true : undefined), `${count} more frames`);
  };
  try {
    assert.equal((await recognition.call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => ((await recognition.status()).phase === 'watching' ? true : undefined), 'enrollment');
    assert.equal((await recognition.status()).enrolled, 2);

    const removed = await registration.inject({ method: 'DELETE', url: '/students/obama?attendance=delete' });
    assert.equal(removed.statusCode, 200);
    await webcam.show('02-obama.jpg');
    await framesAfter(3);
    await webcam.show('07-rick.jpg');
    await waitFor(async () => ((await recognition.status()).recognizedThisSession >= 1 ? true : undefined), 'rick to be marked');

    const stopped = await recognition.call('POST', '/stop-recognition');
    assert.deepEqual(stopped.json.recognizedStudents.map((record: { rollNo: string }) => record.rollNo), ['rick']);
    const attendance = JSON.parse(await readFile(path.join(dataDir, 'attendance.json'), 'utf8'));
    assert.deepEqual(Object.values(attendance.days).flat().map((record) => (record as { rollNo: string }).rollNo), ['rick'], 'obama stays erased');
  } finally {
    await recognition.call('POST', '/stop-recognition');
    await recognition.app.close();
    await registration.close();
  }
});
