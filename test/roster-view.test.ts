import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { buildRecognitionApp } from '../src/recognition/app.ts';
import { dayIn } from '../src/recognition/attendance-clock.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonEnrollmentStore } from '../src/storage/json-enrollment-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';

let dir: string;
let app: FastifyInstance;
let base: string;
let markedToday: () => Promise<string>;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-roster-'));
  const students = new JsonStudentStore(dir);
  const attendance = new JsonAttendanceStore(dir);
  const enrollments = new JsonEnrollmentStore(dir);
  const photo = (rollNo: string) => `https://photos.invalid/${rollNo}.jpg`;
  await students.addMany(['seen', 'waiting', 'faceless', 'rephotographed', 'new'].map((rollNo) => ({ rollNo, url: photo(rollNo) })), '2025-09-01T08:00:00.000Z');
  await enrollments.recordMany({
    seen: { usable: true, url: photo('seen'), checkedAt: '2025-09-06T03:00:00Z' },
    waiting: { usable: true, url: photo('waiting'), checkedAt: '2025-09-06T03:00:00Z' },
    faceless: { usable: false, url: photo('faceless'), checkedAt: '2025-09-06T03:00:00Z', code: 'NO_FACE_FOUND', message: 'no face found in the photo' },
    rephotographed: { usable: false, url: photo('rephotographed'), checkedAt: '2025-09-06T03:00:00Z', code: 'SEVERAL_FACES', message: 'several faces' },
  });
  await students.replacePhoto('rephotographed', { url: 'https://photos.invalid/rephotographed-2.jpg' }, '2025-09-06T04:00:00.000Z');
  await attendance.markPresent('2025-09-05', { rollNo: 'waiting', timestamp: '2025-09-05T03:30:00Z' });
  const config = loadConfig({ DATA_DIR: dir, TIME_ZONE: 'Asia/Kolkata', LOG_LEVEL: 'silent', CAMERA: `dir:${dir}` });
  app = await buildRecognitionApp({ config, students, attendance, enrollments, logger: pino({ level: 'silent' }) });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  markedToday = async () => {
    // "Today" is the server's: the day its roster names, which is then marked; asked again should midnight come between.
    const day = ((await (await fetch(`${base}/roster`)).json()) as { day: string }).day;
    await attendance.markPresent(day, { rollNo: 'seen', timestamp: '2025-09-06T03:30:00Z' });
    return day;
  };
});
after(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

test("GET /roster lists every registered student with today's time present and the verdict on their current photo", async () => {
  let today = await markedToday();
  let response = await fetch(`${base}/roster`);
  let body = await response.json();
  if (body.day !== today) {
    today = await markedToday();
    response = await fetch(`${base}/roster`);
    body = await response.json();
  }
  assert.equal(response.status, 200);
  assert.equal(body.day, today);
  const before = dayIn('Asia/Kolkata', new Date(Date.now() - 60_000));
  const after = dayIn('Asia/Kolkata', new Date(Date.now() + 60_000));
  assert.ok([before, after].includes(today), `the roster's day ${today} is today in Asia/Kolkata`);
  assert.deepEqual(body.students, [
    { rollNo: 'seen', photo: { usable: true, problem: null }, presentAt: '2025-09-06T03:30:00Z', source: 'camera', removedByPerson: false },
    { rollNo: 'waiting', photo: { usable: true, problem: null }, presentAt: null, source: null, removedByPerson: false },
    { rollNo: 'faceless', photo: { usable: false, problem: { code: 'NO_FACE_FOUND', message: 'no face found in the photo' } }, presentAt: null, source: null, removedByPerson: false },
    { rollNo: 'rephotographed', photo: { usable: null, problem: null }, presentAt: null, source: null, removedByPerson: false },
    { rollNo: 'new', photo: { usable: null, problem: null }, presentAt: null, source: null, removedByPerson: false },
  ]);
});
