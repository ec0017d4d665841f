import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { buildRecognitionApp } from '../src/recognition/app.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';

// The roll-call page's promises that need no browser, so they run everywhere (the page in Chromium is
// roll-call-page.test.ts): its files are public and sent with a strict Content-Security-Policy, while every route
// it reads its data from refuses a request without the key.

const API_KEY = 'roll-call-page-test-key-0123456789';
let dir: string;
let app: FastifyInstance;
let base: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-page-access-'));
  const config = loadConfig({ DATA_DIR: dir, CAMERA: `dir:${path.join(dir, 'no-frames')}`, API_KEY, LOG_LEVEL: 'silent' });
  app = await buildRecognitionApp({ config, students: new JsonStudentStore(dir), attendance: new JsonAttendanceStore(dir), logger: pino({ level: 'silent' }) });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

test('the page and its assets are public and allow no inline script or style', async () => {
  for (const [asset, type] of [['/', /^text\/html/], ['/roll-call.js', /^text\/javascript/], ['/roll-call.css', /^text\/css/]] as const) {
    const response = await fetch(`${base}${asset}`);
    assert.equal(response.status, 200, asset);
    assert.match(response.headers.get('content-type') ?? '', type, asset);
    const policy = response.headers.get('content-security-policy') ?? '';
    assert.match(policy, /(^|; )default-src 'none'(;|$)/, asset);
    assert.match(policy, /(^|; )script-src 'self'(;|$)/, asset);
    assert.match(policy, /(^|; )style-src 'self'(;|$)/, asset);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|https?:|\*/, `${asset}: nothing inline, nothing from elsewhere`);
    assert.ok((await response.arrayBuffer()).byteLength > 0, asset);
  }
});

test('every route the page reads its data from refuses a request without the key, and answers with it', async () => {
  for (const route of ['/roster', '/status', '/events', '/snapshot.jpg', '/attendance']) {
    const refused = await fetch(`${base}${route}`);
    assert.equal(refused.status, 401, `${route} without the key`);
    assert.equal(((await refused.json()) as { code: string }).code, 'UNAUTHORIZED', route);
    const controller = new AbortController();
    const allowed = await fetch(`${base}${route}`, { headers: { 'x-api-key': API_KEY }, signal: controller.signal });
    // With the key the route is reached: /events streams, /snapshot.jpg has nothing to show (409), the rest answer 200.
    assert.equal(allowed.status, route === '/snapshot.jpg' ? 409 : 200, `${route} with the key`);
    controller.abort();
  }
});
