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

type Urls = Awaited<ReturnType<typeof listen>>;

/** The five headers the README promises on every answer (a route may add more, such as the page's policy). */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};
type Operation = { service: keyof Urls; method: string; route: string; url: string };

/** Routes anyone may call, key or not: health checks, the API documentation, and the roll-call page's own files. */
const PUBLIC_ROUTES = [
  '/health', '/ready',
  '/docs', '/docs/', '/docs/json', '/docs/yaml', '/docs/static/index.html', '/docs/static/swagger-initializer.js', '/docs/*',
  '/', '/roll-call.js', '/roll-call.css',
];
const isPublic = (route: string) => PUBLIC_ROUTES.includes(route);

/** Every operation each service's own OpenAPI document lists, path parameters filled in, plus HEAD for each GET. */
async function documentedOperations(urls: Urls): Promise<Operation[]> {
  const operations: Operation[] = [];
  for (const service of ['registration', 'recognition'] as const) {
    const document = (await call(`${urls[service]}/docs/json`)).json as { paths: Record<string, Record<string, unknown>> };
    for (const [route, methods] of Object.entries(document.paths)) {
      const url = `${urls[service]}${route.replace(/\{[^}]+\}/g, 'nobody-1')}`;
      for (const method of Object.keys(methods).map((name) => name.toUpperCase())) {
        operations.push({ service, method, route, url });
        if (method === 'GET') operations.push({ service, method: 'HEAD', route, url });
      }
    }
  }
  return operations;
}

/**
 * Every method and path a Fastify app answers, from its route tree (`printRoutes`), in OpenAPI's `{param}` spelling:
 * what the document must cover unless the route is public.
 */
function registeredRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│   |    )*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    prefixes.length = depth;
    const route = `${prefixes.join('')}${match[2]}`;
    prefixes.push(match[2]!);
    for (const method of match[3]?.split(', ') ?? []) routes.push(`${method} ${route.replace(/:(\w+)/g, '{$1}')}`);
  }
  return routes;
}

test('every route a service registers is in its OpenAPI document or is one of the known public ones', async () => {
  await listen({ API_KEY: KEY });
  const [registration, recognition] = apps.slice(-2) as [FastifyInstance, FastifyInstance];
  for (const app of [registration, recognition]) {
    const document = (await app.inject('/docs/json')).json() as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(Object.entries(document.paths).flatMap(([route, methods]) => Object.keys(methods).flatMap((method) => [`${method.toUpperCase()} ${route}`, `HEAD ${route}`])));
    const undocumented = registeredRoutes(app).filter((entry) => !documented.has(entry) && !isPublic(entry.slice(entry.indexOf(' ') + 1)));
    assert.deepEqual(undocumented, [], 'a route outside the document would escape the access checks below');
  }
  assert.ok(registeredRoutes(registration).includes('DELETE /students/{rollNo}'), 'the route tree is read');
});

test('with API_KEY set, every documented route and method but /health, /ready and /docs needs the key, as x-api-key or Bearer', async () => {
  const urls = await listen({ API_KEY: KEY, RATE_LIMIT_PER_MINUTE: '100000' });
  const operations = await documentedOperations(urls);
  const names = operations.map(({ service, method, route }) => `${service} ${method} ${route}`);
  for (const expected of ['registration GET /students', 'registration GET /students/{rollNo}', 'registration PUT /students/{rollNo}/photo', 'registration DELETE /students/{rollNo}', 'recognition GET /roster', 'recognition POST /start-recognition']) {
    assert.ok(names.includes(expected), `the document lists ${expected}`);
  }
  for (const { service, method, route, url } of operations) {
    const name = `${service} ${method} ${route}`;
    if (isPublic(route)) continue;
    const missing = await fetch(url, { method });
    assert.equal(missing.status, 401, `${name} without a key`);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer', name);
    if (method !== 'HEAD') {
      assert.deepEqual(await missing.json(), { status: 'error', code: 'UNAUTHORIZED', message: 'Missing API key: send it in the x-api-key header or as "Authorization: Bearer <key>".' }, name);
    }
    for (const headers of [{ 'x-api-key': `${KEY}x` }, { authorization: `Bearer ${KEY.slice(1)}` }, { 'x-api-key': '' }, { authorization: KEY }] as Record<string, string>[]) {
      const wrong = await fetch(url, { method, headers });
      assert.equal(wrong.status, 401, `${name} with ${JSON.stringify(headers)}`);
      if (method !== 'HEAD') assert.match(((await wrong.json()) as { message: string }).message, /^(Wrong|Missing) API key/, name);
    }
    if (method === 'HEAD') continue;
    // With the key the request gets past the check. A body of an unknown type stops it right after (415) so that
    // nothing starts or changes; a GET runs (a 404 for the made-up rollNo, 409 for a snapshot with no session).
    for (const headers of [{ 'x-api-key': KEY }, { authorization: `Bearer ${KEY}` }, { authorization: `bearer ${KEY}` }] as Record<string, string>[]) {
      const controller = new AbortController();
      const body = method === 'GET' ? undefined : 'x';
      const allowed = await fetch(url, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/x-not-accepted' } : {}) }, body, signal: controller.signal });
      assert.notEqual(allowed.status, 401, `${name} with ${Object.keys(headers)[0]}`);
      assert.ok(allowed.status < 500, `${name}: ${allowed.status}`);
      for (const [header, value] of Object.entries(SECURITY_HEADERS)) assert.equal(allowed.headers.get(header), value, `${name}: ${header}`);
      controller.abort();
    }
  }
  for (const base of [urls.registration, urls.recognition]) {
    for (const route of PUBLIC_ROUTES.filter((route) => !route.includes('*') && (route.startsWith('/docs') || route === '/health' || route === '/ready'))) {
      for (const headers of [{}, { 'x-api-key': KEY }, { 'x-api-key': 'not-the-key-0123456789' }] as Record<string, string>[]) {
        const response = await fetch(`${base}${route}`, { headers });
        assert.equal(response.status, 200, `${base}${route} with ${JSON.stringify(headers)}`);
      }
    }
  }
  assert.equal((await fetch(`${urls.recognition}/`)).status, 200, 'the roll-call page is public');
});

test('without a key, every documented route but the public ones refuses a tunnelled request', async () => {
  const urls = await listen({ RATE_LIMIT_PER_MINUTE: '100000' });
  for (const { service, method, route, url } of await documentedOperations(urls)) {
    const tunnelled = await fetch(url, { method, headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(tunnelled.status, isPublic(route) ? 200 : 401, `${service} ${method} ${route}`);
  }
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
    ['cross-origin-resource-policy', 'same-origin'],
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
