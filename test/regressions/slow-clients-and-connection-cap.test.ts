// A client sending its headers slowly kept a socket for about 64 s (Node's 60 s headers timeout, checked every 30 s),
// and connections were not capped. Now a request must arrive whole within REQUEST_TIMEOUT_MS (10 s; checked every
// second), after which the client gets a 408 in the documented error shape and the socket is closed; a service holds
// at most MAX_CONNECTIONS connections and closes the ones beyond at once.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { MAX_CONNECTIONS, REQUEST_TIMEOUT_MS } from '../../src/http/create-app.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { scratchFolder } from './helpers.ts';

let dir: string;
before(async () => {
  dir = await scratchFolder('slow-clients');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function listening() {
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const app = await buildRegistrationApp({ config, students: new JsonStudentStore(dir), logger: pino({ level: 'silent' }) });
  const base = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  return { app, port: Number(base.port) };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the socket. */
function untilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    socket.once('close', () => resolve(received));
  });
}

test('a client that drips its headers is answered 408 in the error shape and dropped, well before a minute', { timeout: 3 * REQUEST_TIMEOUT_MS }, async () => {
  assert.ok(REQUEST_TIMEOUT_MS <= 10_000);
  const { app, port } = await listening();
  const socket = await open(port);
  const closed = untilClosed(socket);
  socket.write('GET /students HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  const drip = setInterval(() => socket.writable && socket.write('X'), 500);
  try {
    const received = await closed;
    assert.match(received, /^HTTP\/1\.1 408 /);
    const body = JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(body, { status: 'error', code: 'REQUEST_TIMEOUT', message: 'The request was not received in time.' });
  } finally {
    clearInterval(drip);
    socket.destroy();
    await app.close();
  }
});

test('connections beyond MAX_CONNECTIONS are closed at once; the others are served', async () => {
  const { app, port } = await listening();
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < MAX_CONNECTIONS; i++) sockets.push(await open(port));
    await new Promise<void>((resolve) => {
      const check = () => app.server.getConnections((_error, count) => (count >= MAX_CONNECTIONS ? resolve() : setTimeout(check, 20)));
      check();
    });
    const extra = await open(port);
    sockets.push(extra);
    assert.equal(await untilClosed(extra), '', 'closed without an answer');

    const served = sockets[0]!;
    const answer = new Promise<string>((resolve) => served.once('data', (chunk) => resolve(String(chunk))));
    served.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.match(await answer, /^HTTP\/1\.1 200 /);
  } finally {
    for (const socket of sockets) socket.destroy();
    await app.close();
  }
});
