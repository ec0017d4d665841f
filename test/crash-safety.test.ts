import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, test } from 'node:test';
import { ffmpegBinary } from '../src/camera/ffmpeg-source.ts';
import { linkFrames } from './helpers/frame-folder.ts';
import { startPhotoServer } from './helpers/photo-server.ts';
import { exitOf, getJson, makeWorkDir, postJson, spawnService, startServices, waitFor, withDeadline } from './helpers/service-process.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-crash-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ROOT = path.resolve(import.meta.dirname, '..');

test('registration killed with SIGKILL mid-write: the file is valid and holds every acknowledged student', async () => {
  const service = await startServices({ DATA_DIR: dir }, 'registration');
  const acknowledged: string[] = [];
  let next = 0;
  let killed = false;
  let failure: Error | undefined;
  const writer = async () => {
    while (!killed) {
      const rollNo = `r${next++}`;
      try {
        const { status } = await postJson(`${service.registration}/add-student`, { classStudents: [{ rollNo, url: `https://photos.invalid/${rollNo}.jpg` }] });
        if (status !== 200) throw new Error(`registration answered ${status}, not 200`);
        acknowledged.push(rollNo);
      } catch (error) {
        if (!killed) failure = error as Error;
        return; // after the kill: the connection died with the process
      }
    }
  };
  const writers = Array.from({ length: 8 }, writer);
  const exited = exitOf(service.child);
  try {
    await waitFor(async () => {
      if (failure) throw failure;
      return acknowledged.length >= 60 ? true : undefined;
    }, '60 acknowledged registrations', 60_000);
  } finally {
    service.child.kill('SIGKILL');
    killed = true;
    await Promise.all(writers);
    await exited;
    await service.stop(); // already dead: removes its working directory
  }

  const stored: { rollNo: string }[] = JSON.parse(await readFile(path.join(dir, 'students_data.json'), 'utf8'));
  const storedRollNos = new Set(stored.map((s) => s.rollNo));
  assert.equal(storedRollNos.size, stored.length, 'no student stored twice');
  for (const rollNo of acknowledged) assert.ok(storedRollNos.has(rollNo), `acknowledged ${rollNo} survived`);

  const restarted = await startServices({ DATA_DIR: dir }, 'registration');
  try {
    const after = await postJson(`${restarted.registration}/add-student`, { classStudents: [{ rollNo: 'after-restart', url: 'https://photos.invalid/x.jpg' }] });
    assert.equal(after.status, 200, 'the lock left by the killed process does not block the restarted one');
    const killedPid = service.child.pid!;
    const leftovers = (await readdir(dir)).filter((name) => name.includes(`.${killedPid}.`));
    assert.deepEqual(leftovers, [], 'temporary files and lock drafts of the killed process are cleaned up');
  } finally {
    await restarted.stop();
  }
});

test('attendance writer killed with SIGKILL mid-write: the file is valid and holds every acknowledged mark', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/mark-attendance.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acknowledged: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  const exited = exitOf(child);
  const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
  for await (const line of lines) {
    acknowledged.push(line);
    if (acknowledged.length === 40) {
      child.kill('SIGKILL');
      break;
    }
  }
  clearTimeout(deadline);
  await exited;
  assert.equal(acknowledged.length, 40, 'the writer acknowledged 40 marks within 60 s');
  const stored: { days: Record<string, { rollNo: string }[]> } = JSON.parse(await readFile(path.join(dir, 'attendance.json'), 'utf8'));
  const present = new Set(stored.days['2025-09-06']!.map((record) => record.rollNo));
  for (const rollNo of acknowledged) assert.ok(present.has(rollNo), `acknowledged ${rollNo} survived`);
});

