// A teacher removes a camera mark (the camera marked the wrong student, or a student who then left). The camera must
// not put that mark back the same day: until the store refused it, the next session to see the face marked the
// student again as if nobody had decided otherwise. The person's decision stands for the day, and the service says
// (in /status and on the event stream) that it ignored the recognition for that reason.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { dayIn } from '../../src/recognition/attendance-clock.ts';
import { openEventStream } from '../helpers/event-stream.ts';
import { startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import { recognitionApp } from '../helpers/recognition-app.ts';
import { waitFor } from '../helpers/service-process.ts';
import { switchableWebcam, type SwitchableWebcam } from '../helpers/switchable-webcam.ts';

let scratch: string;
let photos: PhotoServer;
let webcam: SwitchableWebcam;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-remark-'));
  photos = await startPhotoServer();
  webcam = await switchableWebcam(scratch);
});
after(async () => {
  webcam.restore();
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

test("the camera does not mark again, that day, a student whose mark a person removed; it says it ignored them", async () => {
  const dataDir = path.join(scratch, 'data');
  await webcam.show('02-obama.jpg');
  const recognition = await recognitionApp(dataDir, { CAMERA: 'webcam', MATCH_MIN_FRAMES: '1', TIME_ZONE: 'UTC', RATE_LIMIT_PER_MINUTE: '100000' });
  await recognition.students.addMany(
    [
      { rollNo: 'obama', url: `${photos.origin}/obama.jpg` },
      { rollNo: 'rick', url: `${photos.origin}/rick.jpg` },
    ],
    new Date().toISOString(),
  );
  const base = await recognition.app.listen({ host: '127.0.0.1', port: 0 });
  const stream = await openEventStream(`${base}/events`);
  const today = dayIn('UTC', new Date());
  try {
    // Session 1: the camera marks obama.
    assert.equal((await recognition.call('POST', '/start-recognition')).status, 200);
    await waitFor(async () => ((await recognition.status()).recognizedThisSession === 1 ? true : undefined), 'obama to be marked by the camera');
    const [cameraMark] = await recognition.attendance.listDay(today);
    assert.equal(cameraMark?.rollNo, 'obama');
    assert.equal(cameraMark?.source, 'camera');
    assert.equal(cameraMark?.source === 'camera' && cameraMark.sessionId, (await recognition.status()).sessionId);

    // A person removes the mark while obama is still in view.
    const removed = await fetch(`${base}/attendance/${today}/obama`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ by: 'Ms Rao', reason: 'not in this class' }),
    });
    assert.equal(removed.status, 200);
    assert.equal((await recognition.call('POST', '/stop-recognition')).json.recognizedStudents.length, 0);

    // Session 2, the same day: the camera sees obama again, then rick.
    assert.equal((await recognition.call('POST', '/start-recognition')).status, 200);
    const seenAgain = await waitFor(async () => {
      const status = await recognition.status();
      return status.ignoredRecognitions.length + status.recognizedThisSession > 0 ? status : undefined;
    }, 'the camera to recognise obama again');
    assert.equal(seenAgain.recognizedThisSession, 0, 'obama was not marked again');
    const ignored = seenAgain.ignoredRecognitions;
    assert.deepEqual(ignored, [{ rollNo: 'obama', day: today, seenAt: ignored[0].seenAt, reason: 'removed-by-person' }]);
    const secondSession = (await recognition.status()).sessionId;
    await webcam.show('07-rick.jpg');
    await waitFor(async () => ((await recognition.status()).recognizedThisSession === 1 ? true : undefined), 'rick to be marked');

    const stopped = await recognition.call('POST', '/stop-recognition');
    assert.deepEqual(stopped.json.recognizedStudents.map((record: { rollNo: string }) => record.rollNo), ['rick'], 'obama stays removed');
    const changes = await recognition.call('GET', `/attendance/changes?date=${today}`);
    assert.deepEqual(changes.json.changes.map((change: { rollNo: string; action: string }) => [change.rollNo, change.action]), [['obama', 'removed']]);
    await waitFor(async () => (stream.events.filter((event) => event.event === 'session-stopped').length === 2 ? true : undefined), 'both stop events');
    const told = stream.events.filter((event) => ['student-present', 'attendance-corrected', 'recognition-ignored'].includes(event.event));
    assert.deepEqual(
      told.map((event) => [event.event, event.data.rollNo ?? event.data.change.rollNo]),
      [
        ['student-present', 'obama'],
        ['attendance-corrected', 'obama'],
        ['recognition-ignored', 'obama'],
        ['student-present', 'rick'],
      ],
    );
    const ignoredEvent = told[2]!.data;
    assert.deepEqual([ignoredEvent.sessionId, ignoredEvent.day, ignoredEvent.reason], [secondSession, today, 'removed-by-person']);
  } finally {
    stream.close();
    await recognition.call('POST', '/stop-recognition');
    await recognition.app.close();
  }
});
