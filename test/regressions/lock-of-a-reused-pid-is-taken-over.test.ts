// A writer killed while it held a data file's lock leaves `<file>.lock` behind, naming its pid. The next writer took the
// lock over only when no process had that pid any more. In a container the service is pid 1 again after every restart,
// so the lock named the new process itself, which counted as running: every write waited for the lock, timed out and
// failed, for good, while /ready stayed green. After a reboot the same happened whenever another process had been given
// that pid. A lock (and the temporary files beside it) now names the writer's run as well as its pid (the boot and the
// process's start time), and one whose run has ended is taken over whatever process has its pid now; /ready reports a
// lock that a live process has held longer than a write may wait for it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { LockTimeoutError } from '../../src/errors.ts';
import { withFileLock } from '../../src/storage/file-lock.ts';
import { JsonStudentStore, STUDENTS_FILE } from '../../src/storage/json-student-store.ts';
import { OWN_RUN } from '../../src/storage/leftovers.ts';
import { jsonStoreChecks, jsonStores } from '../../src/storage/open-stores.ts';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-reused-pid-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function dataDirWithLock(name: string, lockContents: string): Promise<string> {
  const dataDir = path.join(scratch, name);
  await mkdir(dataDir);
  await writeFile(path.join(dataDir, STUDENTS_FILE), '[]\n');
  await writeFile(path.join(dataDir, `${STUDENTS_FILE}.lock`), lockContents);
  return dataDir;
}

async function addsOneStudent(dataDir: string): Promise<void> {
  const result = await new JsonStudentStore(dataDir).addMany([{ rollNo: 'r1', url: 'https://photos.invalid/r1.jpg' }], new Date().toISOString());
  assert.deepEqual(result, { added: 1, skipped: 0 });
  const stored = JSON.parse(await readFile(path.join(dataDir, STUDENTS_FILE), 'utf8'));
  assert.deepEqual(stored.map((student: { rollNo: string }) => student.rollNo), ['r1']);
}

test('a lock naming our own pid, left by an earlier process that had it (pid 1 in a container), is taken over with its temporary files', async () => {
  // As the previous version wrote it (pid only), and as this one does (pid, run, token) for a run that has ended.
  for (const [name, lock] of [
    ['pid-only', `${process.pid}\n`],
    ['earlier-run', `${process.pid} 0123456789abcdef 00112233aabbccdd\n`],
    // This very process, from a hold whose removal failed: no hold of ours names it.
    ['own-run-not-held', `${OWN_RUN.pid} ${OWN_RUN.run} 00112233aabbccdd\n`],
  ] as const) {
    const dataDir = await dataDirWithLock(name, lock);
    const leftovers = [`.${STUDENTS_FILE}.${process.pid}.a1b2c3d4e5f6.tmp`, `.${STUDENTS_FILE}.${process.pid}.0123456789abcdef.a1b2c3d4e5f6.tmp`, `${STUDENTS_FILE}.lock.${process.pid}.0123456789abcdef.a1b2c3d4`];
    for (const leftover of leftovers) await writeFile(path.join(dataDir, leftover), 'half a write');
    await addsOneStudent(dataDir);
    assert.deepEqual(await readdir(dataDir), [STUDENTS_FILE], `${name}: the lock and the leftovers of the earlier process are gone`);
  }
});

test('a lock naming a pid that a different process has now (after a reboot) is taken over', async () => {
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const dataDir = await dataDirWithLock('reused', `${other.pid} 0123456789abcdef 00112233aabbccdd\n`);
    await addsOneStudent(dataDir);
  } finally {
    other.kill();
  }
});

test('a lock held by a live process is respected, and /ready says the file is locked once a write could not wait for it', async () => {
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    // Pid only: all that can be checked is that the process runs, and it does.
    const dataDir = await dataDirWithLock('held', `${holder.pid}\n`);
    await assert.rejects(withFileLock(path.join(dataDir, STUDENTS_FILE), async () => {}, { timeoutMs: 100 }), LockTimeoutError);
    const stores = jsonStores(dataDir);
    const students = jsonStoreChecks(dataDir, stores).find((check) => check.name === 'students')!;
    await students.check(); // a fresh lock: a write would wait for it
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(path.join(dataDir, `${STUDENTS_FILE}.lock`), longAgo, longAgo);
    await assert.rejects(students.check(), /students_data\.json is locked by process \d+/);
  } finally {
    holder.kill();
  }
});

test('the pid of a process that has exited is still enough to take its lock over', async () => {
  const exited = spawnSync('true').pid;
  const dataDir = await dataDirWithLock('exited', `${exited}\n`);
  await addsOneStudent(dataDir);
});

test('a lock this process holds (under another spelling of the path) is respected by its other writers', async () => {
  const dataDir = path.join(scratch, 'aliased');
  await mkdir(dataDir);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding!: () => void;
  const taken = new Promise<void>((resolve) => (holding = resolve));
  const holder = withFileLock(path.join(dataDir, STUDENTS_FILE), async () => {
    holding();
    await held;
  });
  await taken;
  await assert.rejects(withFileLock(`${dataDir}/./${STUDENTS_FILE}`, async () => {}, { timeoutMs: 100 }), LockTimeoutError);
  release();
  await holder;
});
