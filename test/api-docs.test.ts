import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { dayIn } from '../src/recognition/attendance-clock.ts';
import { buildRecognitionApp } from '../src/recognition/app.ts';
import { buildRegistrationApp } from '../src/registration/app.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';

let dir: string;
const apps: Record<'registration' | 'recognition', { app: FastifyInstance; base: string }> = {} as never;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-docs-'));
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const logger = pino({ level: 'silent' });
  const students = new JsonStudentStore(dir);
  const attendance = new JsonAttendanceStore(dir);
  for (const [name, app] of [
    ['registration', await buildRegistrationApp({ config, students, attendance, logger })],
    ['recognition', await buildRecognitionApp({ config, students, attendance, logger })],
  ] as const) {
    apps[name] = { app, base: await app.listen({ host: '127.0.0.1', port: 0 }) };
  }
});
after(async () => {
  await Promise.all(Object.values(apps).map(({ app }) => app.close()));
  await rm(dir, { recursive: true, force: true });
});

const expectedRoutes = {
  registration: [
    'GET /health',
    'GET /ready',
    'GET /students',
    'DELETE /students/{rollNo}',
    'GET /students/{rollNo}',
    'PUT /students/{rollNo}/photo',
    'POST /add-student',
  ],
  recognition: [
    'GET /attendance',
    'GET /attendance/changes',
    'PUT /attendance/{date}/{rollNo}',
    'DELETE /attendance/{date}/{rollNo}',
    'GET /events',
    'GET /health',
    'GET /ready',
    'GET /roster',
    'GET /snapshot.jpg',
    'GET /status',
    'POST /recognize-photo',
    'POST /start-recognition',
    'POST /stop-recognition',
  ],
};

for (const name of ['registration', 'recognition'] as const) {
  test(`${name}: /docs/json is a valid OpenAPI 3 document listing every route`, async () => {
    const response = await fetch(`${apps[name].base}/docs/json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as any;
    assert.match(document.openapi, /^3\./);
    await SwaggerParser.validate(structuredClone(document));
    const listed = Object.entries(document.paths as Record<string, object>)
      .flatMap(([route, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${route}`))
      .sort();
    assert.deepEqual(listed, [...expectedRoutes[name]].sort());
    for (const entry of listed) {
      const [method, route] = entry.split(' ') as [string, string];
      assert.ok(apps[name].app.hasRoute({ method, url: route.replace(/\{(\w+)\}/g, ':$1') }), `${entry} is served`);
    }
  });

  test(`${name}: /docs serves Swagger UI and its assets from the service itself`, async () => {
    const page = await fetch(`${apps[name].base}/docs/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /swagger-ui/i);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    assert.ok(assets.length > 0);
    for (const asset of assets) {
      assert.doesNotMatch(asset, /^(https?:)?\/\//, `${asset} is served locally`);
      const loaded = await fetch(new URL(asset, `${apps[name].base}/docs/`));
      assert.equal(loaded.status, 200, asset);
    }
  });
}

test('the documented request schemas are the ones that validate: a documented constraint is enforced', async () => {
  const document = (await (await fetch(`${apps.registration.base}/docs/json`)).json()) as any;
  const limit = document.paths['/students'].get.parameters.find((p: { name: string }) => p.name === 'limit');
  assert.equal(limit.schema.maximum, 500);
  const refused = await fetch(`${apps.registration.base}/students?limit=501`);
  assert.equal(refused.status, 400);
});

/** The schema `/docs/json` documents for a response, compiled as the JSON Schema 2020-12 that OpenAPI 3.1 uses. */
async function documentedSchema(name: 'registration' | 'recognition', route: string, method: string, status: string) {
  const document = (await (await fetch(`${apps[name].base}/docs/json`)).json()) as any;
  return new Ajv2020({ strict: false }).compile(document.paths[route][method].responses[status].content['application/json'].schema);
}

test('real answers validate against the document: a student not yet present on /roster, a hand mark with nothing before it', async () => {
  await new JsonStudentStore(dir).addMany([{ rollNo: 'documented', url: 'https://photos.invalid/d.jpg' }], 'now');
  const roster = (await (await fetch(`${apps.recognition.base}/roster`)).json()) as { students: { source: string | null }[] };
  const validRoster = await documentedSchema('recognition', '/roster', 'get', '200');
  assert.ok(validRoster(roster), JSON.stringify(validRoster.errors));
  assert.equal(roster.students[0]!.source, null);

  const today = dayIn(loadConfig().TIME_ZONE, new Date());
  const marked = (await (await fetch(`${apps.recognition.base}/attendance/${today}/documented`, { method: 'PUT' })).json()) as { change: { before: unknown } };
  const validMark = await documentedSchema('recognition', '/attendance/{date}/{rollNo}', 'put', '200');
  assert.ok(validMark(marked), JSON.stringify(validMark.errors));
  assert.equal(marked.change.before, null);
});

test('with an API key the document says how to send it, and which answers need it', async () => {
  const keyed = await buildRegistrationApp({
    config: loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', API_KEY: 'a-key-of-twenty-chars' }),
    students: new JsonStudentStore(dir),
    logger: pino({ level: 'silent' }),
  });
  try {
    const document = (await keyed.inject({ method: 'GET', url: '/docs/json' })).json();
    assert.deepEqual(Object.keys(document.components.securitySchemes).sort(), ['apiKey', 'bearer']);
    assert.equal(document.components.securitySchemes.apiKey.name, 'x-api-key');
    assert.ok('401' in document.paths['/students'].get.responses, 'a keyed route documents its 401');
    assert.deepEqual(document.paths['/health'].get.security, [], '/health needs no key');
    await SwaggerParser.validate(structuredClone(document));
  } finally {
    await keyed.close();
  }
});

test('the class photo route documents its body: the photo itself or {"url"}', async () => {
  const document = (await (await fetch(`${apps.recognition.base}/docs/json`)).json()) as any;
  const content = document.paths['/recognize-photo'].post.requestBody.content;
  assert.deepEqual(Object.keys(content).sort(), ['application/json', 'image/jpeg', 'image/png', 'image/webp']);
  assert.equal(content['image/jpeg'].schema.format, 'binary');
  assert.deepEqual(content['application/json'].schema.required, ['url']);
});
