// Some errors left the documented `{"status":"error","code","message"}` shape: Fastify's own 400 for a bad URL
// (`FST_ERR_BAD_URL`, echoing the path) and its 431 (and 408, see slow-clients-and-connection-cap.test.ts); a body with
// 60 000 unknown keys got a 1.4 MB 400 listing all of them; a body with `__proto__` was called "not valid JSON".
// One shape now, bounded in size, with an honest message. A body too large or of the wrong type was answered with
// Fastify's own codes (`FST_ERR_CTP_BODY_TOO_LARGE`, `FST_ERR_CTP_INVALID_MEDIA_TYPE`); the service names them now.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { scratchFolder } from './helpers.ts';

let dir: string;
let app: FastifyInstance;
let port: number;
before(async () => {
  dir = await scratchFolder('error-shape');
  app = await buildRegistrationApp({ config: loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), students: new JsonStudentStore(dir), logger: pino({ level: 'silent' }) });
  port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
});
after(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

function assertErrorShape(body: unknown, code: string): void {
  assert.deepEqual(Object.keys(body as object).sort(), ['code', 'message', 'status'], JSON.stringify(body));
  assert.equal((body as { status: string }).status, 'error');
  assert.equal((body as { code: string }).code, code);
}

/** Sends raw bytes, resolves the status line and the body the server answers before closing or within the response. */
function raw(request: string): Promise<{ statusLine: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk;
      const headerEnd = received.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(received)?.[1];
      if (headerEnd !== -1 && length !== undefined && received.length >= headerEnd + 4 + Number(length)) {
        socket.destroy();
        resolve({ statusLine: received.slice(0, received.indexOf('\r\n')), body: received.slice(headerEnd + 4) });
      }
    });
    socket.on('error', reject);
  });
}

test('a URL that does not decode: 400 BAD_URL in the error shape, without echoing the path', async () => {
  const { statusLine, body } = await raw('GET /students/%E0%A4%A-secret-path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  assert.match(statusLine, / 400 /);
  assertErrorShape(JSON.parse(body), 'BAD_URL');
  assert.doesNotMatch(body, /secret-path/);
});

test('headers too large: 431 HEADERS_TOO_LARGE in the error shape', async () => {
  const { statusLine, body } = await raw(`GET /students HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.match(statusLine, / 431 /);
  assertErrorShape(JSON.parse(body), 'HEADERS_TOO_LARGE');
});

test('60 000 unknown keys: a 400 of bounded size', async () => {
  const body = { classStudents: [{ rollNo: '1', url: 'https://photos.invalid/1.jpg' }], ...Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, 1])) };
  const answer = await app.inject({ method: 'POST', url: '/add-student', payload: body });
  assert.equal(answer.statusCode, 400);
  assert.ok(answer.body.length < 4096, `${answer.body.length} bytes`);
  const json = answer.json();
  assert.equal(json.code, 'INVALID_REQUEST');
  assert.match(json.message, /Unrecognized key/i);
  assert.ok(json.issues.length <= 10);
});

test('many invalid students: the answer lists a bounded number of problems and says how many more', async () => {
  const classStudents = Array.from({ length: 500 }, (_, i) => ({ rollNo: `bad rollNo ${i}`, url: 'ftp://photos.invalid/x.jpg' }));
  const answer = await app.inject({ method: 'POST', url: '/add-student', payload: { classStudents } });
  assert.equal(answer.statusCode, 400);
  assert.ok(answer.body.length < 4096, `${answer.body.length} bytes`);
  assert.match(answer.json().message, /and \d+ more problems/);
});

test('a body with __proto__ (or constructor.prototype) is refused as such, not called invalid JSON; invalid JSON still is', async () => {
  for (const [payload, key] of [
    ['{"__proto__":{"admin":true},"classStudents":[{"rollNo":"1","url":"https://photos.invalid/1.jpg"}]}', '__proto__'],
    ['{"classStudents":[{"rollNo":"1","url":"https://photos.invalid/1.jpg","__proto__":{}}]}', '__proto__'],
    ['{"constructor":{"prototype":{"admin":true}},"classStudents":[]}', 'constructor.prototype'],
  ]) {
    const answer = await app.inject({ method: 'POST', url: '/add-student', headers: { 'content-type': 'application/json' }, payload });
    assert.equal(answer.statusCode, 400);
    assertErrorShape(answer.json(), 'FORBIDDEN_KEY');
    assert.equal(answer.json().message, `The body contains a "${key}" key, which is refused.`);
  }
  const invalid = await app.inject({ method: 'POST', url: '/add-student', headers: { 'content-type': 'application/json' }, payload: '{"classStudents": [' });
  assert.equal(invalid.statusCode, 400);
  assertErrorShape(invalid.json(), 'INVALID_JSON');
  assert.match(invalid.json().message, /^The body is not valid JSON/);
  // A student whose rollNo is "constructor" is a value, not a key: accepted.
  const constructorStudent = await app.inject({ method: 'POST', url: '/add-student', payload: { classStudents: [{ rollNo: 'constructor', url: 'https://photos.invalid/c.jpg' }] } });
  assert.equal(constructorStudent.statusCode, 200);
});

test('a body nested too deeply to parse: 400 in the error shape, saying so', async () => {
  const payload = `${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`;
  const answer = await app.inject({ method: 'POST', url: '/add-student', headers: { 'content-type': 'application/json' }, payload });
  assert.equal(answer.statusCode, 400);
  assertErrorShape(answer.json(), 'INVALID_JSON');
  assert.equal(answer.json().message, 'The body is nested too deeply.');
});

test("a body too large or of a type the route does not take: the service's own codes, not the framework's", async () => {
  const tooLarge = await fetch(`http://127.0.0.1:${port}/students/a/photo`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `https://photos.invalid/${'x'.repeat(2 * 1024 * 1024)}` }),
  });
  assert.equal(tooLarge.status, 413);
  assertErrorShape(await tooLarge.json(), 'BODY_TOO_LARGE');
  const wrongType = await fetch(`http://127.0.0.1:${port}/add-student`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'rollNo=1' });
  assert.equal(wrongType.status, 415);
  assertErrorShape(await wrongType.json(), 'UNSUPPORTED_MEDIA_TYPE');
});
