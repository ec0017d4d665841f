// Writers that found the lock of a process that had died each removed it and created their own, in two steps. Two of
// them could do so at once: B, still acting on what it had judged of the dead lock, removed the lock A had just created
// and created its own, and both wrote at the same time; the one that renamed its file first had acknowledged a write
// that the other then replaced. A writer also removed the lock file when it finished, whoever held it by then. Taking a
// dead lock over is now one claim (a hard link only one writer can make) and one rename that replaces that very lock,
// and a writer releases only the lock it holds. Here several processes take over a dead lock at the same moment, many
// times over, and every acknowledged registration must be on disk.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { STUDENTS_FILE } from '../../src/storage/json-student-store.ts';
import { exitOf } from '../helpers/service-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WRITERS = 4;
const ROUNDS = 40;

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-lock-race-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('writers taking over a dead lock at the same moment never lose an acknowledged write', async () => {
  const writers = Array.from({ length: WRITERS }, () =>
    spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/add-student-on-signal.ts')], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const replies = writers.map((writer) => createInterface({ input: writer.stdout! })[Symbol.asyncIterator]());
  const deadPid = spawnSync('true').pid;
  try {
    const lost: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dataDir = path.join(scratch, `round-${round}`);
      await mkdir(dataDir);
      await writeFile(path.join(dataDir, STUDENTS_FILE), '[]\n');
      await writeFile(path.join(dataDir, `${STUDENTS_FILE}.lock`), `${deadPid}\n`);
      writers.forEach((writer, index) => writer.stdin!.write(`${dataDir} w${index}\n`));
      const acknowledged: string[] = [];
      for (const reply of replies) {
        const { value } = await reply.next();
        const [rollNo, added, ...problem] = String(value).split(' ');
        assert.equal(added, '1', `${rollNo} was registered (${problem.join(' ')})`);
        acknowledged.push(rollNo!);
      }
      const stored = new Set(JSON.parse(await readFile(path.join(dataDir, STUDENTS_FILE), 'utf8')).map((student: { rollNo: string }) => student.rollNo));
      lost.push(...acknowledged.filter((rollNo) => !stored.has(rollNo)).map((rollNo) => `round ${round}: ${rollNo}`));
    }
    assert.deepEqual(lost, [], 'every acknowledged registration is on disk');
  } finally {
    for (const writer of writers) writer.stdin!.end();
    await Promise.all(writers.map(exitOf));
  }
});
