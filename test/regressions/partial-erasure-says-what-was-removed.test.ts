// `DELETE /students/:rollNo` removes the roster entry first, then what was derived from the student, one data file after
// another. When a later file could not be written (here attendance.json, a symbolic link the service refuses to replace),
// the answer was the data folder's usual one: "Nothing was changed; an administrator must fix the data folder". But the
// student was already off the roster, and their attendance was still there: the message was false, and nothing said
// that the removal was unfinished or how to finish it. The answer now says what was removed, what was not, why, and
// that repeating the DELETE finishes it; and repeating it does.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { ATTENDANCE_FILE, JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-partial-erasure-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('a removal stopped by a data file that cannot be written says what was removed, and repeating it finishes it', async () => {
  const dataDir = path.join(scratch, 'data');
  await mkdir(dataDir);
  const students = new JsonStudentStore(dataDir);
  const attendance = new JsonAttendanceStore(dataDir);
  await students.addMany([{ rollNo: 'r1', url: 'https://photos.invalid/r1.jpg' }], '2025-09-06T08:00:00Z');
  assert.equal(await attendance.markPresent('2025-09-06', { rollNo: 'r1', timestamp: '2025-09-06T08:00:00Z' }), 'marked');
  // attendance.json becomes a link to a file elsewhere, which the service will not replace by a regular file.
  const attendanceFile = path.join(dataDir, ATTENDANCE_FILE);
  const elsewhere = path.join(scratch, ATTENDANCE_FILE);
  await rename(attendanceFile, elsewhere);
  await symlink(elsewhere, attendanceFile);

  const app = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dataDir }), students, attendance, logger: pino({ level: 'silent' }) });
  try {
    const stopped = await app.inject({ method: 'DELETE', url: '/students/r1?attendance=delete' });
    assert.equal(stopped.statusCode, 503);
    const body = stopped.json();
    assert.equal(body.code, 'ERASURE_INCOMPLETE');
    assert.match(body.message, /^r1 was only partly removed: their roster entry removed, but not yet their attendance \(attendance\.json cannot be written: it is a symbolic link/);
    assert.match(body.message, /Repeat DELETE \/students\/r1 \(with the same query\) once that is fixed to finish the removal\.$/);
    assert.doesNotMatch(body.message, /Nothing was changed/);
    assert.doesNotMatch(body.message, new RegExp(scratch), 'no server path in the answer');
    assert.deepEqual(await students.list(), [], 'the roster entry is gone, as the answer says');

    // The administrator puts the file back; the same request finishes the removal.
    await unlink(attendanceFile);
    await writeFile(attendanceFile, await readFile(elsewhere));
    const finished = await app.inject({ method: 'DELETE', url: '/students/r1?attendance=delete' });
    assert.equal(finished.statusCode, 200);
    assert.equal(finished.json().removedFromRoster, false);
    assert.equal(finished.json().removedAttendanceRecords, 1);
    assert.deepEqual(await attendance.listDay('2025-09-06'), []);
  } finally {
    await app.close();
  }
});

test('a removal stopped before anything was removed still says that nothing was changed', async () => {
  const dataDir = path.join(scratch, 'untouched');
  await mkdir(dataDir);
  const elsewhere = path.join(scratch, 'students-elsewhere.json');
  await writeFile(elsewhere, JSON.stringify([{ rollNo: 'r2', url: 'https://photos.invalid/r2.jpg' }]));
  await symlink(elsewhere, path.join(dataDir, 'students_data.json'));
  const students = new JsonStudentStore(dataDir);
  const app = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dataDir }), students, logger: pino({ level: 'silent' }) });
  try {
    const refused = await app.inject({ method: 'DELETE', url: '/students/r2' });
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.json().code, 'DATA_NOT_WRITABLE');
    assert.match(refused.json().message, /Nothing was changed/);
    assert.equal((await students.list()).length, 1);
  } finally {
    await app.close();
  }
});
