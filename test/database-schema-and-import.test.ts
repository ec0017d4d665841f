// `npm run db:migrate` and `npm run db:import -- <DATA_DIR>` as a user runs them, against a fresh database.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { DESCRIPTOR_LENGTH } from '../src/faces/face-descriptor.ts';
import { DESCRIPTOR_MODEL_VERSION } from '../src/faces/face-engine.ts';
import { jsonStores, postgresStores } from '../src/storage/open-stores.ts';
import { Database, migrate, readMigrations } from '../src/storage/pg-database.ts';
import { dropTemplate, freshDatabase, postgresSkipReason } from './helpers/postgres.ts';
import { queryDatabase } from './helpers/rooms.ts';
import { exitOf } from './helpers/service-process.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const npmRun = (script: string, args: string[], databaseUrl: string) =>
  run('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl } });

describe('the database schema and moving a data folder over', { skip: postgresSkipReason() }, () => {
  after(dropTemplate);

  test('services starting at once migrate the schema once: the others wait and find nothing left to do', async () => {
    const fresh = await freshDatabase({ migrated: false });
    const databases = Array.from({ length: 5 }, () => new Database(fresh.url));
    try {
      const applied = await Promise.all(databases.map((database) => migrate(database)));
      const versions = (await readMigrations()).map((migration) => migration.version);
      assert.deepEqual(applied.flat().sort((a, b) => a - b), versions, 'each migration applied by exactly one of them');
      const { stdout } = await npmRun('db:migrate', [], fresh.url);
      assert.match(stdout, /the schema is up to date/);
      assert.equal((await queryDatabase(fresh.url, 'SELECT version FROM schema_migrations')).length, versions.length);
    } finally {
      await Promise.all(databases.map((database) => database.close()));
      await fresh.drop();
    }
  });

  test('a database migrated before photo marks existed takes migration 002 even after later ones, keeps its rows, then records photo marks', async () => {
    const fresh = await freshDatabase({ migrated: false });
    const database = new Database(fresh.url);
    try {
      await migrate(database);
      // Back to the schema of 001 with every later migration still recorded: a branch adding 002 merged after one adding 003.
      await database.query(`ALTER TABLE attendance DROP CONSTRAINT attendance_photo_names_its_session;
        ALTER TABLE attendance DROP CONSTRAINT attendance_source_check;
        ALTER TABLE attendance ADD CONSTRAINT attendance_source_check CHECK (source IN ('camera', 'manual'));
        DELETE FROM schema_migrations WHERE version = 2`);
      const { attendance } = postgresStores(database);
      await attendance.markPresent('2025-09-06', { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', sessionId: 's-1', distance: 0.4, room: 'room-101' });
      await attendance.markManually('2025-09-06', { rollNo: 'b2', at: '2025-09-06T05:00:00Z', by: 'Ms Rao', reason: null });
      const before = await attendance.listDay('2025-09-06');
      await assert.rejects(attendance.markPresent('2025-09-06', { rollNo: 'c3', timestamp: '2025-09-06T03:31:00Z', source: 'photo', sessionId: 's-2', distance: 0.3 }), /attendance_source_check/);

      assert.deepEqual(await migrate(database), [2]);
      assert.deepEqual(await attendance.listDay('2025-09-06'), before, 'the rows kept before read back as they were');
      assert.equal(await attendance.markPresent('2025-09-06', { rollNo: 'c3', timestamp: '2025-09-06T03:31:00Z', source: 'photo', sessionId: 's-2', distance: 0.3 }), 'marked');
      assert.equal((await attendance.listDay('2025-09-06'))[2]?.source, 'photo');
      await assert.rejects(
        database.query(`INSERT INTO attendance (day, roll_no, timestamp, source) VALUES ('2025-09-06', 'd4', '2025-09-06T03:32:00Z', 'photo')`),
        /attendance_photo_names_its_session/,
        'a photo row without its session and distance is refused',
      );
    } finally {
      await database.close();
      await fresh.drop();
    }
  });

  test('db:import copies a JSON data folder; a second run adds nothing', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'attendance-import-'));
    const fresh = await freshDatabase({ migrated: false });
    const database = new Database(fresh.url);
    try {
      const json = jsonStores(dataDir);
      await json.students.addMany([{ rollNo: 'a1', url: 'https://photos.example/a1.jpg' }, { rollNo: 'toString', url: 'https://photos.example/t.jpg', urls: ['https://photos.example/t.jpg', 'https://photos.example/t2.jpg'] }], '2025-09-01T00:00:00.000Z', '7-b');
      await json.students.replacePhoto('a1', { url: 'https://photos.example/a1-new.jpg' }, '2025-09-02T00:00:00.000Z');
      await json.attendance.markPresent('2025-09-06', { rollNo: 'a1', timestamp: '2025-09-06T03:30:00Z', sessionId: 's-1', distance: 0.4, room: 'room-101' });
      await json.attendance.markManually('2025-09-06', { rollNo: 'toString', at: '2025-09-06T05:00:00Z', by: 'Ms Rao', reason: 'came late' });
      await json.attendance.markPresent('2025-09-07', { rollNo: 'a1', timestamp: '2025-09-07T03:30:00Z' });
      await json.attendance.markPresent('2025-09-07', { rollNo: 'toString', timestamp: '2025-09-07T03:31:00Z', source: 'photo', sessionId: 's-2', distance: 0.35, room: 'room-101' });
      await json.attendance.removeMark('2025-09-07', { rollNo: 'a1', at: '2025-09-07T06:00:00Z', by: null, reason: 'wrong student' });
      await json.enrollments.recordMany({ a1: { usable: true, url: 'https://photos.example/a1-new.jpg', checkedAt: '2025-09-06T03:00:00Z', backgroundFaces: 1 } });
      const cached = { a1: [{ url: 'https://photos.example/a1-new.jpg', sha256: 'ab'.repeat(32), descriptor: Buffer.alloc(DESCRIPTOR_LENGTH * 4, 7).toString('base64'), backgroundFaces: 1 }] };
      await json.descriptors.recordMany(DESCRIPTOR_MODEL_VERSION, cached, async (rollNos) => new Set(rollNos));

      const first = await npmRun('db:import', [dataDir], fresh.url);
      assert.match(first.stdout, /"students":2,"classMemberships":2,"attendanceRecords":3,"attendanceChanges":2,"enrollmentOutcomes":1,"descriptorPhotos":1/);
      const second = await npmRun('db:import', [dataDir], fresh.url);
      assert.match(second.stdout, /"students":0,"classMemberships":0,"attendanceRecords":0,"attendanceChanges":0,"enrollmentOutcomes":0,"descriptorPhotos":0/);
      assert.match(second.stdout, /import a folder once\. Students erased in the database since would come back with it/);

      const pg = postgresStores(database);
      assert.deepEqual(await pg.students.list(), await json.students.list());
      assert.deepEqual(await pg.attendance.listRange('2025-01-01', '2025-12-31'), await json.attendance.listRange('2025-01-01', '2025-12-31'));
      assert.deepEqual(await pg.attendance.listChanges('2025-01-01', '2025-12-31'), await json.attendance.listChanges('2025-01-01', '2025-12-31'));
      assert.deepEqual(await pg.enrollments.list(), await json.enrollments.list());
      assert.deepEqual(await pg.descriptors.list(DESCRIPTOR_MODEL_VERSION), cached);
      assert.equal(await pg.attendance.markPresent('2025-09-07', { rollNo: 'a1', timestamp: '2025-09-07T08:00:00Z' }), 'removed-by-person', 'the removal came over too');
    } finally {
      await database.close();
      await fresh.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a wrong password or a database that does not exist says to check the setting, not to wait', async () => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.password = 'not-the-password';
    const noSuchDatabase = new URL(process.env.TEST_DATABASE_URL!);
    noSuchDatabase.pathname = '/no_such_database';
    for (const [wrong, problem] of [[url, 'authentication failed'], [noSuchDatabase, 'the database does not exist']] as const) {
      await assert.rejects(npmRun('db:migrate', [], wrong.href), (error: { stderr: string; stdout: string }) => {
        assert.match(error.stderr, new RegExp(`The database is unavailable \\(${problem}\\)\\. Check DATABASE_URL`));
        assert.doesNotMatch(error.stderr, /Try again/);
        assert.doesNotMatch(error.stderr + error.stdout, /not-the-password|attendance-test-only/);
        return true;
      });
    }
  });

  test('a wrong DATABASE_URL is refused in one line, without being repeated', async () => {
    await assert.rejects(npmRun('db:migrate', [], 'mysql://admin:s3cret-pass@db.invalid/school'), (error: { stderr: string; stdout: string }) => {
      assert.match(error.stderr, /db:migrate failed: Invalid configuration:\n\s+DATABASE_URL=\(hidden\): expected postgres:\/\//);
      assert.doesNotMatch(error.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(error.stderr + error.stdout, /s3cret-pass/);
      return true;
    });
  });
});

test('migration files the runner would skip or confuse stop it with their names: a misnamed file, two files of one version', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
  try {
    const folder = pathToFileURL(`${dir}/`);
    await writeFile(path.join(dir, '001-initial.sql'), 'SELECT 1');
    await writeFile(path.join(dir, '10-later.sql'), 'SELECT 10');
    await writeFile(path.join(dir, '002-photo-source.sql'), 'SELECT 2');
    assert.deepEqual((await readMigrations(folder)).map((migration) => [migration.version, migration.name]), [[1, 'initial'], [2, 'photo-source'], [10, 'later']], 'in version order, whatever the digits');
    await writeFile(path.join(dir, '003_rooms.sql'), 'SELECT 3');
    await assert.rejects(readMigrations(folder), /migration 003_rooms\.sql is not named NNN-name\.sql/);
    await rm(path.join(dir, '003_rooms.sql'));
    await writeFile(path.join(dir, '002-rooms.sql'), 'SELECT 2');
    await assert.rejects(readMigrations(folder), /migrations 002-(photo-source|rooms)\.sql and 002-(photo-source|rooms)\.sql have the same version/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a service started while its database is unreachable exits saying so, without the connection string', async () => {
  const secret = 'pw-never-shown-4711';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/registration/server.ts'], {
    cwd: ROOT,
    // Port 9 on loopback (discard) has nothing listening: the connection is refused at once.
    env: { ...process.env, DATABASE_URL: `postgres://school:${secret}@127.0.0.1:9/attendance`, REGISTRATION_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  assert.equal(await exitOf(child), 1);
  assert.match(output, /The database is unavailable \(connection refused\)/);
  assert.ok(!output.includes(secret), 'the password is not printed');
  assert.doesNotMatch(output, /postgres:\/\//);
});
