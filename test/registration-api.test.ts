import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { buildRegistrationApp } from '../src/registration/app.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';

// Each test gets its own service over its own data folder: none depends on what another left behind.
let dir: string;
let app: FastifyInstance;
let students: JsonStudentStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-registration-'));
  const config = loadConfig({ DATA_DIR: dir, MAX_STUDENTS_PER_REQUEST: '50' });
  students = new JsonStudentStore(dir);
  app = await buildRegistrationApp({ config, students, logger: pino({ level: 'silent' }) });
});
afterEach(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const addStudents = (payload: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  app.inject({ method: 'POST', url: '/add-student', headers, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

test('answers with the original wording, counting added and skipped students', async () => {
  const first = await addStudents({
    classStudents: [
      { rollNo: '13030824141', url: 'https://photos.invalid/a.jpg' },
      { rollNo: '13030824141', url: 'https://photos.invalid/b.jpg' },
    ],
  });
  assert.equal(first.statusCode, 200);
  assert.deepEqual(first.json(), { status: 'success', message: 'Data received. Added: 1 new student(s). Skipped: 1 duplicate(s).' });
  const second = await addStudents({ classStudents: [{ rollNo: '13030824141', url: 'https://photos.invalid/c.jpg' }] });
  assert.deepEqual(second.json(), { status: 'success', message: 'Data received. Added: 0 new student(s). Skipped: 1 duplicate(s).' });
  const stored = await students.list();
  assert.deepEqual(stored.map(({ rollNo, url }) => ({ rollNo, url })), [{ rollNo: '13030824141', url: 'https://photos.invalid/a.jpg' }]);
});

test('several photos per student with urls, alone or beside url, stored with url as the first photo', async () => {
  const response = await addStudents({
    classStudents: [
      { rollNo: 'multi-1', urls: ['https://photos.invalid/m1a.jpg', 'https://photos.invalid/m1b.jpg'] },
      { rollNo: 'multi-2', url: 'https://photos.invalid/m2a.jpg', urls: ['https://photos.invalid/m2b.jpg', 'https://photos.invalid/m2a.jpg'] },
      { rollNo: 'multi-3', urls: ['https://photos.invalid/m3.jpg'] },
    ],
  });
  assert.equal(response.statusCode, 200, response.body);
  const stored = (await students.list()).filter((s) => s.rollNo.startsWith('multi-'));
  assert.deepEqual(
    stored.map(({ rollNo, url, urls }) => ({ rollNo, url, urls })),
    [
      { rollNo: 'multi-1', url: 'https://photos.invalid/m1a.jpg', urls: ['https://photos.invalid/m1a.jpg', 'https://photos.invalid/m1b.jpg'] },
      { rollNo: 'multi-2', url: 'https://photos.invalid/m2a.jpg', urls: ['https://photos.invalid/m2a.jpg', 'https://photos.invalid/m2b.jpg'] },
      { rollNo: 'multi-3', url: 'https://photos.invalid/m3.jpg', urls: undefined },
    ],
  );
});

test('a student with several photos shows them all, and keeps several when they are replaced with several', async () => {
  const photos = ['https://photos.invalid/d1.jpg', 'https://photos.invalid/d2.jpg'];
  assert.equal((await addStudents({ classStudents: [{ rollNo: 'daryl', urls: photos }] })).statusCode, 200);
  const view = async () => (await app.inject({ method: 'GET', url: '/students/daryl' })).json();
  assert.deepEqual([(await view()).url, (await view()).urls], [photos[0], photos]);
  const replace = (payload: unknown) => app.inject({ method: 'PUT', url: '/students/daryl/photo', payload: payload as object });
  const newPhotos = ['https://photos.invalid/d3.jpg', 'https://photos.invalid/d4.jpg'];
  const several = await replace({ urls: newPhotos });
  assert.equal(several.statusCode, 200, several.body);
  assert.deepEqual([several.json().url, several.json().urls], [newPhotos[0], newPhotos]);
  assert.deepEqual((await students.get('daryl'))?.urls, newPhotos);
  const one = await replace({ url: 'https://photos.invalid/d5.jpg' });
  assert.deepEqual(one.json().urls, ['https://photos.invalid/d5.jpg'], 'one new photo replaces them all, and says so');
  const none = await replace({});
  assert.equal(none.statusCode, 400);
  assert.match(none.json().message, /url/);
});

test('bad requests get a clear 4xx and leave students_data.json byte for byte as it was', async () => {
  assert.equal((await addStudents({ classStudents: [{ rollNo: 'kept', url: 'https://photos.invalid/kept.jpg' }] })).statusCode, 200);
  const before = await readFile(path.join(dir, 'students_data.json'), 'utf8');
  const valid = { rollNo: '7', url: 'https://photos.invalid/7.jpg' };
  const cases: [string, unknown, number, RegExp][] = [
    ['malformed JSON', '{"classStudents": [', 400, /JSON/i],
    ['no body fields', {}, 400, /classStudents/],
    ['empty list', { classStudents: [] }, 400, /at least one student/],
    ['not a list', { classStudents: 'all' }, 400, /classStudents/],
    ['missing url', { classStudents: [{ rollNo: '7' }] }, 400, /classStudents\.0\.url/],
    ['number rollNo', { classStudents: [{ rollNo: 7, url: valid.url }] }, 400, /rollNo/],
    ['empty rollNo', { classStudents: [{ ...valid, rollNo: '' }] }, 400, /rollNo must not be empty/],
    ['long rollNo', { classStudents: [{ ...valid, rollNo: '9'.repeat(65) }] }, 400, /at most 64/],
    ['path in rollNo', { classStudents: [{ ...valid, rollNo: '../7' }] }, 400, /may only contain/],
    ['control character', { classStudents: [{ ...valid, rollNo: '7\u0000' }] }, 400, /may only contain/],
    ['look-alike digits', { classStudents: [{ ...valid, rollNo: '１２３' }] }, 400, /may only contain/],
    ['empty urls', { classStudents: [{ rollNo: '7', urls: [] }] }, 400, /classStudents\.0\.urls/],
    ['bad URL in urls', { classStudents: [{ rollNo: '7', urls: ['https://photos.invalid/a.jpg', 'ftp://x/y.jpg'] }] }, 400, /classStudents\.0\.urls\.1/],
    ['file URL', { classStudents: [{ ...valid, url: 'file:///etc/passwd' }] }, 400, /http:\/\/ or https:\/\//],
    ['not a URL', { classStudents: [{ ...valid, url: 'photo.jpg' }] }, 400, /http:\/\/ or https:\/\//],
    ['extra field', { classStudents: [{ ...valid, name: 'x' }] }, 400, /name/],
    ['extra top-level field', { classStudents: [valid], admin: true }, 400, /admin/],
    ['too many students', { classStudents: Array.from({ length: 51 }, (_, i) => ({ ...valid, rollNo: `s${i}` })) }, 400, /at most 50 students/],
  ];
  for (const [name, payload, status, message] of cases) {
    const response = await addStudents(payload);
    assert.equal(response.statusCode, status, `${name}: ${response.body}`);
    assert.equal(response.json().status, 'error', name);
    assert.match(response.json().message, message, name);
  }
  const wrongType = await addStudents(JSON.stringify({ classStudents: [valid] }), { 'content-type': 'text/plain' });
  assert.equal(wrongType.statusCode, 415);
  const huge = await addStudents(JSON.stringify({ classStudents: [{ ...valid, url: `https://photos.invalid/${'a'.repeat(2 * 1024 * 1024)}` }] }));
  assert.equal(huge.statusCode, 413);
  assert.equal(await readFile(path.join(dir, 'students_data.json'), 'utf8'), before);
});

test('a corrupted roster file gives a 500 naming the file and is left untouched', async () => {
  const other = await mkdtemp(path.join(os.tmpdir(), 'attendance-corrupt-'));
  const file = path.join(other, 'students_data.json');
  await writeFile(file, 'not json');
  const broken = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: other }), students: new JsonStudentStore(other), logger: pino({ level: 'silent' }) });
  try {
    const response = await broken.inject({ method: 'POST', url: '/add-student', payload: { classStudents: [{ rollNo: '1', url: 'https://photos.invalid/1.jpg' }] } });
    assert.equal(response.statusCode, 500);
    assert.equal(response.json().code, 'DATA_FILE_CORRUPT');
    assert.match(response.json().message, /students_data\.json is not a valid data file/);
    assert.doesNotMatch(response.body, new RegExp(other), 'no server paths in the answer');
    assert.equal(await readFile(file, 'utf8'), 'not json');
  } finally {
    await broken.close();
    await rm(other, { recursive: true, force: true });
  }
});

test('unknown routes get a JSON 404', async () => {
  const response = await app.inject({ method: 'GET', url: '/nope' });
  assert.equal(response.statusCode, 404);
  assert.deepEqual(response.json(), { status: 'error', code: 'NOT_FOUND', message: 'No route for GET /nope' });
});

test('a corpus of bad requests mixed with good ones leaves students_data.json byte for byte as the good ones alone make it', async () => {
  const clock = () => new Date('2025-09-06T08:00:00.000Z');
  const logger = pino({ level: 'silent' });
  const build = async (dataDir: string) =>
    buildRegistrationApp({ config: loadConfig({ DATA_DIR: dataDir }), students: new JsonStudentStore(dataDir), logger, now: clock });
  const mixedDir = await mkdtemp(path.join(os.tmpdir(), 'attendance-mixed-'));
  const goodDir = await mkdtemp(path.join(os.tmpdir(), 'attendance-good-'));
  const mixed = await build(mixedDir);
  const goodOnly = await build(goodDir);
  const post = (target: FastifyInstance, payload: string, contentType = 'application/json') =>
    target.inject({ method: 'POST', url: '/add-student', headers: { 'content-type': contentType }, payload });
  const good = (rollNo: string) => JSON.stringify({ classStudents: [{ rollNo, url: `https://photos.invalid/${rollNo}.jpg` }] });
  const valid = { rollNo: '9', url: 'https://photos.invalid/9.jpg' };
  const bad: [string, string][] = [
    ['malformed', '{"classStudents":[{"rollNo":"9"'],
    ['wrong types', JSON.stringify({ classStudents: [{ rollNo: ['9'], url: 9 }] })],
    ['null', 'null'],
    ['array body', JSON.stringify([valid])],
    ['extra field', JSON.stringify({ classStudents: [{ ...valid, photo: 'x' }] })],
    ['empty', JSON.stringify({ classStudents: [] })],
    ['newline in rollNo', JSON.stringify({ classStudents: [{ ...valid, rollNo: '9\n10' }] })],
    ['backslash in rollNo', JSON.stringify({ classStudents: [{ ...valid, rollNo: '..\\9' }] })],
    ['cyrillic look-alike', JSON.stringify({ classStudents: [{ ...valid, rollNo: 'А9' }] })],
    ['10 MB body', JSON.stringify({ classStudents: [{ ...valid, url: `https://photos.invalid/${'x'.repeat(10 * 1024 * 1024)}` }] })],
    ['100 000 students', JSON.stringify({ classStudents: Array.from({ length: 100_000 }, (_, i) => ({ rollNo: `b${i}`, url: valid.url })) })],
    ['one bad student spoils the request', JSON.stringify({ classStudents: [{ rollNo: 'ok-1', url: valid.url }, { rollNo: '', url: valid.url }] })],
  ];
  try {
    for (const [index, [name, payload]] of bad.entries()) {
      const response = await post(mixed, payload);
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${name}: ${response.statusCode}`);
      assert.equal((await post(mixed, good(`g${index}`))).statusCode, 200);
      assert.equal((await post(goodOnly, good(`g${index}`))).statusCode, 200);
    }
    assert.equal((await post(mixed, good('text'), 'text/plain')).statusCode, 415);
    const [mixedFile, goodFile] = await Promise.all([readFile(path.join(mixedDir, 'students_data.json')), readFile(path.join(goodDir, 'students_data.json'))]);
    assert.ok(mixedFile.equals(goodFile));
  } finally {
    await Promise.all([mixed.close(), goodOnly.close()]);
    await Promise.all([rm(mixedDir, { recursive: true, force: true }), rm(goodDir, { recursive: true, force: true })]);
  }
});
