// The documented limits could not both be met: 1000 students (MAX_STUDENTS_PER_REQUEST) of 2048-character URLs is
// about 2.1 MB, over the 1 MiB body limit (about 480 fit). POST /add-student now takes 3 KiB per student of
// MAX_STUDENTS_PER_REQUEST. And start-recognition answered 200 when model files were missing, the session then
// failing; it now refuses the start (503 MODEL_FILES_MISSING), as /ready already said.
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRecognitionApp } from '../../src/recognition/app.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { scratchFolder } from './helpers.ts';

let scratch: string;
before(async () => {
  scratch = await scratchFolder('documented-limits');
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const longUrl = (rollNo: string) => {
  const start = `https://photos.invalid/${rollNo}/`;
  return `${start}${'a'.repeat(2048 - start.length)}`;
};

test('1000 students with 64-character rollNos and 2048-character URLs fit in one POST /add-student', async () => {
  const dir = path.join(scratch, 'registration');
  await mkdir(dir);
  const app = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), students: new JsonStudentStore(dir), logger: pino({ level: 'silent' }) });
  try {
    const classStudents = Array.from({ length: 1000 }, (_, i) => {
      const rollNo = String(i).padStart(64, '0');
      return { rollNo, url: longUrl(rollNo) };
    });
    const payload = JSON.stringify({ classStudents });
    assert.ok(payload.length > 2_000_000, `${payload.length} bytes`);
    const added = await app.inject({ method: 'POST', url: '/add-student', headers: { 'content-type': 'application/json' }, payload });
    assert.equal(added.statusCode, 200, added.body.slice(0, 300));
    assert.match(added.json().message, /Added: 1000 new/);

    // The limit still holds beyond: 1001 students, or a body over 3 KiB a student.
    const tooMany = await app.inject({ method: 'POST', url: '/add-student', payload: { classStudents: [...classStudents, { rollNo: 'x', url: 'https://photos.invalid/x.jpg' }] } });
    assert.equal(tooMany.statusCode, 400);
    const huge = JSON.stringify({ classStudents: [{ rollNo: 'y', url: `https://photos.invalid/${'a'.repeat(3 * 1024 * 1000)}` }] });
    const tooLarge = await app.inject({ method: 'POST', url: '/add-student', headers: { 'content-type': 'application/json' }, payload: huge });
    assert.equal(tooLarge.statusCode, 413);
    assert.equal(tooLarge.json().status, 'error');
    // Other routes keep the 1 MiB limit.
    const bigPhoto = await app.inject({ method: 'PUT', url: `/students/${classStudents[0]!.rollNo}/photo`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ url: `https://photos.invalid/${'a'.repeat(1024 * 1024)}` }) });
    assert.equal(bigPhoto.statusCode, 413);
  } finally {
    await app.close();
  }
});

test('start-recognition without the model files is refused with 503 MODEL_FILES_MISSING and starts nothing', async () => {
  const dir = path.join(scratch, 'recognition');
  await mkdir(dir);
  const config = loadConfig({ DATA_DIR: dir, MODELS_DIR: path.join(scratch, 'no-models'), CAMERA: `dir:${path.join(scratch, 'no-frames')}`, LOG_LEVEL: 'silent' });
  const app = await buildRecognitionApp({ config, students: new JsonStudentStore(dir), attendance: new JsonAttendanceStore(dir), logger: pino({ level: 'silent' }) });
  try {
    const start = await app.inject({ method: 'POST', url: '/start-recognition' });
    assert.equal(start.statusCode, 503, start.body);
    assert.equal(start.json().code, 'MODEL_FILES_MISSING');
    assert.match(start.json().message, /^No session was started: model files missing: .*ssd_mobilenetv1_model-weights_manifest\.json/);
    assert.doesNotMatch(start.body, new RegExp(scratch));
    const status = (await app.inject({ method: 'GET', url: '/status' })).json();
    assert.equal(status.running, false);
    assert.equal(status.phase, 'idle');
  } finally {
    await app.inject({ method: 'POST', url: '/stop-recognition' });
    await app.close();
  }
});
