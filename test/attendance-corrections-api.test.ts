import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { buildRecognitionApp } from '../src/recognition/app.ts';
import { dayIn } from '../src/recognition/attendance-clock.ts';
import { buildRegistrationApp } from '../src/registration/app.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';
import { openEventStream } from './helpers/event-stream.ts';

// UTC+14: its today is often UTC's tomorrow, so "a date in the future" is checked against TIME_ZONE, not UTC.
const TIME_ZONE = 'Pacific/Kiritimati';
let dir: string;
let recognition: FastifyInstance;
let registration: FastifyInstance;
let recognitionBase: string;
let registrationBase: string;
let attendance: JsonAttendanceStore;
let today: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-corrections-'));
  const config = loadConfig({ DATA_DIR: dir, TIME_ZONE, LOG_LEVEL: 'silent', CAMERA: `dir:${dir}` });
  const students = new JsonStudentStore(dir);
  attendance = new JsonAttendanceStore(dir);
  recognition = await buildRecognitionApp({ config, students, attendance, logger: pino({ level: 'silent' }) });
  registration = await buildRegistrationApp({ config, students, attendance, logger: pino({ level: 'silent' }) });
  recognitionBase = await recognition.listen({ host: '127.0.0.1', port: 0 });
  registrationBase = await registration.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await recognition.close();
  await registration.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  for (const file of ['students_data.json', 'attendance.json']) await rm(path.join(dir, file), { force: true });
  const added = await call(registrationBase, 'POST', '/add-student', {
    classStudents: ['a1', 'b2', 'c3', 'toString'].map((rollNo) => ({ rollNo, url: `https://photos.invalid/${rollNo}.jpg` })),
  });
  assert.equal(added.status, 200);
  today = dayIn(TIME_ZONE, new Date());
});

async function call(base: string, method: string, route: string, body?: unknown) {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as any };
}
const api = (method: string, route: string, body?: unknown) => call(recognitionBase, method, route, body);
const attendanceFile = () => readFile(path.join(dir, 'attendance.json'), 'utf8').catch(() => '(no file)');

function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

