// A DATA_DIR that could not be written looked healthy and lost the roll call: /ready said ready, start-recognition
// answered 200, recognised students were not recorded (lastError said EACCES), stop-recognition returned an empty list,
// and add-student answered a bare 500. /ready (open without a key) also showed server paths in its problems
// (`EACCES: permission denied, open '/…/students_data.json'`).
// Now: /ready is 503 naming each file that cannot be written (by name, never by path), start-recognition is refused
// with 503 DATA_NOT_WRITABLE before anything starts, add-student answers 503 DATA_NOT_WRITABLE, and the services
// refuse to start naming DATA_DIR.
// Root ignores file modes, so the folder is made immutable with `chattr +i` when the tests run as root (or mounted
// read-only over itself where the file system has no such flag; chmod 0555 for other users); the tests fail rather
// than skip when nothing works.
import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRecognitionApp } from '../../src/recognition/app.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { makeUnwritable, makeWritable, runServerUntilExit, scratchFolder } from './helpers.ts';

let scratch: string;
const locked: string[] = [];

before(async () => {
  scratch = await scratchFolder('read-only-data');
});
after(async () => {
  for (const dir of locked) await makeWritable(dir);
  await rm(scratch, { recursive: true, force: true });
});

async function lockedDataFolder(name: string): Promise<string> {
  const dir = path.join(scratch, name);
  await mkdir(dir);
  await writeFile(path.join(dir, 'students_data.json'), JSON.stringify([{ rollNo: 'obama', url: 'https://photos.invalid/obama.jpg' }]));
  await writeFile(path.join(dir, 'attendance.json'), '{}');
  await makeUnwritable(dir);
  locked.push(dir);
  // The technique must really refuse a write for whoever runs the test.
  await assert.rejects(writeFile(path.join(dir, 'probe'), 'x'), /EACCES|EPERM|EROFS/);
  return dir;
}

function services(dir: string) {
  const config = loadConfig({ DATA_DIR: dir, CAMERA: `dir:${path.join(scratch, 'no-frames')}`, LOG_LEVEL: 'silent' });
  const logger = pino({ level: 'silent' });
  const students = new JsonStudentStore(dir);
  return Promise.all([
    buildRegistrationApp({ config, students, logger }),
    buildRecognitionApp({ config, students, attendance: new JsonAttendanceStore(dir), logger }),
  ]);
}

test('an unwritable data folder: /ready is 503 naming the files, start-recognition and add-student answer 503 DATA_NOT_WRITABLE', async () => {
  const dir = await lockedDataFolder('locked');
  const [registration, recognition] = await services(dir);
  try {
    for (const app of [registration, recognition]) {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      assert.equal(ready.statusCode, 503, ready.body);
      const problems = ready.json().checks.filter((check: { ok: boolean }) => !check.ok);
      assert.ok(problems.some((check: { name: string; problem: string }) => check.name === 'attendance' && /^attendance\.json cannot be written/.test(check.problem)), ready.body);
      assert.doesNotMatch(ready.body, new RegExp(scratch), 'no server path');
    }

    const start = await recognition.inject({ method: 'POST', url: '/start-recognition' });
    assert.equal(start.statusCode, 503, start.body);
    assert.equal(start.json().code, 'DATA_NOT_WRITABLE');
    assert.match(start.json().message, /No session was started: attendance\.json cannot be written/);
    assert.doesNotMatch(start.body, new RegExp(scratch));
    assert.equal((await recognition.inject({ method: 'GET', url: '/status' })).json().running, false);

    const added = await registration.inject({ method: 'POST', url: '/add-student', payload: { classStudents: [{ rollNo: 'rick', url: 'https://photos.invalid/rick.jpg' }] } });
    assert.equal(added.statusCode, 503, added.body);
    assert.equal(added.json().code, 'DATA_NOT_WRITABLE');
    assert.match(added.json().message, /^students_data\.json cannot be written/);
    assert.doesNotMatch(added.body, new RegExp(scratch));
  } finally {
    await Promise.all([registration.close(), recognition.close()]);
  }
});

test('the services refuse to start on an unwritable data folder, naming DATA_DIR and the file, without a stack trace', async () => {
  const dir = await lockedDataFolder('locked-at-start');
  const { code, output } = await runServerUntilExit({ DATA_DIR: dir });
  assert.equal(code, 1, output);
  assert.match(output, /DATA_DIR=.*students_data\.json cannot be written/, output);
  assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(output, /Server listening/);
});

test('/ready names a data file it cannot read by its name, never by its path', async () => {
  const dir = path.join(scratch, 'looping');
  await mkdir(dir);
  const [registration, recognition] = await services(dir);
  try {
    // A link to itself: reading it fails with an error whose message carries the full path.
    await symlink('students_data.json', path.join(dir, 'students_data.json'));
    for (const app of [registration, recognition]) {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      assert.equal(ready.statusCode, 503);
      const students = ready.json().checks.find((check: { name: string }) => check.name === 'students');
      assert.match(students.problem, /students_data\.json/);
      assert.doesNotMatch(ready.body, new RegExp(scratch), ready.body);
      assert.doesNotMatch(ready.body, /\/tmp|\/work/);
    }
  } finally {
    await Promise.all([registration.close(), recognition.close()]);
  }
});