test('a hand-broken data file stops the service at start with the file and the problem named, and is kept as it was', async () => {
  const broken = '[{"rollNo": "1", "url": "https://photos.invalid/1.jpg"}, {"rollNo": 2}]';
  await writeFile(path.join(dir, 'students_data.json'), broken);
  await assert.rejects(startServices({ DATA_DIR: dir }), (error: Error) => {
    assert.match(error.message, /exited with code 1/);
    return true;
  });
  const workDir = await makeWorkDir();
  const child = spawnService('both', { DATA_DIR: dir }, workDir);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  assert.equal(await withDeadline(exitOf(child), 60_000, 'the service to refuse to start'), 1);
  await rm(workDir, { recursive: true, force: true });
  assert.match(output, /students_data\.json is not a valid data file \(expected string, received number at 1\.rollNo|students_data\.json is not a valid data file \(.*1\.rollNo/);
  assert.match(output, /left untouched/);
  assert.equal(await readFile(path.join(dir, 'students_data.json'), 'utf8'), broken);
});

test('SIGTERM stops a running session, releases the camera process and exits cleanly', async () => {
  const video = path.join(dir, 'long.avi');
  const frame = path.join(ROOT, 'test/fixtures/frames/01-empty-room.jpg');
  await new Promise<void>((resolve, reject) =>
    execFile(ffmpegBinary(), ['-loglevel', 'error', '-loop', '1', '-i', frame, '-t', '60', '-r', '5', '-c:v', 'mjpeg', video], (error) => (error ? reject(error) : resolve())),
  );
  const service = await startServices({ DATA_DIR: dir, CAMERA: `ffmpeg:${video}` }, 'recognition');
  try {
    assert.equal((await postJson(`${service.recognition}/start-recognition`)).status, 200);
    const ffmpegPid = await waitForChildFfmpeg(service.child.pid!);
    await waitFor(async () => ((await getJson(`${service.recognition}/status`)).json.framesProcessed > 0 ? true : undefined), 'the session to read the video');
    const exited = exitOf(service.child);
    service.child.kill('SIGTERM');
    assert.equal(await withDeadline(exited, 30_000, 'the service to exit after SIGTERM'), 0);
    assert.equal(isAlive(ffmpegPid), false, 'the ffmpeg camera process is gone');
  } finally {
    await service.stop();
  }
});

async function waitForChildFfmpeg(parentPid: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      // Fields after the command name (in parentheses): state, then the parent's pid.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === parentPid && stat.includes('(ffmpeg)')) return Number(pid);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no ffmpeg child process appeared');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} finishes pending writes before exit: a mark made as the signal arrives and every acknowledged registration are on disk`, async () => {
    const photos = await startPhotoServer();
    const frames = path.join(dir, 'frames');
    await mkdir(frames);
    // obama on the first two frames (he is marked on the second), then an empty room the session cannot finish first.
    for (const name of ['a1.jpg', 'a2.jpg']) await copyFile(path.join(ROOT, 'test/fixtures/frames/02-obama.jpg'), path.join(frames, name));
    await linkFrames(path.join(ROOT, 'test/fixtures/frames/01-empty-room.jpg'), frames, 20_000, 'b');
    const services = await startServices({ DATA_DIR: dir, CAMERA: `dir:${frames}`, PRIVATE_URL_HOSTS: '127.0.0.1', LOG_LEVEL: 'debug', RATE_LIMIT_PER_MINUTE: '10000' });
    try {
      assert.equal((await postJson(`${services.registration}/add-student`, { classStudents: [{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }] })).status, 200);
      assert.equal((await postJson(`${services.recognition}/start-recognition`)).status, 200);
      // The signal goes as the worker reads obama's second frame, with registrations in flight.
      await services.logged((record) => record.msg === 'frame read' && record.frame === 2, "obama's second frame to be read");
      const registrations = Array.from({ length: 20 }, (_, i) =>
        postJson(`${services.registration}/add-student`, { classStudents: [{ rollNo: `late-${i}`, url: `https://photos.invalid/${i}.jpg` }] }).then(
          ({ status }) => (status === 200 ? `late-${i}` : undefined),
          () => undefined, // refused once the service closed its port
        ),
      );
      const exited = exitOf(services.child);
      services.child.kill(signal);
      assert.equal(await withDeadline(exited, 30_000, `the services to exit after ${signal}`), 0);
      const acknowledged = (await Promise.all(registrations)).filter((rollNo) => rollNo !== undefined);
      const stored = new Set((JSON.parse(await readFile(path.join(dir, 'students_data.json'), 'utf8')) as { rollNo: string }[]).map((student) => student.rollNo));
      for (const rollNo of acknowledged) assert.ok(stored.has(rollNo), `acknowledged ${rollNo} is on disk`);
      const attendance = JSON.parse(await readFile(path.join(dir, 'attendance.json'), 'utf8')) as { days: Record<string, { rollNo: string }[]> };
      assert.deepEqual(Object.values(attendance.days).flat().map((record) => record.rollNo), ['obama'], 'the mark made as the signal arrived is on disk');
      assert.ok(services.logs.some((record) => record.msg === 'student marked present'), 'the service acknowledged the mark');
    } finally {
      await services.stop();
      await photos.close();
    }
  });
}
