// Failed key checks were not rate limited: the key check ran before the limiter, so 400 wrong keys in 316 ms got 400
// 401s and no 429, each with two log lines, and the log grew without bound. The limiter now runs first: failed key
// checks (and keyless refusals, and unknown routes) count towards RATE_LIMIT_PER_MINUTE, and a client refused over and
// over gets at most a few log lines a minute.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { scratchFolder } from './helpers.ts';

const KEY = 'k3y-for-rate-limit-test-0123456789';
const LIMIT = 20;
let dir: string;
before(async () => {
  dir = await scratchFolder('key-rate-limit');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function registration(env: Record<string, string>) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const config = loadConfig({ DATA_DIR: dir, RATE_LIMIT_PER_MINUTE: String(LIMIT), ...env });
  const app = await buildRegistrationApp({ config, students: new JsonStudentStore(dir), logger: pino({ level: 'info' }, sink) });
  return { app, lines };
}

test('wrong keys count towards the rate limit: 429 after RATE_LIMIT_PER_MINUTE of them, even with the right key then', async () => {
  const { app, lines } = await registration({ API_KEY: KEY });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const url = i % 2 === 0 ? '/students' : '/no-such-route';
      statuses.push((await app.inject({ method: 'GET', url, headers: { 'x-api-key': `wrong-key-${i}-0123456789` } })).statusCode);
    }
    assert.deepEqual(statuses.slice(0, LIMIT), Array(LIMIT).fill(401));
    assert.deepEqual(statuses.slice(LIMIT), Array(200 - LIMIT).fill(429));
    const limited = await app.inject({ method: 'GET', url: '/students', headers: { 'x-api-key': KEY } });
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().code, 'RATE_LIMITED');
    assert.ok(limited.headers['retry-after']);
    // /health stays outside the limit.
    assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    // Two lines for each of the first refusals, then nothing more for this client in this minute.
    const requestLines = lines.filter((line) => line.msg === 'incoming request' || line.msg === 'request completed');
    assert.ok(requestLines.length <= 25, `${requestLines.length} request log lines for 201 refused requests`);
  } finally {
    await app.close();
  }
});

test('keyless refusals (requests through a proxy) count towards the rate limit too', async () => {
  const { app } = await registration({});
  try {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 5; i++) {
      statuses.push((await app.inject({ method: 'POST', url: '/add-student', headers: { 'x-forwarded-for': '203.0.113.9' }, payload: {} })).statusCode);
    }
    assert.deepEqual(statuses, [...Array(LIMIT).fill(401), ...Array(5).fill(429)]);
  } finally {
    await app.close();
  }
});
