// The camera recognises a student once per session. When writing that mark failed because the database could not be
// reached, the mark waited in memory and was written once the database was back; when it failed for any other reason
// that passes (the disk full, the lock held too long by another process, attendance.json briefly invalid while someone
// edited it), the mark was reported in `lastError` and lost for good: the student stayed absent although the camera had
// seen them. Such marks now wait in the same queue (`queuedMarks` in /status), are written once the file can be written
// again, and `lastError` clears once they are.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { dayIn } from '../../src/recognition/attendance-clock.ts';
import { ATTENDANCE_FILE } from '../../src/storage/json-attendance-store.ts';
import { startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import { recognitionApp } from '../helpers/recognition-app.ts';
import { waitFor } from '../helpers/service-process.ts';
import { switchableWebcam, type SwitchableWebcam } from '../helpers/switchable-webcam.ts';

let scratch: string;
let photos: PhotoServer;
let webcam: SwitchableWebcam;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-mark-kept-'));
  photos = await startPhotoServer();
  webcam = await switchableWebcam(scratch);
});
after(async () => {
  webcam.restore();
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

test('a camera mark the attendance file cannot take waits, and is written once the file is repaired', async () => {
  const dataDir = path.join(scratch, 'data');
  await webcam.show('01-empty-room.jpg');
  const recognition = await recognitionApp(dataDir, { CAMERA: 'webcam', MATCH_MIN_FRAMES: '1', TIME_ZONE: 'UTC', RATE_LIMIT_PER_MINUTE: '100000' });
  await recognition.students.addMany([{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }], new Date().toISOString());
  const attendanceFile = path.join(dataDir, ATTENDANCE_FILE);
  const today = dayIn('UTC', new Date());
  try {
    assert.equal((await recognition.call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => ((await recognition.status()).phase === 'watching' ? true : undefined), 'the session to watch the camera');

    // Someone is editing attendance.json by hand: half of it is written when the camera sees obama.
    const before = await readFile(attendanceFile, 'utf8').catch(() => '{"days": {}, "changes": []}\n');
    await writeFile(attendanceFile, before.slice(0, Math.floor(before.length / 2)));
    await webcam.show('02-obama.jpg');
    const waiting = await waitFor(async () => {
      const status = await recognition.status();
      return status.queuedMarks === 1 ? status : undefined;
    }, 'the mark to wait in the queue');
    assert.match(waiting.lastError, /attendance cannot be written \(attendance\.json is not a valid data file .*\): 1 mark\(s\) waiting to be written/);
    assert.doesNotMatch(waiting.lastError, new RegExp(scratch), 'no server path in /status');
    assert.equal(waiting.recognizedThisSession, 0);

    await writeFile(attendanceFile, before);
    const written = await waitFor(async () => {
      const status = await recognition.status();
      return status.queuedMarks === 0 && status.recognizedThisSession === 1 ? status : undefined;
    }, 'the waiting mark to be written');
    assert.equal(written.lastError, null, 'the problem is not reported once its mark is written');
    assert.equal(written.droppedMarks, 0);
    assert.deepEqual((await recognition.attendance.listDay(today)).map((record) => record.rollNo), ['obama']);
    const stopped = await recognition.call('POST', '/stop-recognition');
    assert.deepEqual(stopped.json.recognizedStudents.map((record: { rollNo: string }) => record.rollNo), ['obama']);
  } finally {
    await recognition.call('POST', '/stop-recognition');
    await recognition.app.close();
  }
});
