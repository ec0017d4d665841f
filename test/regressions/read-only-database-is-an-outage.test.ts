// After a failover to a server that is still a standby, or while a database is set read-only for maintenance, the
// database answers, but refuses every write (SQLSTATE 25006; a full disk on the server, 53100, likewise). That was not
// counted as an outage: `POST /add-student` answered 500 INTERNAL_ERROR, a camera mark was dropped instead of waiting
// for the database, and /ready stayed 200. A read-only database is now an outage like an unreachable one: 503
// DATABASE_UNAVAILABLE saying it is read-only, marks wait in the queue, /ready fails, and writes work again once it is
// writable.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { outageOf } from '../../src/storage/pg-database.ts';
import { dropTemplate, freshDatabase, postgresSkipReason, type FreshDatabase } from '../helpers/postgres.ts';
import { getJson, postJson, startServices, waitFor, type RunningServices } from '../helpers/service-process.ts';

const skip = postgresSkipReason();
let database: FreshDatabase;
let services: RunningServices;

before(async () => {
  if (skip) return;
  database = await freshDatabase();
  services = await startServices({ DATABASE_URL: database.url }, 'registration');
});
after(async () => {
  if (skip) return;
  await services.stop();
  await database.drop();
  await dropTemplate();
});

/** Sets the database read-only (or writable again) for new sessions, and ends the service's sessions so it reconnects. */
async function setReadOnly(readOnly: boolean): Promise<void> {
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE "${database.name}" SET default_transaction_read_only = ${readOnly ? 'on' : 'off'}`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database.name]);
  } finally {
    await admin.end();
  }
}

const student = (rollNo: string) => ({ classStudents: [{ rollNo, url: `https://photos.invalid/${rollNo}.jpg` }] });

test('a read-only database answers 503 DATABASE_UNAVAILABLE saying so, fails /ready, and writes resume once it is writable', { skip }, async () => {
  assert.equal((await postJson(`${services.registration}/add-student`, student('before'))).status, 200);

  await setReadOnly(true);
  // The first request after the sessions were ended may find its connection gone (also an outage, also 503).
  const refused = await waitFor(async () => {
    const response = await postJson(`${services.registration}/add-student`, student('during'));
    assert.equal(response.status, 503, `a write to a read-only database: ${JSON.stringify(response.json)}`);
    assert.equal(response.json.code, 'DATABASE_UNAVAILABLE');
    return /read-only/.test(response.json.message) ? response.json : undefined;
  }, 'a write to be refused as read-only');
  assert.match(refused.message, /^The database is unavailable \(the database is read-only .*\)\. Try again when it is back\.$/);
  const ready = await getJson(`${services.registration}/ready`);
  assert.equal(ready.status, 503);
  assert.match(JSON.stringify(ready.json.checks), /read-only/);

  await setReadOnly(false);
  await waitFor(async () => ((await postJson(`${services.registration}/add-student`, student('after'))).status === 200 ? true : undefined), 'writes to work again');
  assert.equal((await getJson(`${services.registration}/ready`)).status, 200);
  const roster = (await getJson(`${services.registration}/students`)).json;
  const rollNos = (roster.students ?? roster).map((s: { rollNo: string }) => s.rollNo).sort();
  assert.deepEqual(rollNos, ['after', 'before']);
});

test("a database server whose disk is full (53100) is an outage too", () => {
  const full = Object.assign(new Error('could not extend file "base/16384/16385": No space left on device'), { code: '53100' });
  assert.equal(outageOf(full), "the database server's disk is full");
});
