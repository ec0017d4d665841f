// Classes: POST /add-student with a top-level classId, and a recognition service with CLASS_ID enrolling only that
// class (on the embedded JSON files; test/many-classrooms.test.ts covers the shared database).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import sharp from 'sharp';
import { loadConfig } from '../src/config/config.ts';
import { buildRegistrationApp } from '../src/registration/app.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';
import { FIXTURES, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { recognitionApp } from './helpers/recognition-app.ts';
import { frameFolder } from './helpers/rooms.ts';
import { waitFor } from './helpers/service-process.ts';

let scratch: string;
let photos: PhotoServer;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-classes-'));
  photos = await startPhotoServer({
    '/kun-2.jpg': async (_request, response) => response.end(await readFile(path.join(FIXTURES, 'look-alikes/kun-2.jpg'))),
  });
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

test('a classId registers students in a class, a registered student posted again joins it, and CLASS_ID enrolls only that class', async () => {
  const dataDir = path.join(scratch, 'data');
  await mkdir(dataDir);
  const students = new JsonStudentStore(dataDir);
  const registration = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dataDir }), students, logger: pino({ level: 'silent' }) });
  const post = async (body: unknown) => (await registration.inject({ method: 'POST', url: '/add-student', payload: body as object })).json();
  const student = (rollNo: string, photo: string) => ({ rollNo, url: `${photos.origin}/${photo}` });
  try {
    assert.deepEqual(await post({ classStudents: [student('obama', 'obama.jpg'), student('rick', 'rick.jpg')], classId: '7-b' }), {
      status: 'success',
      message: 'Data received. Added: 2 new student(s). Skipped: 0 duplicate(s).',
    });
    assert.deepEqual(await post({ classStudents: [student('kit', 'kit_harington.jpg'), student('rick', 'biden.jpg')], classId: '8-a' }), {
      status: 'success',
      message: 'Data received. Added: 1 new student(s). Skipped: 1 duplicate(s).',
    });
    assert.deepEqual(await post({ classStudents: [student('biden', 'biden.jpg')] }), { status: 'success', message: 'Data received. Added: 1 new student(s). Skipped: 0 duplicate(s).' });
    const bad = await registration.inject({ method: 'POST', url: '/add-student', payload: { classStudents: [student('zy', 'zy.jpg')], classId: 'room 7/b' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'INVALID_REQUEST');

    const view = async (rollNo: string) => (await registration.inject({ method: 'GET', url: `/students/${rollNo}` })).json();
    assert.deepEqual((await view('rick')).classes, ['7-b', '8-a'], 'rick joined 8-a too');
    assert.equal((await view('rick')).url, `${photos.origin}/rick.jpg`, 'and kept the photo he was registered with');
    assert.deepEqual((await view('biden')).classes, []);
    assert.equal((await view('zy')).code, 'STUDENT_NOT_FOUND', 'a refused request registers nobody');

    const camera = await frameFolder(path.join(scratch, 'frames'), ['01-empty-room.jpg']);
    const room = await recognitionApp(dataDir, { CAMERA: `dir:${camera}`, CLASS_ID: '8-a', ROOM: 'room-8a', ENROLLMENT_THREADS: '1' });
    try {
      assert.equal((await room.call('POST', '/start-recognition')).status, 200);
      const status = await waitFor(async () => {
        const current = await room.status();
        return current.sourceEnded ? current : undefined;
      }, 'the session to see its frame', 180_000);
      assert.equal(status.enrolled, 2, 'kit and rick, not obama or biden');
      assert.equal(status.classId, '8-a');
      assert.equal(status.room, 'room-8a');
      assert.deepEqual(photos.requests.map((request) => path.basename(request)).sort(), ['kit_harington.jpg', 'rick.jpg'], 'only the class’s photos were fetched');
      const roster = (await room.call('GET', '/roster')).json;
      assert.deepEqual(roster.students.map((entry: { rollNo: string }) => entry.rollNo), ['rick', 'kit'], 'the room’s roll-call page lists its class');
    } finally {
      await room.call('POST', '/stop-recognition');
      await room.app.close();
    }
  } finally {
    await registration.close();
  }
});

test('a student of another class who resembles a student of this class is not marked as her', async () => {
  // kun (class 8-a) and zy (class 7-b) are two people whose photos here the descriptor puts 0.45 to 0.53 apart: seen by the camera, this
  // photo of kun is 0.45 from zy's enrollment photo and 0.32 from his own. Room 8-a's session caches his descriptor;
  // room 7-b's camera then sees kun, and zy in another photo.
  const dataDir = path.join(scratch, 'look-alikes');
  await mkdir(dataDir);
  const registration = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dataDir }), students: new JsonStudentStore(dataDir), logger: pino({ level: 'silent' }) });
  try {
    for (const [rollNo, photo, classId] of [['zy', 'zy.jpg', '7-b'], ['kun', 'kun-2.jpg', '8-a']]) {
      const response = await registration.inject({ method: 'POST', url: '/add-student', payload: { classId, classStudents: [{ rollNo, url: `${photos.origin}/${photo}` }] } });
      assert.equal(response.statusCode, 200);
    }
  } finally {
    await registration.close();
  }
  const runSession = async (classId: string, frames: string[]) => {
    const camera = await mkdtemp(path.join(scratch, `camera-${classId}-`));
    for (const [i, frame] of frames.entries()) {
      await sharp(path.join(FIXTURES, frame)).resize({ width: 640, height: 480, fit: 'contain', background: '#303030' }).jpeg().toFile(path.join(camera, `${String(i).padStart(2, '0')}.jpg`));
    }
    const room = await recognitionApp(dataDir, { CAMERA: `dir:${camera}`, CLASS_ID: classId, ENROLLMENT_THREADS: '1' });
    try {
      assert.equal((await room.call('POST', '/start-recognition')).status, 200);
      const status = await waitFor(async () => {
        const current = await room.status();
        return current.sourceEnded ? current : undefined;
      }, 'the session to see its frames', 180_000);
      assert.equal(status.otherClassStudents, classId === '7-b' ? 1 : 0, 'kun is compared in room 7-b once room 8-a has encoded his photo');
      const stopped = await room.call('POST', '/stop-recognition');
      return stopped.json.recognizedStudents.map((student: { rollNo: string }) => student.rollNo);
    } finally {
      await room.call('POST', '/stop-recognition');
      await room.app.close();
    }
  };
  assert.deepEqual(await runSession('8-a', ['frames/01-empty-room.jpg']), []);
  assert.deepEqual(await runSession('7-b', Array(3).fill('look-alikes/kun.jpg')), [], 'kun is not marked as zy');
  assert.deepEqual(await runSession('7-b', Array(3).fill('photos/zy-2.jpg')), ['zy'], 'zy herself is');
});
