// The "stop logging a client after 10 refusals in a minute" rule and the /events per-client cap were bypassed over
// IPv6: a client using a new address of its /64 for each request (one host is commonly given a whole /64) counted as a
// new client each time, while the rate limiter already grouped IPv6 by /64. All three now count a client the same way
// (src/http/client-group.ts): an IPv4 address, or an IPv6 address by its /64. The clients here are told apart by
// X-Forwarded-For from a trusted proxy on 127.0.0.1, as behind ngrok.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { buildRecognitionApp } from '../../src/recognition/app.ts';
import { MAX_STREAMS_PER_CLIENT } from '../../src/recognition/events-route.ts';
import { buildRegistrationApp } from '../../src/registration/app.ts';
import { JsonAttendanceStore } from '../../src/storage/json-attendance-store.ts';
import { JsonStudentStore } from '../../src/storage/json-student-store.ts';
import { scratchFolder } from './helpers.ts';

const KEY = 'ipv6-client-group-test-key-0123456789';
/** A new address of 2001:db8:0:7::/64 for each request. */
const addressOfOneHost = (i: number) => `2001:db8:0:7:${(i + 1).toString(16)}:0:0:1`;

let dir: string;
before(async () => {
  dir = await scratchFolder('ipv6-clients');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('refusals from many addresses of one IPv6 /64 stop being logged one by one after 10, as from one address', async () => {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const config = loadConfig({ DATA_DIR: dir, API_KEY: KEY, TRUST_PROXY: '127.0.0.1' });
  const app = await buildRegistrationApp({ config, students: new JsonStudentStore(dir), logger });
  try {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (let i = 0; i < 40; i++) {
      const response = await fetch(`${base}/students`, { headers: { 'x-api-key': `wrong-key-${i}-0123456789`, 'x-forwarded-for': addressOfOneHost(i) } });
      assert.equal(response.status, 401);
      await response.arrayBuffer();
    }
    const refusalsLogged = lines.filter((line) => line.msg === 'request completed' && line.res?.statusCode === 401).length;
    assert.equal(refusalsLogged, 10, `${refusalsLogged} of 40 refusals from one /64 logged`);
    // Another /64 is another client, logged on its own.
    await (await fetch(`${base}/students`, { headers: { 'x-api-key': 'wrong-key-other-0123456789', 'x-forwarded-for': '2001:db8:0:8::1' } })).arrayBuffer();
    assert.equal(lines.filter((line) => line.msg === 'request completed' && line.res?.statusCode === 401).length, 11);
  } finally {
    await app.close();
  }
});

test(`one IPv6 /64 gets ${MAX_STREAMS_PER_CLIENT} event streams, whichever of its addresses opens them`, async () => {
  const config = loadConfig({ DATA_DIR: dir, API_KEY: KEY, TRUST_PROXY: '127.0.0.1', LOG_LEVEL: 'silent' });
  const app = await buildRecognitionApp({ config, students: new JsonStudentStore(dir), attendance: new JsonAttendanceStore(dir), logger: pino({ level: 'silent' }) });
  const streams: AbortController[] = [];
  try {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const open = async (address: string) => {
      const controller = new AbortController();
      streams.push(controller);
      const response = await fetch(`${base}/events`, { headers: { 'x-api-key': KEY, 'x-forwarded-for': address }, signal: controller.signal });
      return response.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i <= MAX_STREAMS_PER_CLIENT; i++) statuses.push(await open(addressOfOneHost(i)));
    assert.deepEqual(statuses, [...Array(MAX_STREAMS_PER_CLIENT).fill(200), 429]);
    assert.equal(await open('2001:db8:0:8::1'), 200, 'another /64 is another client');
  } finally {
    for (const stream of streams) stream.abort();
    await app.close();
  }
});