test('PUT /attendance/{date}/{rollNo} marks a missed student with who and why; the API, the file and the event stream show it', async () => {
  const stream = await openEventStream(`${recognitionBase}/events`);
  try {
    const marked = await api('PUT', `/attendance/${today}/b2`, { by: 'Ms Rao', reason: 'missed by the camera' });
    assert.equal(marked.status, 200);
    const { record, change } = marked.json;
    assert.deepEqual(record, { rollNo: 'b2', timestamp: record.timestamp, source: 'manual', by: 'Ms Rao', reason: 'missed by the camera' });
    assert.match(record.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(marked.json, {
      status: 'success',
      date: today,
      rollNo: 'b2',
      alreadyPresent: false,
      record,
      change: { at: record.timestamp, date: today, rollNo: 'b2', action: 'marked', by: 'Ms Rao', reason: 'missed by the camera', before: null },
    });

    const day = await api('GET', `/attendance?date=${today}`);
    assert.deepEqual(day.json.days[0].present, [record]);
    const roster = await api('GET', '/roster');
    assert.deepEqual(
      roster.json.students.find((student: { rollNo: string }) => student.rollNo === 'b2'),
      { rollNo: 'b2', photo: { usable: null, problem: null }, presentAt: record.timestamp, source: 'manual', removedByPerson: false },
    );
    const stored = JSON.parse(await attendanceFile());
    assert.deepEqual(stored, { days: { [today]: [record] }, changes: [change] }, 'the mark and its change entry, in one file');

    await waitFor(() => stream.events.find((event) => event.event === 'attendance-corrected'));
    const event = stream.events.find((received) => received.event === 'attendance-corrected')!;
    assert.deepEqual({ ...event.data, id: undefined, at: undefined }, { id: undefined, at: undefined, type: 'attendance-corrected', change, record });
  } finally {
    stream.close();
  }
});

test('PUT is idempotent: a student already present stays as they are, the answer says so, nothing is written', async () => {
  await attendance.markPresent(today, { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', sessionId: 'session-1', distance: 0.4 });
  await api('PUT', `/attendance/${today}/b2`);
  const before = await attendanceFile();
  const cameraMarked = await api('PUT', `/attendance/${today}/a1`, { reason: 'to be sure' });
  assert.equal(cameraMarked.status, 200);
  assert.equal(cameraMarked.json.alreadyPresent, true);
  assert.equal(cameraMarked.json.change, null);
  assert.deepEqual(cameraMarked.json.record, { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'camera', sessionId: 'session-1', distance: 0.4 });
  const again = await api('PUT', `/attendance/${today}/b2`, { by: 'someone else' });
  assert.equal(again.json.alreadyPresent, true);
  assert.equal(again.json.record.by, null, 'the first mark stands');
  assert.equal(await attendanceFile(), before);
});

test('reason and by are optional; blank ones are recorded as null', async () => {
  const bare = await api('PUT', `/attendance/${today}/a1`);
  assert.equal(bare.status, 200);
  assert.deepEqual([bare.json.record.by, bare.json.record.reason], [null, null]);
  const blank = await api('PUT', `/attendance/${today}/b2`, { by: '  ', reason: '' });
  assert.deepEqual([blank.json.record.by, blank.json.record.reason], [null, null]);
  const trimmed = await api('PUT', `/attendance/${today}/c3`, { by: '  Ms Rao ' });
  assert.equal(trimmed.json.record.by, 'Ms Rao');
});

test('PUT refuses an unknown student, a malformed date, a day after today in TIME_ZONE and bad notes, and changes nothing', async () => {
  const before = await attendanceFile();
  const cases: [string, unknown, number, string, RegExp][] = [
    [`/attendance/${today}/zz9`, undefined, 404, 'STUDENT_NOT_FOUND', /zz9/],
    ['/attendance/06-09-2025/a1', undefined, 400, 'INVALID_REQUEST', /expected YYYY-MM-DD/],
    ['/attendance/2025-02-30/a1', undefined, 400, 'INVALID_REQUEST', /not a calendar day/],
    [`/attendance/${dayAfter(today)}/a1`, undefined, 400, 'DATE_IN_FUTURE', new RegExp(`after today \\(${today} in ${TIME_ZONE}\\)`)],
    [`/attendance/${today}/a%2Fb`, undefined, 400, 'INVALID_REQUEST', /rollNo/],
    [`/attendance/${today}/a1`, { reason: 'x'.repeat(301) }, 400, 'INVALID_REQUEST', /reason/],
    [`/attendance/${today}/a1`, { by: 'y'.repeat(101) }, 400, 'INVALID_REQUEST', /by/],
    [`/attendance/${today}/a1`, { reason: 'late\r\nX-Injected: 1' }, 400, 'INVALID_REQUEST', /control characters/],
    [`/attendance/${today}/a1`, { reason: 7 }, 400, 'INVALID_REQUEST', /reason/],
    [`/attendance/${today}/a1`, { reason: 'late', note: 'extra' }, 400, 'INVALID_REQUEST', /note/],
  ];
  for (const [route, body, status, code, message] of cases) {
    const refused = await api('PUT', route, body);
    assert.equal(refused.status, status, route);
    assert.equal(refused.json.status, 'error', route);
    assert.equal(refused.json.code, code, route);
    assert.match(refused.json.message, message, route);
  }
  assert.equal(await attendanceFile(), before);
  assert.equal((await api('PUT', `/attendance/${today}/a1`)).status, 200, "TIME_ZONE's today is not in the future, whatever UTC says");
});

test('DELETE removes a mark, whoever made it, with reason and by as a body or in the query; 404 when there is no mark', async () => {
  await attendance.markPresent(today, { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', sessionId: 'session-1', distance: 0.4 });
  await api('PUT', `/attendance/${today}/b2`, { by: 'Ms Rao', reason: 'late' });

  const byBody = await api('DELETE', `/attendance/${today}/a1`, { by: 'Mr Iyer', reason: 'wrong student' });
  assert.equal(byBody.status, 200);
  assert.deepEqual(byBody.json.change, {
    at: byBody.json.change.at,
    date: today,
    rollNo: 'a1',
    action: 'removed',
    by: 'Mr Iyer',
    reason: 'wrong student',
    before: { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'camera', sessionId: 'session-1', distance: 0.4 },
  });
  const byQuery = await api('DELETE', `/attendance/${today}/b2?by=Ms%20Rao&reason=marked%20the%20wrong%20row`);
  assert.equal(byQuery.status, 200);
  assert.deepEqual([byQuery.json.change.by, byQuery.json.change.reason, byQuery.json.change.before.source], ['Ms Rao', 'marked the wrong row', 'manual']);
  assert.deepEqual((await api('GET', `/attendance?date=${today}`)).json.days[0].present, []);
  const roster = (await api('GET', '/roster')).json.students;
  assert.deepEqual(
    roster.map((student: any) => [student.rollNo, student.removedByPerson]),
    [['a1', true], ['b2', true], ['c3', false], ['toString', false]],
    'the roster tells the page whose mark a person removed today',
  );

  const before = await attendanceFile();
  const refusals: [string, unknown, number, string][] = [
    [`/attendance/${today}/a1`, undefined, 404, 'ATTENDANCE_NOT_FOUND'],
    [`/attendance/${today}/zz9`, undefined, 404, 'ATTENDANCE_NOT_FOUND'],
    [`/attendance/${today}/c3?reason=late`, { by: 'both ways' }, 400, 'INVALID_REQUEST'],
    [`/attendance/${today}/c3?colour=red`, undefined, 400, 'INVALID_REQUEST'],
    [`/attendance/${dayAfter(today)}/c3`, undefined, 400, 'DATE_IN_FUTURE'],
    ['/attendance/2025-13-01/c3', undefined, 400, 'INVALID_REQUEST'],
  ];
  for (const [route, body, status, code] of refusals) {
    const refused = await api('DELETE', route, body);
    assert.deepEqual([refused.status, refused.json.code], [status, code], route);
  }
  assert.equal(await attendanceFile(), before);
});

test('a client that sends {} or a JSON content type with no body, as many do by default, is understood', async () => {
  await api('PUT', `/attendance/${today}/c3`, {});
  const emptyObject = await api('DELETE', `/attendance/${today}/c3?by=Ms%20Rao`, {});
  assert.equal(emptyObject.status, 200, JSON.stringify(emptyObject.json));
  assert.equal(emptyObject.json.change.by, 'Ms Rao', 'the query counts when the body says nothing');
  await api('PUT', `/attendance/${today}/c3`);
  const noBody = await fetch(`${recognitionBase}/attendance/${today}/c3`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
  assert.equal(noBody.status, 200, await noBody.clone().text());
  assert.equal((await noBody.json()).change.by, null);
});

test('GET /attendance/changes lists every manual mark and removal of a day or a range, oldest first, with the record before', async () => {
  await attendance.markPresent('2025-09-06', { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', sessionId: 'session-1', distance: 0.4 });
  await api('PUT', '/attendance/2025-09-08/b2', { by: 'Ms Rao', reason: 'late' });
  await api('DELETE', '/attendance/2025-09-06/a1', { by: 'Mr Iyer', reason: 'wrong student' });
  await api('PUT', `/attendance/${today}/c3`);

  const september = await api('GET', '/attendance/changes?from=2025-09-01&to=2025-09-30');
  assert.equal(september.status, 200);
  assert.equal(september.json.from, '2025-09-01');
  assert.deepEqual(
    september.json.changes.map((change: any) => [change.date, change.rollNo, change.action, change.by, change.reason, change.before?.source ?? null]),
    [
      ['2025-09-08', 'b2', 'marked', 'Ms Rao', 'late', null],
      ['2025-09-06', 'a1', 'removed', 'Mr Iyer', 'wrong student', 'camera'],
    ],
  );
  const oneDay = await api('GET', '/attendance/changes?date=2025-09-06');
  assert.deepEqual(oneDay.json.changes.map((change: any) => change.rollNo), ['a1']);
  const byDefault = await api('GET', '/attendance/changes');
  assert.deepEqual([byDefault.json.from, byDefault.json.changes.map((change: any) => change.rollNo)], [today, ['c3']], 'today in TIME_ZONE');
  for (const query of ['date=2025-9-6', 'from=2025-09-01', 'from=2025-09-10&to=2025-09-01', 'date=2025-09-06&from=2025-09-01&to=2025-09-02']) {
    const refused = await api('GET', `/attendance/changes?${query}`);
    assert.deepEqual([refused.status, refused.json.code], [400, 'INVALID_REQUEST'], query);
  }
});

test('POST /stop-recognition answers everyone present that day, hand-made marks included, each with its source', async () => {
  await attendance.markPresent(today, { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', sessionId: 'session-1', distance: 0.4 });
  const manual = (await api('PUT', `/attendance/${today}/b2`, { reason: 'late' })).json.record;
  const stopped = await api('POST', '/stop-recognition');
  assert.equal(stopped.status, 200);
  assert.deepEqual(stopped.json, {
    recognizedStudents: [{ rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', source: 'camera', sessionId: 'session-1', distance: 0.4 }, manual],
  });
});

test("erasing a student through the registration service erases their change entries too, and nobody else's", async () => {
  await api('PUT', '/attendance/2025-09-06/a1', { reason: 'late' });
  await api('DELETE', '/attendance/2025-09-06/a1', { reason: 'wrong day' });
  await api('PUT', '/attendance/2025-09-07/a1');
  await api('PUT', '/attendance/2025-09-07/b2');
  const erased = await call(registrationBase, 'DELETE', '/students/a1?attendance=delete');
  assert.equal(erased.status, 200);
  assert.equal(erased.json.removedAttendanceRecords, 1);
  assert.equal(erased.json.removedAttendanceChanges, 3);
  const changes = await api('GET', '/attendance/changes?from=2025-09-01&to=2025-09-30');
  assert.deepEqual(changes.json.changes.map((change: any) => change.rollNo), ['b2']);
  assert.doesNotMatch(await attendanceFile(), /"a1"/, 'nothing about a1 is left in attendance.json');
});

test('a student removed from the roster (attendance kept) is not marked by hand any more, but a kept mark can still be removed', async () => {
  await api('PUT', `/attendance/${today}/b2`);
  assert.equal((await call(registrationBase, 'DELETE', '/students/b2')).status, 200);
  const refused = await api('PUT', `/attendance/${today}/b2`);
  assert.deepEqual([refused.status, refused.json.code], [404, 'STUDENT_NOT_FOUND']);
  assert.equal((await api('DELETE', `/attendance/${today}/b2`, { reason: 'left the school' })).status, 200);
});

test('a rollNo named like a JavaScript built-in is an ordinary rollNo for corrections', async () => {
  assert.equal((await api('PUT', `/attendance/${today}/toString`)).json.alreadyPresent, false);
  assert.equal((await api('PUT', `/attendance/${today}/constructor`)).status, 404, 'not registered');
  assert.equal((await api('DELETE', `/attendance/${today}/toString`)).status, 200);
  assert.equal((await api('DELETE', `/attendance/${today}/valueOf`)).status, 404);
  assert.deepEqual((await api('GET', `/attendance/changes?date=${today}`)).json.changes.map((change: any) => change.action), ['marked', 'removed']);
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
