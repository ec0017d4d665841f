// A database server that stops answering without closing its connections (a network partition, a frozen host) held
// every request that needed it until TCP gave up, many minutes later: `POST /add-student` never answered, and each
// held request kept a pooled connection. Statements now have a deadline (QUERY_TIMEOUT_MS): the request is answered
// 503 DATABASE_UNAVAILABLE, the silent connection is dropped, and the service works again once the server answers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freezableProxy, type FreezableProxy } from '../helpers/freezable-proxy.ts';
import { dropTemplate, freshDatabase, postgresSkipReason, type FreshDatabase } from '../helpers/postgres.ts';
import { getJson, postJson, startServices, type RunningServices } from '../helpers/service-process.ts';

const skip = postgresSkipReason();
let database: FreshDatabase;
let proxy: FreezableProxy;
let services: RunningServices;
// Shorter than the default 10 s, so that the test is quick; the deadline works the same at any length.
const QUERY_TIMEOUT_MS = 1_500;

before(async () => {
  if (skip) return;
  database = await freshDatabase();
  const direct = new URL(database.url);
  proxy = await freezableProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const relayed = new URL(database.url);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(proxy.port);
  services = await startServices({ DATABASE_URL: relayed.toString(), DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS) }, 'registration');
});
after(async () => {
  if (skip) return;
  await services.stop();
  await proxy.close();
  await database.drop();
  await dropTemplate();
});

const student = (rollNo: string) => ({ classStudents: [{ rollNo, url: `https://photos.invalid/${rollNo}.jpg` }] });

test('a database that stops answering gets a 503 within the query deadline (DATABASE_QUERY_TIMEOUT_MS), and the service recovers when it answers again', { skip }, async () => {
  assert.equal((await postJson(`${services.registration}/add-student`, student('before'))).status, 200);

  proxy.freeze();
  const asked = Date.now();
  const response = await fetch(`${services.registration}/add-student`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(student('during')),
    signal: AbortSignal.timeout(QUERY_TIMEOUT_MS * 4),
  });
  const waited = Date.now() - asked;
  const body = await response.json();
  assert.equal(response.status, 503);
  assert.equal(body.code, 'DATABASE_UNAVAILABLE');
  assert.ok(waited < QUERY_TIMEOUT_MS * 3, `answered after ${waited} ms`);
  assert.doesNotMatch(JSON.stringify(body), /attendance-test-only|postgres:\/\//, 'no connection string or password in the answer');

  proxy.thaw();
  assert.equal((await postJson(`${services.registration}/add-student`, student('after'))).status, 200);
  const roster = (await getJson(`${services.registration}/students`)).json;
  const rollNos = (roster.students ?? roster).map((s: { rollNo: string }) => s.rollNo);
  assert.ok(rollNos.includes('before') && rollNos.includes('after'), `roster: ${rollNos}`);
});
