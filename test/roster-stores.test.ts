import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { DataFileCorruptError } from '../src/errors.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonEnrollmentStore } from '../src/storage/json-enrollment-store.ts';
import { photoUrls } from '../src/storage/student-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-roster-stores-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const student = (rollNo: string) => ({ rollNo, url: `http://photos.invalid/${rollNo}.jpg` });

test('a student can be looked up, given a new photo and removed; unknown rollNos change nothing', async () => {
  const store = new JsonStudentStore(dir);
  await store.addMany([student('1'), student('2')], '2025-09-06T10:00:00.000Z');
  assert.deepEqual(await store.get('2'), { ...student('2'), registeredAt: '2025-09-06T10:00:00.000Z' });
  assert.equal(await store.get('3'), undefined);

  const replaced = await store.replacePhoto('2', { url: 'http://photos.invalid/new.jpg' }, '2025-09-07T10:00:00.000Z');
  assert.deepEqual(replaced, {
    rollNo: '2',
    url: 'http://photos.invalid/new.jpg',
    registeredAt: '2025-09-06T10:00:00.000Z',
    photoReplacedAt: '2025-09-07T10:00:00.000Z',
  });
  assert.deepEqual(await store.get('2'), replaced);

  const file = path.join(dir, 'students_data.json');
  const before = await readFile(file, 'utf8');
  assert.equal(await store.replacePhoto('3', { url: 'http://photos.invalid/x.jpg' }, 'now'), undefined);
  assert.equal(await store.remove('3'), false);
  assert.equal(await readFile(file, 'utf8'), before);

  assert.equal(await store.remove('1'), true);
  assert.deepEqual((await store.list()).map((s) => s.rollNo), ['2']);
});

test('attendance over a range lists the days with someone present, in calendar order', async () => {
  const store = new JsonAttendanceStore(dir);
  await store.markPresent('2025-09-08', { rollNo: '1', timestamp: '2025-09-08T09:00:00Z' });
  await store.markPresent('2025-09-06', { rollNo: '2', timestamp: '2025-09-06T09:00:00Z' });
  await store.markPresent('2025-09-06', { rollNo: '1', timestamp: '2025-09-06T09:01:00Z' });
  await store.markPresent('2025-10-01', { rollNo: '1', timestamp: '2025-10-01T09:00:00Z' });
  const range = await store.listRange('2025-09-01', '2025-09-30');
  assert.deepEqual(range.map(({ day, records }) => [day, records.map((r) => r.rollNo)]), [
    ['2025-09-06', ['2', '1']],
    ['2025-09-08', ['1']],
  ]);
  assert.deepEqual(await store.listRange('2025-09-07', '2025-09-07'), []);
});

test('replacing the photo of a student registered with several photos replaces all of them', async () => {
  const store = new JsonStudentStore(dir);
  await store.addMany([{ rollNo: '5', url: 'http://photos.invalid/a.jpg', urls: ['http://photos.invalid/a.jpg', 'http://photos.invalid/b.jpg'] }], 'now');
  const replaced = await store.replacePhoto('5', { url: 'http://photos.invalid/c.jpg' }, 'later');
  assert.deepEqual(photoUrls(replaced!), ['http://photos.invalid/c.jpg']);
  assert.deepEqual(photoUrls((await store.get('5'))!), ['http://photos.invalid/c.jpg']);
});

test("erasing a student's attendance removes it from every day and drops days left empty", async () => {
  const store = new JsonAttendanceStore(dir);
  await store.markPresent('2025-09-06', { rollNo: '1', timestamp: '2025-09-06T09:00:00Z' });
  await store.markPresent('2025-09-06', { rollNo: '2', timestamp: '2025-09-06T09:01:00Z' });
  await store.markPresent('2025-09-07', { rollNo: '1', timestamp: '2025-09-07T09:00:00Z' });
  assert.deepEqual(await store.removeStudent('1'), { records: 2, changes: 0 });
  assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'attendance.json'), 'utf8')), {
    days: { '2025-09-06': [{ rollNo: '2', timestamp: '2025-09-06T09:01:00Z', source: 'camera', sessionId: null, distance: null }] },
    changes: [],
  });
  assert.deepEqual(await store.removeStudent('1'), { records: 0, changes: 0 });
});

test('enrollment outcomes are recorded per student, replaced by newer ones, and can be forgotten', async () => {
  const store = new JsonEnrollmentStore(dir);
  assert.deepEqual(await store.list(), {});
  await store.recordMany({
    '1': { usable: true, url: 'http://photos.invalid/1.jpg', checkedAt: '2025-09-06T09:00:00Z' },
    '2': { usable: false, url: 'http://photos.invalid/2.jpg', checkedAt: '2025-09-06T09:00:00Z', code: 'NO_FACE_FOUND', message: 'no face found in the photo' },
  });
  await store.recordMany({ '2': { usable: true, url: 'http://photos.invalid/2b.jpg', checkedAt: '2025-09-07T09:00:00Z' } });
  assert.deepEqual(await store.get('2'), { usable: true, url: 'http://photos.invalid/2b.jpg', checkedAt: '2025-09-07T09:00:00Z' });
  assert.equal(await store.remove('1'), true);
  assert.equal(await store.remove('1'), false);
  assert.deepEqual(Object.keys(await store.list()), ['2']);
});

test('an enrollment file that does not validate is reported and left untouched', async () => {
  const file = path.join(dir, 'enrollment.json');
  await writeFile(file, '{"1":{"usable":false,"url":"u","checkedAt":"t","code":"MADE_UP","message":"m"}}');
  const store = new JsonEnrollmentStore(dir);
  await assert.rejects(store.recordMany({ '2': { usable: true, url: 'u', checkedAt: 't' } }), DataFileCorruptError);
  assert.match(await readFile(file, 'utf8'), /MADE_UP/);
});
