import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { buildRecognitionApp } from '../src/recognition/app.ts';
import { buildRegistrationApp } from '../src/registration/app.ts';
import { exposureWarnings } from '../src/services.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';

const KEY = 'k3y-for-tests-0123456789abcdef';
let dir: string;
const apps: FastifyInstance[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-access-'));
});
after(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await rm(dir, { recursive: true, force: true });
});

/** Both services on real ports of 127.0.0.1 with `env`; resolves their base URLs. */
async function listen(env: Record<string, string>) {
  const config = loadConfig({ DATA_DIR: dir, CAMERA: `dir:${path.join(dir, 'no-frames')}`, ...env });
  const logger = pino({ level: 'silent' });
  const students = new JsonStudentStore(dir);
  const registration = await buildRegistrationApp({ config, students, logger });
  const recognition = await buildRecognitionApp({ config, students, attendance: new JsonAttendanceStore(dir), logger });
  apps.push(registration, recognition);
  return {
    registration: await registration.listen({ host: '127.0.0.1', port: 0 }),
    recognition: await recognition.listen({ host: '127.0.0.1', port: 0 }),
  };
}

const addStudent = { classStudents: [{ rollNo: '1', url: 'https://photos.invalid/1.jpg' }] };

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, any> };
}

test('with API_KEY set, every endpoint but /health needs the key, as x-api-key or Bearer', async () => {
  const urls = await listen({ API_KEY: KEY });
  const protectedCalls: [string, string, unknown?][] = [
    ['POST', `${urls.registration}/add-student`, addStudent],
    ['POST', `${urls.recognition}/start-recognition`],
    ['POST', `${urls.recognition}/stop-recognition`],
    ['GET', `${urls.recognition}/status`],
  ];
  for (const [method, url, body] of protectedCalls) {
    const missing = await call(url, { method, body });
    assert.equal(missing.status, 401, `${method} ${url}`);
    assert.deepEqual(missing.json, { status: 'error', code: 'UNAUTHORIZED', message: 'Missing API key: send it in the x-api-key header or as "Authorization: Bearer <key>".' });
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    const wrong = await call(url, { method, body, headers: { 'x-api-key': `${KEY}x` } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.json.message, /^Wrong API key/);
  }
  assert.equal((await call(`${urls.registration}/add-student`, { method: 'POST', body: addStudent, headers: { 'x-api-key': KEY } })).status, 200);
  assert.equal((await call(`${urls.recognition}/status`, { headers: { authorization: `Bearer ${KEY}` } })).status, 200);
  assert.equal((await call(`${urls.recognition}/stop-recognition`, { method: 'POST', headers: { authorization: `bearer ${KEY}` } })).status, 200);
  for (const base of [urls.registration, urls.recognition]) assert.deepEqual((await call(`${base}/health`)).json, { status: 'ok' });
});

test('a service-specific key overrides API_KEY for that service only', async () => {
  const urls = await listen({ API_KEY: KEY, RECOGNITION_API_KEY: 'recognition-only-key-0123456789' });
  assert.equal((await call(`${urls.recognition}/status`, { headers: { 'x-api-key': KEY } })).status, 401);
  assert.equal((await call(`${urls.recognition}/status`, { headers: { 'x-api-key': 'recognition-only-key-0123456789' } })).status, 200);
  assert.equal((await call(`${urls.registration}/add-student`, { method: 'POST', body: addStudent, headers: { 'x-api-key': KEY } })).status, 200);
});

test('without a key, direct requests from this machine work and tunnelled ones (X-Forwarded-For, as ngrok sends) are refused', async () => {
  const urls = await listen({});
  assert.equal((await call(`${urls.recognition}/status`)).status, 200);
  for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
    const tunnelled = await call(`${urls.registration}/add-student`, { method: 'POST', body: addStudent, headers: { [header]: '203.0.113.9' } });
    assert.equal(tunnelled.status, 401, header);
    assert.equal(tunnelled.json.code, 'API_KEY_NOT_CONFIGURED');
    assert.match(tunnelled.json.message, /Set API_KEY/);
  }
  assert.equal((await call(`${urls.registration}/health`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 200);
});

test('rate limiting counts each client behind a trusted proxy separately and answers 429 in JSON', async () => {
  const urls = await listen({ API_KEY: KEY, TRUST_PROXY: '127.0.0.1', RATE_LIMIT_PER_MINUTE: '3' });
  const asClient = (ip: string) => call(`${urls.recognition}/status`, { headers: { 'x-api-key': KEY, 'x-forwarded-for': ip } });
  for (let i = 0; i < 3; i++) assert.equal((await asClient('198.51.100.1')).status, 200);
  const limited = await asClient('198.51.100.1');
  assert.equal(limited.status, 429);
  assert.equal(limited.json.code, 'RATE_LIMITED');
  assert.match(limited.json.message, /at most 3 a minute/);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal((await asClient('198.51.100.2')).status, 200, 'another client behind the same proxy is not limited');
  for (let i = 0; i < 5; i++) assert.equal((await call(`${urls.recognition}/health`)).status, 200, 'health checks are never limited');
});

test('answers carry security headers, and errors carry no stack trace or server path', async () => {
  const urls = await listen({});
  const response = await fetch(`${urls.registration}/add-student`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"classStudents":' });
  assert.equal(response.status, 400);
  for (const [name, value] of [
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['referrer-policy', 'no-referrer'],
    ['cache-control', 'no-store'],
  ] as const) {
    assert.equal(response.headers.get(name), value, name);
  }
  const body = await response.text();
  assert.doesNotMatch(body, /at .*\.(ts|js):\d+|node_modules|\/work\/|stack/i);
});

test('starting on a non-loopback address without a key warns loudly, naming the service', () => {
  assert.deepEqual(exposureWarnings(loadConfig({ HOST: '127.0.0.1' }), ['registration', 'recognition']), []);
  assert.deepEqual(exposureWarnings(loadConfig({ HOST: '0.0.0.0', API_KEY: KEY }), ['registration', 'recognition']), []);
  const warnings = exposureWarnings(loadConfig({ HOST: '0.0.0.0', REGISTRATION_API_KEY: KEY }), ['registration', 'recognition']);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /^SECURITY: the recognition service listens on 0\.0\.0\.0 but has no API key/);
});
