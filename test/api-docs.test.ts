import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
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
