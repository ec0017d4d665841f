import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { buildRegistrationApp } from '../src/registration/app.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonEnrollmentStore } from '../src/storage/json-enrollment-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';

let dir: string;
let app: FastifyInstance;
let base: string;
let students: JsonStudentStore;
let attendance: JsonAttendanceStore;
let enrollments: JsonEnrollmentStore;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-roster-'));
  students = new JsonStudentStore(dir);
  attendance = new JsonAttendanceStore(dir);
  enrollments = new JsonEnrollmentStore(dir);
  app = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dir }), students, attendance, enrollments, logger: pino({ level: 'silent' }) });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  for (const file of ['students_data.json', 'attendance.json', 'enrollment.json']) await rm(path.join(dir, file), { force: true });
});

const photo = (name: string) => `https://photos.invalid/${name}.jpg`;
const call = async (method: string, route: string, body?: unknown) => {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as any };
};

async function registerThree() {
  const added = await call('POST', '/add-student', {
    classStudents: [
      { rollNo: 'a1', url: photo('a1') },
      { rollNo: 'b2', url: photo('b2') },
      { rollNo: 'c3', url: photo('c3') },
    ],
  });
  assert.equal(added.status, 200);
}

test('GET /students pages through the roster in registration order with the verdict on each photo', async () => {
  await registerThree();
  await enrollments.recordMany({
    a1: { usable: true, url: photo('a1'), checkedAt: '2025-09-06T09:00:00Z' },
    b2: { usable: false, url: photo('b2'), checkedAt: '2025-09-06T09:00:00Z', code: 'NO_FACE_FOUND', message: 'no face found in the photo' },
  });
  const first = await call('GET', '/students?limit=2');
  assert.equal(first.status, 200);
  assert.equal(first.json.total, 3);
  assert.deepEqual(first.json.students.map((s: { rollNo: string }) => s.rollNo), ['a1', 'b2']);
  assert.deepEqual(first.json.students[0].photo, { usable: true, checkedAt: '2025-09-06T09:00:00Z', problem: null });
  assert.deepEqual(first.json.students[1].photo, {
    usable: false,
    checkedAt: '2025-09-06T09:00:00Z',
    problem: { code: 'NO_FACE_FOUND', message: 'no face found in the photo' },
  });
  const second = await call('GET', '/students?offset=2&limit=2');
  assert.deepEqual(second.json.students.map((s: { rollNo: string }) => s.rollNo), ['c3']);
  assert.deepEqual(second.json.students[0].photo, { usable: null, checkedAt: null, problem: null }, 'not tried yet');
  for (const bad of ['limit=0', 'limit=501', 'offset=-1', 'limit=ten']) {
    const refused = await call('GET', `/students?${bad}`);
    assert.equal(refused.status, 400, bad);
    assert.equal(refused.json.code, 'INVALID_REQUEST', bad);
  }
});

test('GET /students/:rollNo answers one student, 404 for an unknown one, 400 for a malformed rollNo', async () => {
  await registerThree();
  const found = await call('GET', '/students/b2');
  assert.equal(found.status, 200);
  assert.equal(found.json.rollNo, 'b2');
  assert.equal(found.json.url, photo('b2'));
  assert.match(found.json.registeredAt, /^\d{4}-\d{2}-\d{2}T/);
  assert.equal(found.json.photoReplacedAt, null);
  const missing = await call('GET', '/students/zz9');
  assert.deepEqual(missing, { status: 404, json: { status: 'error', code: 'STUDENT_NOT_FOUND', message: 'No student with rollNo zz9 is registered.' } });
  assert.equal((await call('GET', '/students/..%2Fetc')).status, 400);
});

test('PUT /students/:rollNo/photo replaces the URL and forgets the verdict on the old photo', async () => {
  await registerThree();
  await enrollments.recordMany({
    b2: { usable: false, url: photo('b2'), checkedAt: '2025-09-06T09:00:00Z', code: 'SEVERAL_FACES', message: '2 faces found' },
  });
  const replaced = await call('PUT', '/students/b2/photo', { url: photo('b2-new') });
  assert.equal(replaced.status, 200);
  assert.equal(replaced.json.url, photo('b2-new'));
  assert.match(replaced.json.photoReplacedAt, /^\d{4}-\d{2}-\d{2}T/);
  assert.deepEqual(replaced.json.photo, { usable: null, checkedAt: null, problem: null });
  assert.equal((await students.get('b2'))?.url, photo('b2-new'));
  assert.equal(await enrollments.get('b2'), undefined);

  const rosterBefore = await readFile(path.join(dir, 'students_data.json'), 'utf8');
  const refusals: [unknown, string, number][] = [
    [{ url: 'file:///etc/passwd' }, '/students/b2/photo', 400],
    [{ url: photo('x'), extra: 1 }, '/students/b2/photo', 400],
    [{}, '/students/b2/photo', 400],
    [{ url: photo('x') }, '/students/zz9/photo', 404],
  ];
  for (const [body, route, status] of refusals) {
    const refused = await call('PUT', route, body);
    assert.equal(refused.status, status, JSON.stringify(body));
    assert.equal(refused.json.status, 'error');
  }
  assert.equal(await readFile(path.join(dir, 'students_data.json'), 'utf8'), rosterBefore);
});

