import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { buildRecognitionApp } from '../src/recognition/app.ts';
import { dayIn } from '../src/recognition/attendance-clock.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';

let dir: string;
let app: FastifyInstance;
let base: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-api-'));
  const students = new JsonStudentStore(dir);
  const attendance = new JsonAttendanceStore(dir);
  await students.addMany(['a1', 'b2', 'c3'].map((rollNo) => ({ rollNo, url: `https://photos.invalid/${rollNo}.jpg` })), '2025-09-01T08:00:00.000Z');
  await attendance.markPresent('2025-09-06', { rollNo: 'b2', timestamp: '2025-09-06T03:30:00Z', sessionId: 'session-1', distance: 0.38 });
  await attendance.markManually('2025-09-06', { rollNo: 'a1', at: '2025-09-06T03:31:00Z', by: 'Ms Rao', reason: 'missed by the camera' });
  await attendance.markPresent('2025-09-08', { rollNo: 'c3', timestamp: '2025-09-08T03:30:00Z' });
  await attendance.markPresent('2025-10-01', { rollNo: 'a1', timestamp: '2025-10-01T03:30:00Z' });
  // Two rooms and a person's mark, on days no other test reads.
  await attendance.markPresent('2025-11-03', { rollNo: 'b2', timestamp: '2025-11-03T03:30:00Z', room: 'room-101' });
  await attendance.markPresent('2025-11-03', { rollNo: 'c3', timestamp: '2025-11-03T03:31:00Z', room: 'room-102' });
  await attendance.markManually('2025-11-03', { rollNo: 'a1', at: '2025-11-03T03:32:00Z', by: 'Ms Rao', reason: 'at the nurse' });
  await attendance.markManually('2025-11-04', { rollNo: 'a1', at: '2025-11-04T03:32:00Z', by: 'Ms Rao', reason: 'at the nurse' });
  const config = loadConfig({ DATA_DIR: dir, TIME_ZONE: 'Asia/Kolkata', LOG_LEVEL: 'silent', CAMERA: `dir:${dir}` });
  app = await buildRecognitionApp({ config, students, attendance, logger: pino({ level: 'silent' }) });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (route: string, headers: Record<string, string> = {}) => fetch(`${base}${route}`, { headers });

test('GET /attendance?date= lists who was present that day, in the order they were marked', async () => {
  const response = await get('/attendance?date=2025-09-06');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  assert.deepEqual(await response.json(), {
    from: '2025-09-06',
    to: '2025-09-06',
    days: [
      {
        date: '2025-09-06',
        present: [
          { rollNo: 'b2', timestamp: '2025-09-06T03:30:00Z', source: 'camera', sessionId: 'session-1', distance: 0.38 },
          { rollNo: 'a1', timestamp: '2025-09-06T03:31:00Z', source: 'manual', by: 'Ms Rao', reason: 'missed by the camera' },
        ],
      },
    ],
  });
  const empty = await (await get('/attendance?date=2025-09-07')).json();
  assert.deepEqual(empty.days, [{ date: '2025-09-07', present: [] }], 'a single day is listed even when nobody was present');
});

test('GET /attendance without a date answers for today in TIME_ZONE', async () => {
  // The day is read on both sides of the request: across Kolkata's midnight the server may answer either.
  const before = dayIn('Asia/Kolkata', new Date());
  const body = await (await get('/attendance')).json();
  const after = dayIn('Asia/Kolkata', new Date());
  assert.ok([before, after].includes(body.from), `${body.from} is today in Asia/Kolkata (${before}…${after})`);
  assert.deepEqual(body, { from: body.from, to: body.from, days: [{ date: body.from, present: [] }] });
});

test('GET /attendance?from=&to= lists the days of the range on which anyone was present', async () => {
  const body = await (await get('/attendance?from=2025-09-01&to=2025-09-30')).json();
  assert.equal(body.from, '2025-09-01');
  assert.equal(body.to, '2025-09-30');
  assert.deepEqual(body.days.map((d: { date: string; present: { rollNo: string }[] }) => [d.date, d.present.map((r) => r.rollNo)]), [
    ['2025-09-06', ['b2', 'a1']],
    ['2025-09-08', ['c3']],
  ]);
});

