// Keyless mode served every request made on the machine itself, and that includes a browser on it: a page of another
// site could POST /start-recognition as a simple form (`Origin: http://evil.example`, `Sec-Fetch-Site: cross-site`
// answered 200), and through DNS rebinding (`Host: rebind.evil.example:8001`) read GET /students and GET /snapshot.jpg.
// Without a key the services now refuse a Host that is not a loopback name or address, an Origin that is not the
// service's own, and `Sec-Fetch-Site: cross-site` (403 CROSS_ORIGIN_REFUSED); server-side callers, which send no
// Origin, work as before.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRecognitionApp } from '../../src/recognition/app.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { scratchFolder } from './helpers.ts';

let dir: string;
const apps: FastifyInstance[] = [];

before(async () => {
  dir = await scratchFolder('keyless-browser');
});
after(async () => {
  for (const app of apps) await app.inject({ method: 'POST', url: '/stop-recognition' }).catch(() => {});
  await Promise.all(apps.map((app) => app.close()));
  await rm(dir, { recursive: true, force: true });
});

async function listen(env: Record<string, string> = {}) {
  const data = path.join(dir, String(apps.length));
  await mkdir(data);
  const config = loadConfig({ DATA_DIR: data, CAMERA: `dir:${path.join(data, 'no-frames')}`, LOG_LEVEL: 'silent', ...env });
  const logger = pino({ level: 'silent' });
  const students = new JsonStudentStore(data);
  const registration = await buildRegistrationApp({ config, students, logger });
  const recognition = await buildRecognitionApp({ config, students, attendance: new JsonAttendanceStore(data), logger });
  apps.push(registration, recognition);
  return {
    registration: new URL(await registration.listen({ host: '127.0.0.1', port: 0 })),
    recognition: new URL(await recognition.listen({ host: '127.0.0.1', port: 0 })),
  };
}

/** A request with exactly these headers (fetch would not let a test set Host). */
function call(base: URL, method: string, pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port: base.port, method, path: pathname, headers: { host: base.host, ...headers } }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, json: body ? JSON.parse(body) : undefined }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

test('keyless: a page of another origin cannot start a session, by a cross-site form or with its Origin', async () => {
  const { recognition } = await listen();
  const attempts: Record<string, string>[] = [
    { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
    { origin: 'http://evil.example' },
    { 'sec-fetch-site': 'cross-site' },
    { origin: 'null' },
    { origin: `http://127.0.0.1:${Number(recognition.port) - 1}` },
    { origin: `https://127.0.0.1:${recognition.port}` },
  ];
  for (const headers of attempts) {
    const refused = await call(recognition, 'POST', '/start-recognition', headers);
    assert.equal(refused.status, 403, JSON.stringify(headers));
    assert.equal(refused.json.code, 'CROSS_ORIGIN_REFUSED');
    assert.equal(refused.json.status, 'error');
  }
  assert.equal((await call(recognition, 'GET', '/status')).json.running, false, 'nothing was started');
});

test('keyless: a rebound host name cannot read the roster, the attendance or the camera picture', async () => {
  const { registration, recognition } = await listen();
  const rebound = (base: URL) => ({ host: `rebind.evil.example:${base.port}` });
  for (const [base, pathname] of [
    [registration, '/students'],
    [registration, '/students/1'],
    [recognition, '/snapshot.jpg'],
    [recognition, '/roster'],
    [recognition, '/attendance'],
    [recognition, '/events'],
  ] as const) {
    const refused = await call(base, 'GET', pathname, rebound(base));
    assert.equal(refused.status, 403, pathname);
    assert.equal(refused.json.code, 'CROSS_ORIGIN_REFUSED', pathname);
  }
  for (const host of [`localhost.evil.example:${recognition.port}`, `127.0.0.1.nip.io:${recognition.port}`, '10.0.0.1']) {
    assert.equal((await call(recognition, 'GET', '/roster', { host })).status, 403, host);
  }
  // Health and readiness stay open, as with a key.
  assert.equal((await call(recognition, 'GET', '/health', rebound(recognition))).status, 200);
});

test('keyless: server-side callers and the service’s own page keep working', async () => {
  const { registration, recognition } = await listen();
  const own = `http://127.0.0.1:${recognition.port}`;
  const allowed: [URL, string, string, Record<string, string>][] = [
    [registration, 'GET', '/students', {}],
    [registration, 'GET', '/students', { host: `localhost:${registration.port}` }],
    [recognition, 'GET', '/roster', { host: `[::1]:${recognition.port}` }],
    [recognition, 'GET', '/roster', { origin: own, 'sec-fetch-site': 'same-origin' }],
    [recognition, 'GET', '/status', { host: `localhost:${recognition.port}`, origin: `http://localhost:${recognition.port}` }],
    [recognition, 'GET', '/status', { 'sec-fetch-site': 'none' }],
  ];
  for (const [base, method, pathname, headers] of allowed) {
    const answer = await call(base, method, pathname, headers);
    assert.equal(answer.status, 200, `${pathname} ${JSON.stringify(headers)}: ${JSON.stringify(answer.json)}`);
  }
});

test('with an API key, the key decides, whatever the Origin', async () => {
  const key = 'k3y-for-keyless-test-0123456789';
  const { registration } = await listen({ API_KEY: key });
  assert.equal((await call(registration, 'GET', '/students', { origin: 'http://evil.example', 'x-api-key': key })).status, 200);
  assert.equal((await call(registration, 'GET', '/students', { origin: 'http://evil.example' })).status, 401);
});
