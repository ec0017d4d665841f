// `GET /events` had no cap: 200 streams from one client were all accepted and held open. Now a client may hold
// MAX_STREAMS_PER_CLIENT streams (429 TOO_MANY_STREAMS beyond) and the service MAX_STREAMS in all (503 STREAMS_FULL);
// a closed stream frees its place.
import assert from 'node:assert/strict';
import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRecognitionApp } from '../../src/recognition/app.ts';
import { MAX_STREAMS, MAX_STREAMS_PER_CLIENT } from '../../src/recognition/events-route.ts';
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { scratchFolder } from './helpers.ts';

let dir: string;
before(async () => {
  dir = await scratchFolder('event-streams');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Opened {
  request: ClientRequest;
  response: IncomingMessage;
  body: () => Promise<string>;
}

/** Opens `GET /events` from `client` (an address of 127.0.0.0/8) and resolves once the answer's headers arrive. */
function openStream(base: URL, client: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port: base.port, path: '/events', localAddress: client, agent: false }, (response) => {
      resolve({
        request,
        response,
        body: () =>
          new Promise((done) => {
            let text = '';
            response.on('data', (chunk) => (text += chunk));
            response.on('end', () => done(text));
          }),
      });
    });
    request.on('error', reject);
  });
}

test('GET /events: at most MAX_STREAMS_PER_CLIENT per client (429) and MAX_STREAMS in all (503)', async () => {
  await mkdir(dir, { recursive: true });
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', CAMERA: `dir:${path.join(dir, 'none')}` });
  const app = await buildRecognitionApp({ config, students: new JsonStudentStore(dir), attendance: new JsonAttendanceStore(dir), logger: pino({ level: 'silent' }) });
  const base = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  const opened: Opened[] = [];
  try {
    for (let i = 0; i < MAX_STREAMS_PER_CLIENT; i++) {
      const stream = await openStream(base, '127.0.0.1');
      assert.equal(stream.response.statusCode, 200);
      opened.push(stream);
    }
    const refused = await openStream(base, '127.0.0.1');
    assert.equal(refused.response.statusCode, 429);
    assert.equal(JSON.parse(await refused.body()).code, 'TOO_MANY_STREAMS');

    // Other clients fill the service up to MAX_STREAMS.
    for (let client = 2; opened.length < MAX_STREAMS; client++) {
      for (let i = 0; i < MAX_STREAMS_PER_CLIENT && opened.length < MAX_STREAMS; i++) {
        const stream = await openStream(base, `127.0.0.${client}`);
        assert.equal(stream.response.statusCode, 200, `stream ${opened.length + 1}`);
        opened.push(stream);
      }
    }
    const full = await openStream(base, '127.0.1.1');
    assert.equal(full.response.statusCode, 503);
    assert.equal(JSON.parse(await full.body()).code, 'STREAMS_FULL');

    // A stream that closes frees its place.
    const leaving = opened.shift()!;
    leaving.request.destroy();
    await new Promise<void>((resolve) => {
      const retry = async () => {
        const stream = await openStream(base, '127.0.1.1');
        if (stream.response.statusCode === 200) {
          opened.push(stream);
          resolve();
        } else {
          await stream.body();
          setTimeout(retry, 50);
        }
      };
      void retry();
    });
  } finally {
    for (const stream of opened) stream.request.destroy();
    await app.close();
  }
});

test('HEAD /events answers at once and holds no stream (it used to open one that never ended)', { timeout: 20_000 }, async () => {
  await mkdir(dir, { recursive: true });
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', CAMERA: `dir:${path.join(dir, 'none')}` });
  const app = await buildRecognitionApp({ config, students: new JsonStudentStore(dir), attendance: new JsonAttendanceStore(dir), logger: pino({ level: 'silent' }) });
  try {
    const head = await app.inject({ method: 'HEAD', url: '/events' });
    assert.equal(head.statusCode, 404);
    const status = (await app.inject({ method: 'GET', url: '/status' })).json();
    assert.equal(status.diagnostics.eventClients, 0);
  } finally {
    await app.close();
  }
});
