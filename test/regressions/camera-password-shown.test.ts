// `CAMERA=ffmpeg:rtsp://admin:CamPass99@cam-101.invalid/stream` showed the camera's password in GET /status (`camera`,
// `lastError`), in the /events `session-started` and `camera-error` events (which the roll-call page receives) and in
// log lines: the camera was described, and ffmpeg's failure repeated, with the URL as written. Now every description
// of the camera, and every camera failure, shows the URL with its user name and password replaced by `***`.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { withoutCredentials } from '../../src/config/without-credentials.ts';
import { openEventStream } from '../helpers/event-stream.ts';
import { getJson, postJson, startServices, waitFor } from '../helpers/service-process.ts';
import { scratchFolder } from './helpers.ts';

const PASSWORD = 'CamPass99';

let dir: string;
before(async () => {
  dir = await scratchFolder('camera-password');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A port of 127.0.0.1 nothing listens on: a camera there refuses the connection, and ffmpeg says so naming the URL. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a camera URL with a password: /status, the events and the logs show it as ***, also when ffmpeg fails on it', { timeout: 180_000 }, async () => {
  const camera = `ffmpeg:rtsp://admin:${PASSWORD}@127.0.0.1:${await closedPort()}/stream`;
  const services = await startServices({ DATA_DIR: path.join(dir, 'data'), CAMERA: camera }, 'recognition');
  const events = await openEventStream(`${services.recognition}/events`);
  try {
    const idle = (await getJson(`${services.recognition}/status`)).json;
    assert.match(idle.camera, /^ffmpeg:rtsp:\/\/\*\*\*@127\.0\.0\.1:\d+\/stream$/);

    assert.equal((await postJson(`${services.recognition}/start-recognition`)).status, 200);
    const failed = await waitFor(async () => {
      const status = (await getJson(`${services.recognition}/status`)).json;
      return status.lastError ? status : undefined;
    }, 'the camera failure in /status', 150_000);
    assert.match(failed.lastError, /ffmpeg stopped reading rtsp:\/\/\*\*\*@127\.0\.0\.1:\d+\/stream .*Connection refused/);
    await waitFor(async () => (events.events.some((event) => event.event === 'camera-error') ? true : undefined), 'a camera-error event');
    const started = events.events.find((event) => event.event === 'session-started');
    assert.match(started?.data.camera, /^ffmpeg:rtsp:\/\/\*\*\*@127\.0\.0\.1/);

    const everything = JSON.stringify({ idle, failed, events: events.events, logs: services.logs });
    assert.ok(everything.includes('camera-error') && everything.includes('watching camera'), 'the events and log lines were seen');
    assert.ok(!everything.includes(PASSWORD), `the password is nowhere: ${everything.slice(0, 3000)}`);
  } finally {
    events.close();
    await services.stop();
  }
});

test('a CAMERA setting the service refuses is repeated without its password', () => {
  assert.throws(
    () => loadConfig({ CAMERA: `ffmpeg:rtsp://admin:${PASSWORD}@cam-101.invalid/stream with spaces` }),
    (error: Error) => /CAMERA="ffmpeg:rtsp:\/\/\*\*\*@cam-101\.invalid\/stream with spaces"/.test(error.message) && !error.message.includes(PASSWORD),
  );
});

test('the user name and password of every URL in a text are hidden, an @ in the password included', () => {
  assert.equal(
    withoutCredentials('rtsp://admin:Cam@Pass99@cam-101.invalid:554/stream?x=a@b and http://viewer@cam-102.invalid/x.mjpg'),
    'rtsp://***@cam-101.invalid:554/stream?x=a@b and http://***@cam-102.invalid/x.mjpg',
  );
  assert.equal(withoutCredentials('/dev/video0 rtsp://cam-103.invalid/stream'), '/dev/video0 rtsp://cam-103.invalid/stream');
});