test('include=absent lists the roster students not present on each day', async () => {
  const body = await (await get('/attendance?from=2025-09-01&to=2025-09-30&include=absent')).json();
  assert.deepEqual(body.days.map((d: { date: string; absent: string[] }) => [d.date, d.absent]), [
    ['2025-09-06', ['c3']],
    ['2025-09-08', ['a1', 'b2']],
  ]);
  const withoutRoll = await (await get('/attendance?date=2025-09-07&include=absent')).json();
  assert.deepEqual(withoutRoll.days[0].absent, ['a1', 'b2', 'c3']);
});

test('with ?room=, a student marked by hand or in another room is not absent, and a range skips days with nobody in that room', async () => {
  const day = await (await get('/attendance?date=2025-11-03&room=room-101&include=absent')).json();
  assert.deepEqual(day.days, [{ date: '2025-11-03', present: [{ rollNo: 'b2', timestamp: '2025-11-03T03:30:00Z', source: 'camera', sessionId: null, distance: null, room: 'room-101' }], absent: [] }]);
  const range = await (await get('/attendance?from=2025-11-01&to=2025-11-30&room=room-101')).json();
  assert.deepEqual(range.days.map((d: { date: string }) => d.date), ['2025-11-03'], '2025-11-04 had only a mark by hand');
});

test('CSV with Accept: text/csv or ?format=csv, one row per student and day with its source last, absent rows when asked', async () => {
  const byHeader = await get('/attendance?date=2025-09-06&include=absent', { accept: 'text/csv' });
  assert.equal(byHeader.status, 200);
  assert.match(byHeader.headers.get('content-type') ?? '', /^text\/csv/);
  assert.match(byHeader.headers.get('content-disposition') ?? '', /attachment; filename="attendance-2025-09-06\.csv"/);
  assert.equal(
    await byHeader.text(),
    'date,rollNo,status,timestamp,source\r\n2025-09-06,b2,present,2025-09-06T03:30:00Z,camera\r\n2025-09-06,a1,present,2025-09-06T03:31:00Z,manual\r\n2025-09-06,c3,absent,,\r\n',
  );
  const byQuery = await get('/attendance?from=2025-09-07&to=2025-10-31&format=csv');
  assert.equal(await byQuery.text(), 'date,rollNo,status,timestamp,source\r\n2025-09-08,c3,present,2025-09-08T03:30:00Z,camera\r\n2025-10-01,a1,present,2025-10-01T03:30:00Z,camera\r\n');
  const jsonWins = await get('/attendance?date=2025-09-06', { accept: 'application/json, text/csv;q=0.5' });
  assert.match(jsonWins.headers.get('content-type') ?? '', /application\/json/);
  const formatWins = await get('/attendance?date=2025-09-06&format=json', { accept: 'text/csv' });
  assert.match(formatWins.headers.get('content-type') ?? '', /application\/json/);
});

test('malformed or contradictory queries get a 400 naming the problem and change nothing', async () => {
  const before = await readFile(path.join(dir, 'attendance.json'), 'utf8');
  const cases: [string, RegExp][] = [
    ['date=06-09-2025', /expected YYYY-MM-DD/],
    ['date=2025-02-30', /not a calendar day/],
    ['from=2025-09-01', /from and to go together/],
    ['from=2025-09-10&to=2025-09-01', /from must not be after to/],
    ['date=2025-09-06&from=2025-09-01&to=2025-09-02', /either date or from and to/],
    ['from=2024-01-01&to=2025-09-01', /at most 366 days/],
    ['date=2025-09-06&format=xml', /format/],
    ['date=2025-09-06&include=everyone', /include/],
  ];
  for (const [query, message] of cases) {
    const response = await get(`/attendance?${query}`);
    assert.equal(response.status, 400, query);
    const body = await response.json();
    assert.equal(body.code, 'INVALID_REQUEST', query);
    assert.match(body.message, message, query);
  }
  assert.equal(await readFile(path.join(dir, 'attendance.json'), 'utf8'), before);
});
