// A rollNo that is a built-in JavaScript property name (`toString`, `constructor`, `valueOf`, `hasOwnProperty`,
// `isPrototypeOf`) passed validation, and every lookup keyed by rollNo in a plain object then found the prototype's
// function: once such a student was registered, every `POST /start-recognition` answered 500 (`photos.map is not a
// function`) until they were deleted, and `DELETE /students/valueOf` for a student never registered answered 200 with
// `"removedEnrollmentOutcome":true`. Such names are ordinary rollNos now, in every store, route and session; `__proto__`
// stays refused by the rollNo rule (it starts with `_`).
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonDescriptorStore } from '../../src/storage/json-descriptor-store.ts';
import { JsonEnrollmentStore } from '../../src/storage/json-enrollment-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { FIXTURES, startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import { recognitionApp } from '../helpers/recognition-app.ts';
import { waitFor } from '../helpers/service-process.ts';
import { scratchFolder } from './helpers.ts';

const BUILT_IN_NAMES = ['toString', 'constructor', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString'];
const allowAll = async (rollNos: string[]) => new Set(rollNos);

let scratch: string;
let photos: PhotoServer;

before(async () => {
  scratch = await scratchFolder('prototype-rollnos');
  photos = await startPhotoServer();
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

test('every store treats built-in property names as ordinary rollNos, present or absent', async () => {
  const dir = path.join(scratch, 'stores');
  await mkdir(dir);
  const students = new JsonStudentStore(dir);
  const attendance = new JsonAttendanceStore(dir);
  const enrollments = new JsonEnrollmentStore(dir);
  const descriptors = new JsonDescriptorStore(dir);
  const [registered, ...neverRegistered] = BUILT_IN_NAMES;

  // Nothing stored yet: none of them is found anywhere.
  for (const rollNo of BUILT_IN_NAMES) {
    assert.equal(await students.get(rollNo), undefined);
    assert.equal(await enrollments.get(rollNo), undefined, `no verdict for ${rollNo}`);
    assert.equal(await enrollments.remove(rollNo), false, `nothing to remove for ${rollNo}`);
    assert.equal(await descriptors.remove(rollNo), false, `no descriptors for ${rollNo}`);
    assert.deepEqual(await attendance.removeStudent(rollNo), { records: 0, changes: 0 });
  }
  assert.deepEqual(await descriptors.list('v1'), {});

  await students.addMany([{ rollNo: registered!, url: 'https://photos.invalid/a.jpg' }], 'then');
  assert.equal((await students.get(registered!))?.url, 'https://photos.invalid/a.jpg');
  assert.equal((await students.replacePhoto(registered!, { url: 'https://photos.invalid/b.jpg' }, 'later'))?.url, 'https://photos.invalid/b.jpg');
  assert.equal(await students.replacePhoto(neverRegistered[0]!, { url: 'https://photos.invalid/c.jpg' }, 'later'), undefined);

  assert.equal(await attendance.markPresent('2025-09-06', { rollNo: registered!, timestamp: '2025-09-06T08:00:00Z' }, allowAll), 'marked');
  assert.equal(await attendance.markPresent('2025-09-06', { rollNo: registered!, timestamp: '2025-09-06T08:01:00Z' }, allowAll), 'already-present');
  assert.deepEqual((await attendance.listDay('2025-09-06')).map((record) => record.rollNo), [registered]);

  await enrollments.recordMany({ [registered!]: { usable: true, url: 'https://photos.invalid/b.jpg', checkedAt: 'now' } });
  assert.equal((await enrollments.get(registered!))?.usable, true);
  for (const rollNo of neverRegistered) assert.equal(await enrollments.get(rollNo), undefined, `${rollNo} has no verdict`);

  const photo = { url: 'https://photos.invalid/b.jpg', sha256: '0'.repeat(64), descriptor: 'AAAA' };
  await descriptors.recordMany('v1', { [registered!]: [photo] }, allowAll);
  assert.deepEqual(Object.keys(await descriptors.list('v1')), [registered]);
  for (const rollNo of neverRegistered) assert.equal(await descriptors.remove(rollNo), false, `${rollNo} has no descriptors`);

  // What was stored is removed once, and then there is nothing left.
  assert.equal(await students.remove(registered!), true);
  assert.equal(await enrollments.remove(registered!), true);
  assert.equal(await enrollments.remove(registered!), false);
  assert.equal(await descriptors.remove(registered!), true);
  assert.equal(await descriptors.remove(registered!), false);
  assert.deepEqual(await attendance.removeStudent(registered!), { records: 1, changes: 0 });
});

test('the registration routes treat built-in property names as ordinary rollNos; __proto__ is refused', async () => {
  const dir = path.join(scratch, 'registration');
  await mkdir(dir);
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const app = await buildRegistrationApp({ config, students: new JsonStudentStore(dir), logger: pino({ level: 'silent' }) });
  try {
    // Never registered: 404, nothing "removed".
    for (const rollNo of BUILT_IN_NAMES) {
      const removed = await app.inject({ method: 'DELETE', url: `/students/${rollNo}` });
      assert.equal(removed.statusCode, 404, `DELETE /students/${rollNo} before registration: ${removed.body}`);
      assert.equal((await app.inject({ method: 'GET', url: `/students/${rollNo}` })).statusCode, 404);
      assert.equal((await app.inject({ method: 'PUT', url: `/students/${rollNo}/photo`, payload: { url: 'https://photos.invalid/x.jpg' } })).statusCode, 404);
    }
    const added = await app.inject({
      method: 'POST',
      url: '/add-student',
      payload: { classStudents: BUILT_IN_NAMES.map((rollNo) => ({ rollNo, url: `https://photos.invalid/${rollNo}.jpg` })) },
    });
    assert.equal(added.statusCode, 200);
    assert.match(added.json().message, new RegExp(`Added: ${BUILT_IN_NAMES.length} new`));

    const listed = (await app.inject({ method: 'GET', url: '/students' })).json();
    assert.deepEqual(listed.students.map((student: { rollNo: string }) => student.rollNo), BUILT_IN_NAMES);
    for (const student of listed.students) assert.deepEqual(student.photo, { usable: null, checkedAt: null, problem: null });
    for (const rollNo of BUILT_IN_NAMES) {
      const one = await app.inject({ method: 'GET', url: `/students/${rollNo}` });
      assert.equal(one.statusCode, 200);
      assert.equal(one.json().rollNo, rollNo);
      const rephotographed = await app.inject({ method: 'PUT', url: `/students/${rollNo}/photo`, payload: { url: `https://photos.invalid/${rollNo}-2.jpg` } });
      assert.equal(rephotographed.statusCode, 200);
      assert.equal(rephotographed.json().url, `https://photos.invalid/${rollNo}-2.jpg`);
    }
    const removed = await app.inject({ method: 'DELETE', url: '/students/valueOf?attendance=delete' });
    assert.deepEqual(removed.json(), { status: 'success', rollNo: 'valueOf', removedFromRoster: true, removedEnrollmentOutcome: false, removedAttendanceRecords: 0, removedAttendanceChanges: 0 });
    assert.equal((await app.inject({ method: 'DELETE', url: '/students/valueOf' })).statusCode, 404);

    const proto = await app.inject({
      method: 'POST',
      url: '/add-student',
      headers: { 'content-type': 'application/json' },
      payload: '{"classStudents":[{"rollNo":"__proto__","url":"https://photos.invalid/p.jpg"}]}',
    });
    assert.equal(proto.statusCode, 400);
    assert.equal(proto.json().code, 'INVALID_REQUEST');
    assert.match(proto.json().message, /rollNo may only contain/);
  } finally {
    await app.close();
  }
});

test('a recognition session enrolls, recognises and reports students named after built-in properties, twice (the second start from the descriptor cache)', async () => {
  const dir = path.join(scratch, 'session');
  const frames = path.join(scratch, 'frames');
  await mkdir(frames);
  for (const frame of ['01-empty-room.jpg', '02-obama.jpg', '07-rick.jpg', '03-stranger.jpg']) await copyFile(path.join(FIXTURES, 'frames', frame), path.join(frames, frame));
  const recognition = await recognitionApp(dir, { CAMERA: `dir:${frames}`, MATCH_MIN_FRAMES: '1', ENROLLMENT_THREADS: '1' });
  const registration = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dir }), students: recognition.students, logger: pino({ level: 'silent' }) });
  const photoOf = { constructor: 'obama.jpg', toString: 'rick.jpg', valueOf: 'biden.jpg', hasOwnProperty: 'kit_harington.jpg', isPrototypeOf: 'landscape.jpg' };
  const added = await registration.inject({
    method: 'POST',
    url: '/add-student',
    payload: { classStudents: Object.entries(photoOf).map(([rollNo, photo]) => ({ rollNo, url: `${photos.origin}/${photo}` })) },
  });
  assert.equal(added.statusCode, 200);
  const runSession = async () => {
    const started = await recognition.call('POST', '/start-recognition');
    assert.equal(started.status, 200, JSON.stringify(started.json));
    const ended = await waitFor(async () => {
      const status = await recognition.status();
      return status.phase === 'source-ended' || status.phase === 'failed' ? status : undefined;
    }, 'the frames to be read');
    assert.equal(ended.phase, 'source-ended', ended.lastError);
    const stopped = await recognition.call('POST', '/stop-recognition');
    return { ended, stopped: stopped.json };
  };
  try {
    const first = await runSession();
    assert.equal(first.ended.enrolled, 4);
    assert.deepEqual(first.ended.enrollmentErrors.map((problem: { rollNo: string; code: string }) => [problem.rollNo, problem.code]), [['isPrototypeOf', 'NO_FACE_FOUND']]);
    assert.deepEqual(first.stopped.recognizedStudents.map((record: { rollNo: string }) => record.rollNo).sort(), ['constructor', 'toString']);
    // The event stream replays them like anyone else's (Last-Event-ID: 0 asks for every kept event).
    const base = await recognition.app.listen({ host: '127.0.0.1', port: 0 });
    const stream = await fetch(`${base}/events`, { headers: { 'last-event-id': '0' } });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let replayed = '';
    while (!/"rollNo":"toString"/.test(replayed) || !/"rollNo":"constructor"/.test(replayed) || !/"rollNo":"isPrototypeOf"/.test(replayed)) {
      const { value, done } = await reader.read();
      if (done) break;
      replayed += value;
    }
    await reader.cancel();
    assert.match(replayed, /event: student-present\ndata: \{[^\n]*"rollNo":"constructor"/);
    assert.match(replayed, /event: enrollment-problem\ndata: \{[^\n]*"rollNo":"isPrototypeOf"/);
    const cache = JSON.parse(await readFile(path.join(dir, 'descriptors.json'), 'utf8'));
    assert.deepEqual(Object.keys(cache.students).sort(), ['constructor', 'hasOwnProperty', 'toString', 'valueOf']);

    const second = await runSession();
    assert.equal(second.ended.enrolled, 4, 'enrolled again, from the cache');

    const roster = (await recognition.call('GET', '/roster')).json;
    const byRollNo = new Map<string, any>(roster.students.map((student: { rollNo: string }) => [student.rollNo, student]));
    assert.equal(byRollNo.get('constructor').photo.usable, true);
    assert.notEqual(byRollNo.get('constructor').presentAt, null);
    assert.equal(byRollNo.get('isPrototypeOf').photo.problem.code, 'NO_FACE_FOUND');
    assert.equal(byRollNo.get('valueOf').presentAt, null);

    const day = roster.day;
    const report = (await recognition.call('GET', `/attendance?date=${day}&include=absent`)).json;
    assert.deepEqual(report.days[0].present.map((record: { rollNo: string }) => record.rollNo).sort(), ['constructor', 'toString']);
    assert.deepEqual(report.days[0].absent.sort(), ['hasOwnProperty', 'isPrototypeOf', 'valueOf']);
    const csv = await recognition.app.inject({ method: 'GET', url: `/attendance?date=${day}&include=absent&format=csv` });
    assert.match(csv.body, new RegExp(`${day},constructor,present,`));

    const students = (await registration.inject({ method: 'GET', url: '/students' })).json().students;
    assert.deepEqual(students.find((student: { rollNo: string }) => student.rollNo === 'toString').photo.usable, true);

    const erased = await registration.inject({ method: 'DELETE', url: '/students/constructor?attendance=delete' });
    assert.deepEqual(erased.json(), { status: 'success', rollNo: 'constructor', removedFromRoster: true, removedEnrollmentOutcome: true, removedAttendanceRecords: 1, removedAttendanceChanges: 0 });
    const cacheAfter = JSON.parse(await readFile(path.join(dir, 'descriptors.json'), 'utf8'));
    assert.equal(Object.hasOwn(cacheAfter.students, 'constructor'), false, 'the descriptors are erased too');
  } finally {
    await recognition.call('POST', '/stop-recognition');
    await recognition.app.close();
    await registration.close();
  }
});
