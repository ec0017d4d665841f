// A symlinked students_data.json was silently replaced by a regular file on the first write (the atomic rename
// replaces the link), and the link's target stopped getting updates. The services now refuse a data file that is a
// symbolic link, at start with a message naming it, and on any later write (the link and its target stay as they were).
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DataFileNotWritableError } from '../../src/errors.ts';
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { runServerUntilExit, scratchFolder } from './helpers.ts';

let scratch: string;
before(async () => {
  scratch = await scratchFolder('symlinked-data');
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function linkedDataFolder(name: string, file: string, contents: string) {
  const dir = path.join(scratch, name);
  const elsewhere = path.join(scratch, `${name}-elsewhere`);
  await mkdir(dir);
  await mkdir(elsewhere);
  const target = path.join(elsewhere, file);
  await writeFile(target, contents);
  await symlink(target, path.join(dir, file));
  return { dir, target };
}

for (const [file, contents] of <[string, string][]>[
  ['students_data.json', '[]'],
  ['attendance.json', '{}'],
  ['enrollment.json', '{}'],
  ['descriptors.json', '{"model":"","students":{}}'],
]) {
  test(`the services refuse to start with a symlinked ${file}, naming it`, async () => {
    const { dir, target } = await linkedDataFolder(file.replace('.json', ''), file, contents);
    const { code, output } = await runServerUntilExit({ DATA_DIR: dir });
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`DATA_DIR=.*${file.replace('.', '\\.')} cannot be written: it is a symbolic link`));
    assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
    assert.ok((await lstat(path.join(dir, file))).isSymbolicLink(), 'the link is left as it was');
    assert.equal(await readFile(target, 'utf8'), contents);
  });
}

test('a write to a data file that became a symbolic link is refused; the link and its target stay', async () => {
  const { dir, target } = await linkedDataFolder('late', 'students_data.json', '[]');
  const students = new JsonStudentStore(dir);
  await assert.rejects(students.addMany([{ rollNo: '1', url: 'https://photos.invalid/1.jpg' }], 'now'), (error) => {
    assert.ok(error instanceof DataFileNotWritableError);
    assert.match(error.message, /^students_data\.json cannot be written: it is a symbolic link/);
    return true;
  });
  assert.ok((await lstat(path.join(dir, 'students_data.json'))).isSymbolicLink());
  assert.equal(await readFile(target, 'utf8'), '[]');
  // The other files of the folder are written as usual.
  assert.equal(await new JsonAttendanceStore(dir).markPresent('2025-09-06', { rollNo: '1', timestamp: '2025-09-06T08:00:00Z' }), 'marked');
});
