import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../src/config/config.ts';
import { buildRecognitionApp } from '../src/recognition/app.ts';
import { JsonAttendanceStore } from '../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../src/storage/json-student-store.ts';

// A data folder per test: none depends on what another wrote.
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attendance-ready-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readiness(env: Record<string, string>) {
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', ...env });
  const app = await buildRecognitionApp({ config, students: new JsonStudentStore(dir), attendance: new JsonAttendanceStore(dir), logger: pino({ level: 'silent' }) });
  try {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`${base}/ready`);
    return { status: response.status, json: (await response.json()) as any };
  } finally {
    await app.close();
  }
}

test('recognition /ready is 200 when the model files are present and the data files readable', async () => {
  const ready = await readiness({});
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]), [
    ['models', true],
    ['students', true],
    ['attendance', true],
    ['enrollment', true],
    ['descriptors', true],
  ]);
});

test('recognition /ready is 503 naming missing model files and a damaged attendance file', async () => {
  await writeFile(path.join(dir, 'attendance.json'), '[]');
  const notReady = await readiness({ MODELS_DIR: path.join(dir, 'no-models') });
  assert.equal(notReady.status, 503);
  assert.equal(notReady.json.status, 'not-ready');
  const problems = Object.fromEntries(notReady.json.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string; problem: string }) => [c.name, c.problem]));
  assert.deepEqual(Object.keys(problems).sort(), ['attendance', 'models']);
  assert.match(problems.models, /ssd_mobilenetv1_model-weights_manifest\.json/);
  assert.equal(problems.attendance, 'attendance.json is not a valid data file');
});

test('a store that stops answering makes /ready and /status answer within the check time limit, naming the silence', { timeout: 20_000 }, async () => {
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const silent = { name: 'database', check: () => new Promise<void>(() => {}) };
  const app = await buildRecognitionApp({
    config,
    students: new JsonStudentStore(dir),
    attendance: new JsonAttendanceStore(dir),
    logger: pino({ level: 'silent' }),
    storage: 'postgres',
    storeChecks: [silent],
  });
  try {
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(ready.json().checks.find((check: { name: string }) => check.name === 'database'), { name: 'database', ok: false, problem: 'no answer within 2 s' });
    const status = (await app.inject({ method: 'GET', url: '/status' })).json();
    assert.deepEqual(status.database, { reachable: false, problem: 'no answer within 2 s' });
  } finally {
    await app.close();
  }
});
