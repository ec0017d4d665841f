import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import sharp from 'sharp';
import { loadConfig } from '../src/config/config.ts';
import { buildRecognitionApp } from '../src/recognition/app.ts';
import { buildRegistrationApp } from '../src/registration/app.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';
import { openEventStream } from './helpers/event-stream.ts';
import { linkFrames } from './helpers/frame-folder.ts';
import { FIXTURES, startPhotoServer, type PhotoServer } from './helpers/photo-server.ts';
import { getJson, postJson, waitFor } from './helpers/service-process.ts';

// Both services on real ports over one data folder, a real session on a folder of frames that all show obama,
// with real inference: the live event stream, the snapshot, and the photo verdicts the registration side reports.

let scratch: string;
let photos: PhotoServer;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-live-'));
  photos = await startPhotoServer();
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

async function startBoth(name: string, camera: string) {
  const dataDir = path.join(scratch, name);
  await mkdir(dataDir, { recursive: true });
  const config = loadConfig({ DATA_DIR: dataDir, CAMERA: camera, ALLOW_PRIVATE_URLS: '1', LOG_LEVEL: 'silent' });
  const logger = pino({ level: 'silent' });
  const students = new JsonStudentStore(dataDir);
  const attendance = new JsonAttendanceStore(dataDir);
  const registration = await buildRegistrationApp({ config, students, attendance, logger });
  const recognition = await buildRecognitionApp({ config, students, attendance, logger });
  return {
    registration: await registration.listen({ host: '127.0.0.1', port: 0 }),
    recognition: await recognition.listen({ host: '127.0.0.1', port: 0 }),
    close: () => Promise.all([registration.close(), recognition.close()]),
  };
}

test('a session streams its events, shows a labelled snapshot, and leaves photo verdicts for the roster', async () => {
  const frames = path.join(scratch, 'obama-frames');
  await mkdir(frames);
  // More frames than the session can reach the end of while the test waits: the snapshot asked for after the mark
  // always finds the camera watched, however fast the pipeline runs.
  await linkFrames(path.join(FIXTURES, 'frames', '02-obama.jpg'), frames, 20_000);
  const services = await startBoth('live', `dir:${frames}`);
  const stream = await openEventStream(`${services.recognition}/events`);
  try {
    assert.equal(stream.status, 200);
    assert.match(stream.contentType ?? '', /^text\/event-stream/);
    const added = await postJson(`${services.registration}/add-student`, {
      classStudents: [
        { rollNo: 'obama', url: `${photos.origin}/obama.jpg` },
        { rollNo: 'nobody', url: `${photos.origin}/landscape.jpg` },
      ],
    });
    assert.equal(added.status, 200);

    const idleSnapshot = await getJson(`${services.recognition}/snapshot.jpg`);
    assert.equal(idleSnapshot.status, 409);
    assert.equal(idleSnapshot.json.code, 'NO_SNAPSHOT');

    assert.equal((await postJson(`${services.recognition}/start-recognition`)).status, 200);
    await waitFor(async () => (stream.events.some((e) => e.event === 'student-present') ? true : undefined), 'obama to be marked present');

    const snapshot = await fetch(`${services.recognition}/snapshot.jpg`);
    assert.equal(snapshot.status, 200);
    assert.equal(snapshot.headers.get('content-type'), 'image/jpeg');
    assert.equal(snapshot.headers.get('cache-control'), 'no-store');
    const { data, info } = await sharp(Buffer.from(await snapshot.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    const frame = await sharp(path.join(FIXTURES, 'frames', '02-obama.jpg')).metadata();
    assert.deepEqual([info.width, info.height], [frame.width, frame.height]);
    let green = 0;
    for (let i = 0; i < data.length; i += info.channels) if (data[i]! < 90 && data[i + 1]! > 200 && data[i + 2]! < 90) green += 1;
    assert.ok(green > 200, `a green box around the recognised face (${green} green pixels)`);

    const stopped = await postJson(`${services.recognition}/stop-recognition`);
    assert.deepEqual(stopped.json.recognizedStudents.map((r: { rollNo: string }) => r.rollNo), ['obama']);
    await waitFor(async () => (stream.events.some((e) => e.event === 'session-stopped') ? true : undefined), 'the stop event');

    const sessionId = stream.events[0]!.data.sessionId;
    assert.deepEqual(
      stream.events.map((e) => [e.event, e.data.sessionId, e.data.rollNo]),
      [
        ['session-started', sessionId, undefined],
        ['enrollment-problem', sessionId, 'nobody'],
        ['student-present', sessionId, 'obama'],
        ['session-stopped', sessionId, undefined],
      ],
    );
    const ids = stream.events.map((e) => Number(e.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.equal(new Set(ids).size, ids.length);
    for (const e of stream.events) {
      assert.equal(e.data.id, Number(e.id));
      assert.match(e.data.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    assert.equal(stream.events[1]!.data.code, 'NO_FACE_FOUND');
    assert.equal(stream.events[3]!.data.reason, 'stopped');

    const replay = await openEventStream(`${services.recognition}/events`, { 'last-event-id': stream.events[1]!.id });
    await waitFor(async () => (replay.events.length >= 2 ? true : undefined), 'the replayed events');
    replay.close();
    assert.deepEqual(replay.events.map((e) => e.event), ['student-present', 'session-stopped'], 'a reconnecting client gets what it missed');

    const verdicts = await getJson(`${services.registration}/students`);
    assert.deepEqual(
      verdicts.json.students.map((s: { rollNo: string; photo: { usable: boolean; problem: { code: string } | null } }) => [s.rollNo, s.photo.usable, s.photo.problem?.code]),
      [
        ['obama', true, undefined],
        ['nobody', false, 'NO_FACE_FOUND'],
      ],
    );

    const afterStop = await getJson(`${services.recognition}/snapshot.jpg`);
    assert.equal(afterStop.status, 409);
  } finally {
    stream.close();
    await services.close();
  }
});

test('a camera that cannot be read shows up on the event stream as a camera-error', async () => {
  const services = await startBoth('no-camera', `dir:${path.join(scratch, 'no-such-folder')}`);
  const stream = await openEventStream(`${services.recognition}/events`);
  try {
    assert.equal((await postJson(`${services.recognition}/start-recognition`)).status, 200);
    const error = await waitFor(async () => stream.events.find((e) => e.event === 'camera-error'), 'a camera error');
    assert.equal(error.data.code, 'CAMERA_UNAVAILABLE');
    assert.match(error.data.message, /cannot read frame folder/);
    assert.equal((await postJson(`${services.recognition}/stop-recognition`)).status, 200);
  } finally {
    stream.close();
    await services.close();
  }
});
