import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { getJson, postJson, startServices, waitFor, type RunningServices } from './helpers/service-process.ts';

// The whole system as a user runs it: `npm start`'s process, students registered over HTTP with photos served
// from a local web server, recognition over a folder of camera frames (CAMERA=dir:), real models on real faces.
// Frames: an empty room, obama twice, kit_harington twice (once too small to detect), rick twice, three strangers.
// biden is registered but never appears; one registration has no face, one has two, one URL gives 404.

let photos: PhotoServer;
let services: RunningServices;
let dataDir: string;

before(async () => {
  photos = await startPhotoServer();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'attendance-e2e-'));
  services = await startServices({
    DATA_DIR: dataDir,
    CAMERA: `dir:${path.join(FIXTURES, 'frames')}`,
    ALLOW_PRIVATE_URLS: '1',
    TIME_ZONE: 'Asia/Kolkata',
    // These frames show each person in single, unrelated frames; roll-call-on-face-tracks.test.ts covers face tracks.
    MATCH_MIN_FRAMES: '1',
  });
});

after(async () => {
  await services?.stop();
  await photos?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('registers students, recognises the registered ones in camera frames and reports each once', async () => {
  const student = (rollNo: string, photo: string) => ({ rollNo, url: `${photos.origin}/${photo}` });

  const first = await postJson(`${services.registration}/add-student`, {
    classStudents: [student('13030824141', 'obama.jpg'), student('13030824142', 'kit_harington.jpg'), student('13030824141', 'rick.jpg')],
  });
  assert.equal(first.status, 200);
  assert.deepEqual(first.json, { status: 'success', message: 'Data received. Added: 2 new student(s). Skipped: 1 duplicate(s).' });

  const second = await postJson(`${services.registration}/add-student`, {
    classStudents: [
      student('13030824142', 'biden.jpg'),
      student('13030824143', 'rick.jpg'),
      student('13030824144', 'biden.jpg'),
      student('13030824145', 'landscape.jpg'),
      student('13030824146', 'two_people.jpg'),
      student('13030824147', 'missing.jpg'),
    ],
  });
  assert.deepEqual(second.json, { status: 'success', message: 'Data received. Added: 5 new student(s). Skipped: 1 duplicate(s).' });

  const roster = JSON.parse(await readFile(path.join(dataDir, 'students_data.json'), 'utf8'));
  assert.deepEqual(
    roster.map((s: { rollNo: string; url: string }) => [s.rollNo, path.basename(s.url)]),
    [
      ['13030824141', 'obama.jpg'],
      ['13030824142', 'kit_harington.jpg'],
      ['13030824143', 'rick.jpg'],
      ['13030824144', 'biden.jpg'],
      ['13030824145', 'landscape.jpg'],
      ['13030824146', 'two_people.jpg'],
      ['13030824147', 'missing.jpg'],
    ],
  );

  const idle = await postJson(`${services.recognition}/stop-recognition`);
  assert.deepEqual(idle, { status: 200, json: { recognizedStudents: [] } }, 'stop with nothing running still answers');

  const started = await postJson(`${services.recognition}/start-recognition`);
  assert.deepEqual(started, { status: 200, json: { status: 'success', message: 'Face recognition process started.' } });

  const again = await postJson(`${services.recognition}/start-recognition`);
  assert.equal(again.status, 409);
  assert.match(again.json.message, /already running/);

  const ended = await waitFor(async () => {
    const { json } = await getJson(`${services.recognition}/status`);
    return json.sourceEnded ? json : undefined;
  }, 'the frame folder to be fully processed');
  assert.equal(ended.running, true);
  assert.equal(ended.framesProcessed, 10);
  assert.equal(ended.enrolled, 4);
  assert.deepEqual(
    ended.enrollmentErrors.map((e: { rollNo: string; code: string }) => [e.rollNo, e.code]),
    [
      ['13030824145', 'NO_FACE_FOUND'],
      ['13030824146', 'SEVERAL_FACES'],
      ['13030824147', 'PHOTO_DOWNLOAD_FAILED'],
    ],
  );
  assert.equal(ended.lastError, null);

  const stopped = await postJson(`${services.recognition}/stop-recognition`);
  assert.equal(stopped.status, 200);
  const present = stopped.json.recognizedStudents;
  assert.deepEqual(
    present.map((r: { rollNo: string }) => r.rollNo).sort(),
    ['13030824141', '13030824142', '13030824143'],
    'obama, kit_harington and rick are present; biden and the strangers are not',
  );
  for (const record of present) assert.match(record.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

  const status = (await getJson(`${services.recognition}/status`)).json;
  assert.equal(status.running, false);
  for (const record of present) {
    assert.deepEqual([record.source, record.sessionId, typeof record.distance], ['camera', status.sessionId, 'number'], 'each mark says the camera made it, in which session, how close');
  }

  const attendance = JSON.parse(await readFile(path.join(dataDir, 'attendance.json'), 'utf8'));
  const days = Object.keys(attendance.days);
  assert.equal(days.length, 1);
  assert.deepEqual(attendance.days[days[0]!], present, 'attendance.json holds exactly the reported records, each student once');
  assert.deepEqual(attendance.changes, [], 'the camera makes no change entries');

  const restarted = await postJson(`${services.recognition}/start-recognition`);
  assert.equal(restarted.status, 200);
  await waitFor(async () => ((await getJson(`${services.recognition}/status`)).json.sourceEnded ? true : undefined), 'second pass');
  const secondReport = await postJson(`${services.recognition}/stop-recognition`);
  assert.deepEqual(secondReport.json.recognizedStudents, present, 'a second session the same day marks nobody twice');
});