test('DELETE /students/:rollNo removes the student and their enrollment outcome but keeps attendance by default', async () => {
  await registerThree();
  await enrollments.recordMany({ a1: { usable: true, url: photo('a1'), checkedAt: '2025-09-06T09:00:00Z' } });
  await attendance.markPresent('2025-09-06', { rollNo: 'a1', timestamp: '2025-09-06T09:00:00Z' });
  const removed = await call('DELETE', '/students/a1');
  assert.deepEqual(removed, {
    status: 200,
    json: { status: 'success', rollNo: 'a1', removedFromRoster: true, removedEnrollmentOutcome: true, removedAttendanceRecords: 0, removedAttendanceChanges: 0 },
  });
  assert.equal((await call('GET', '/students/a1')).status, 404);
  assert.deepEqual(Object.keys(await enrollments.list()), []);
  assert.deepEqual((await attendance.listDay('2025-09-06')).map((r) => r.rollNo), ['a1'], 'attendance history stays');
  assert.equal((await call('DELETE', '/students/a1')).status, 404, 'nothing left to remove');
  const erased = await call('DELETE', '/students/a1?attendance=delete');
  assert.equal(erased.status, 200, 'the history of a student removed earlier can still be erased');
  assert.equal(erased.json.removedAttendanceRecords, 1);
  assert.deepEqual(await attendance.listDay('2025-09-06'), []);
});

test('DELETE /students/:rollNo?attendance=delete erases the attendance history too; a bad option changes nothing', async () => {
  await registerThree();
  await attendance.markPresent('2025-09-06', { rollNo: 'b2', timestamp: '2025-09-06T09:00:00Z' });
  await attendance.markPresent('2025-09-07', { rollNo: 'b2', timestamp: '2025-09-07T09:00:00Z' });
  await attendance.markPresent('2025-09-07', { rollNo: 'c3', timestamp: '2025-09-07T09:01:00Z' });
  const files = async () => Promise.all(['students_data.json', 'attendance.json'].map((file) => readFile(path.join(dir, file), 'utf8')));
  const before = await files();
  const refused = await call('DELETE', '/students/b2?attendance=maybe');
  assert.equal(refused.status, 400);
  assert.match(refused.json.message, /attendance/);
  assert.deepEqual(await files(), before);

  const removed = await call('DELETE', '/students/b2?attendance=delete');
  assert.equal(removed.status, 200);
  assert.equal(removed.json.removedAttendanceRecords, 2);
  assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'attendance.json'), 'utf8')), {
    days: { '2025-09-07': [{ rollNo: 'c3', timestamp: '2025-09-07T09:01:00Z', source: 'camera', sessionId: null, distance: null }] },
    changes: [],
  });
  assert.deepEqual((await students.list()).map((s) => s.rollNo), ['a1', 'c3']);
});

test('GET /ready is 200 with readable data files and 503 naming the damaged one, without server paths', async () => {
  const ready = await call('GET', '/ready');
  assert.equal(ready.status, 200);
  assert.equal(ready.json.status, 'ready');
  assert.deepEqual(ready.json.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]), [
    ['students', true],
    ['attendance', true],
    ['enrollment', true],
    ['descriptors', true],
  ]);
  await writeFile(path.join(dir, 'enrollment.json'), '{"broken"');
  const notReady = await call('GET', '/ready');
  assert.equal(notReady.status, 503);
  assert.equal(notReady.json.status, 'not-ready');
  const failed = notReady.json.checks.find((c: { name: string }) => c.name === 'enrollment');
  assert.deepEqual(failed, { name: 'enrollment', ok: false, problem: 'enrollment.json is not a valid data file' });
  assert.doesNotMatch(JSON.stringify(notReady.json), new RegExp(dir));
  assert.deepEqual(await call('GET', '/health'), { status: 200, json: { status: 'ok' } });
});

test('the log lines of a request carry its request id', async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const logged = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dir }), students, attendance, enrollments, logger });
  try {
    await registerThree();
    const response = await logged.inject({ method: 'DELETE', url: '/students/a1' });
    assert.equal(response.statusCode, 200);
    const removal = lines.find((line) => line.msg === 'student removed');
    assert.ok(removal, 'the removal is logged');
    assert.equal(removal.service, 'registration');
    assert.ok(typeof removal.reqId === 'string' && removal.reqId.length > 0);
    assert.ok(lines.some((line) => line.msg === 'incoming request' && line.reqId === removal.reqId), 'same id as the request line');
  } finally {
    await logged.close();
  }
});
