// `npm run db:import -- <DATA_DIR>` given a path that does not exist (a typo), or a folder without data files, read it
// as an empty data folder: it reported success with 0 new rows, then told the user to move the folder away, as after a
// real import. The data that was meant to be imported stayed behind, and the user was told it was done. It now fails,
// before connecting to the database, saying there are no data files there.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');
// Never reached: the folder is refused first.
const DATABASE_URL = 'postgres://attendance@database.invalid:5432/attendance';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-import-nothing-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function dbImport(folder: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/db-import.ts', folder], { cwd: ROOT, env: { ...process.env, DATABASE_URL } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

test('db:import of a path that does not exist fails, saying so, and does not report an import', async () => {
  const missing = path.join(scratch, 'data-typo');
  const { code, stdout, stderr } = await dbImport(missing);
  assert.equal(code, 1);
  assert.equal(stderr.trim(), `db:import failed: ${missing} does not exist: name the folder the services kept their data in (their DATA_DIR, holding students_data.json, attendance.json, enrollment.json, descriptors.json).`);
  assert.doesNotMatch(stdout, /new rows|move the folder away/);
});

test('db:import of a folder without data files fails, saying there are none, and does not report an import', async () => {
  const unrelated = path.join(scratch, 'unrelated');
  await mkdir(unrelated);
  await writeFile(path.join(unrelated, 'notes.txt'), 'not a data file');
  const { code, stdout, stderr } = await dbImport(unrelated);
  assert.equal(code, 1);
  assert.match(stderr, /^db:import failed: .*unrelated holds no data files \(students_data\.json, .*\): nothing to import/);
  assert.doesNotMatch(stdout, /new rows|move the folder away/);
});
