import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { promisify } from 'node:util';
import { DataFileCorruptError } from '../src/errors.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';
import { draftFor, temporaryFileFor } from '../src/storage/leftovers.ts';

const run = promisify(execFile);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-stores-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const student = (rollNo: string) => ({ rollNo, url: `http://photos.invalid/${rollNo}.jpg` });

test('adds new students, skips known rollNos and repeats within one call', async () => {
  const store = new JsonStudentStore(dir);
  assert.deepEqual(await store.list(), [], 'no file yet: an empty roster');
  assert.deepEqual(await store.addMany([student('1'), student('2'), student('1')], '2025-09-06T10:00:00.000Z'), { added: 2, skipped: 1 });
  assert.deepEqual(await store.addMany([student('2'), student('3')], '2025-09-06T11:00:00.000Z'), { added: 1, skipped: 1 });
  assert.deepEqual(
    (await store.list()).map((s) => s.rollNo),
    ['1', '2', '3'],
  );
  assert.equal((await store.list())[2]!.registeredAt, '2025-09-06T11:00:00.000Z');
});

test('200 concurrent additions with overlapping rollNos store each rollNo exactly once', async () => {
  const store = new JsonStudentStore(dir);
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.addMany([student(String(i % 120))], 'now')));
  assert.equal(results.reduce((sum, r) => sum + r.added, 0), 120);
  const rollNos = (await store.list()).map((s) => s.rollNo);
  assert.equal(rollNos.length, 120);
  assert.equal(new Set(rollNos).size, 120);
});

test('three processes writing the same file at once lose nothing and never leave it half-written', async () => {
  const child = path.join(import.meta.dirname, 'helpers/add-students.ts');
  const spawnWriter = (first: number) => run(process.execPath, ['--import', 'tsx', child, dir, String(first), '40']);
  const store = new JsonStudentStore(dir);
  const writers = Promise.all([spawnWriter(1000), spawnWriter(2000), spawnWriter(1020)]);
  // A reader polling meanwhile only ever sees complete, valid files.
  const seen: number[] = [];
  let done = false;
  void writers.finally(() => (done = true));
  while (!done) {
    seen.push((await store.list()).length);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await writers;
  const rollNos = (await store.list()).map((s) => Number(s.rollNo)).sort((a, b) => a - b);
  const expected = [...new Set([...range(1000, 40), ...range(2000, 40), ...range(1020, 40)])].sort((a, b) => a - b);
  assert.deepEqual(rollNos, expected);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'no read ever found fewer students than one before it');
  assert.ok(seen.some((count) => count > 0 && count < expected.length), `the reader saw the file between writes (counts seen: ${[...new Set(seen)].join(', ')})`);
  assert.deepEqual((await readdir(dir)).sort(), ['students_data.json'], 'no temporary or lock file left behind');
});

test('a corrupted data file is reported with its name and never overwritten', async () => {
  const file = path.join(dir, 'students_data.json');
  const broken = '[{"rollNo": "1", "url": "http://x.invalid/1.jpg"},';
  await writeFile(file, broken);
  const store = new JsonStudentStore(dir);
  await assert.rejects(store.list(), (error: unknown) => {
    assert.ok(error instanceof DataFileCorruptError);
    assert.equal(error.code, 'DATA_FILE_CORRUPT');
    assert.match(error.message, /students_data\.json is not a valid data file \(invalid JSON/);
    return true;
  });
  await assert.rejects(store.addMany([student('2')], 'now'), DataFileCorruptError);
  assert.equal(await readFile(file, 'utf8'), broken);

  const attendanceFile = path.join(dir, 'attendance.json');
  await writeFile(attendanceFile, '{"2025-09-06": [{"rollNo": "1"}]}');
  await assert.rejects(new JsonAttendanceStore(dir).listDay('2025-09-06'), /attendance\.json is not a valid data file.*timestamp/);
});

test('a lock left by a process that died is taken over', async () => {
  const { stdout } = await run(process.execPath, ['-e', 'console.log(process.pid)']);
  await writeFile(path.join(dir, 'students_data.json.lock'), `${stdout.trim()}\n`);
  const store = new JsonStudentStore(dir);
  assert.deepEqual(await store.addMany([student('1')], 'now'), { added: 1, skipped: 0 });
});

test('what a killed writer left beside a data file is removed at the next write; what a live writer uses is kept', async () => {
  const { stdout } = await run(process.execPath, ['-e', 'console.log(process.pid)']);
  const dead = stdout.trim();
  const leftovers = [`.students_data.json.${dead}.0a1b2c3d4e5f.tmp`, `students_data.json.lock.${dead}.0a1b2c3d`];
  const file = path.join(dir, 'students_data.json');
  const inUse = [path.basename(temporaryFileFor(file)), path.basename(draftFor(`${file}.lock`))];
  const unrelated = [`.attendance.json.${dead}.0a1b2c3d4e5f.tmp`, 'notes.txt'];
  for (const name of [...leftovers, ...inUse, ...unrelated]) await writeFile(path.join(dir, name), 'x');
  await new JsonStudentStore(dir).addMany([student('1')], 'now');
  assert.deepEqual((await readdir(dir)).sort(), [...inUse, ...unrelated, 'students_data.json'].sort());
});

function range(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}
