// The database going away under running services (a PostgreSQL server of the test's own, stopped and started again):
// the services stay up and say what is wrong, a running session keeps its marks and writes them when the database is
// back, and the connection string (with its password) appears in no log line and no answer.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startPhotoServer } from './helpers/photo-server.ts';
import { postgresSkipReason } from './helpers/postgres.ts';
import { controlledWebcam } from './helpers/rooms.ts';
import { getJson, postJson, startServices, waitFor } from './helpers/service-process.ts';
import { throwawayCluster, throwawayClusterSkipReason } from './helpers/throwaway-cluster.ts';

const skip = postgresSkipReason() || (await throwawayClusterSkipReason());

test('a database outage mid-session: services stay up, say so, hold the marks and write them when it is back', { skip }, async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-outage-'));
  const cluster = await throwawayCluster();
  const photos = await startPhotoServer();
  const camera = await controlledWebcam(path.join(scratch, 'camera'));
  let stderr = '';
  const services = await startServices({
    DATABASE_URL: cluster.url,
    DATA_DIR: path.join(scratch, 'data'),
    ROOM: 'room-a',
    ALLOW_PRIVATE_URLS: '1',
    TIME_ZONE: 'UTC',
    MATCH_MIN_FRAMES: '1',
    ENROLLMENT_THREADS: '1',
    ...camera.env,
  });
  services.child.stderr!.on('data', (chunk) => (stderr += chunk));
  const { registration, recognition } = services;
  try {
    await postJson(`${registration}/add-student`, { classStudents: [{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }, { rollNo: 'rick', url: `${photos.origin}/rick.jpg` }] });
    assert.equal((await postJson(`${recognition}/start-recognition`)).status, 200);
    await waitFor(async () => ((await getJson(`${recognition}/status`)).json.phase === 'watching' ? true : undefined), 'enrollment', 180_000);

    await cluster.stop();
    for (const service of [registration, recognition]) {
      const ready = await getJson(`${service}/ready`);
      assert.equal(ready.status, 503);
      const database = ready.json.checks.find((check: { name: string }) => check.name === 'database');
      assert.equal(database.ok, false);
      assert.match(database.problem, /database is unavailable/);
      assert.equal((await getJson(`${service}/health`)).status, 200, 'the service stays up');
    }
    const down = (await getJson(`${recognition}/status`)).json;
    assert.equal(down.storage, 'postgres');
    assert.equal(down.database.reachable, false);
    assert.match(down.database.problem, /database is unavailable/);

    await camera.show('02-obama.jpg');
    await waitFor(async () => ((await getJson(`${recognition}/status`)).json.queuedMarks === 1 ? true : undefined), 'the mark to wait in the queue');
    const refused = await postJson(`${registration}/add-student`, { classStudents: [{ rollNo: 'kit', url: `${photos.origin}/kit_harington.jpg` }] });
    assert.equal(refused.status, 503);
    assert.equal(refused.json.code, 'DATABASE_UNAVAILABLE');

    await cluster.start();
    await waitFor(async () => {
      const status = (await getJson(`${recognition}/status`)).json;
      return status.queuedMarks === 0 && status.recognizedThisSession === 1 ? true : undefined;
    }, 'the waiting mark to be written');
    const back = (await getJson(`${recognition}/status`)).json;
    assert.equal(back.database.reachable, true);
    assert.equal(back.lastError, null, 'the outage is not reported once its marks are written');
    const stopped = await postJson(`${recognition}/stop-recognition`);
    assert.deepEqual(stopped.json.recognizedStudents.map((record: { rollNo: string; room: string }) => [record.rollNo, record.room]), [['obama', 'room-a']]);

    await cluster.stop();
    const start = await postJson(`${recognition}/start-recognition`);
    assert.equal(start.status, 503);
    assert.equal(start.json.code, 'DATABASE_UNAVAILABLE');
    assert.match(start.json.message, /The database is unavailable \(.+\)/);
    assert.doesNotMatch(JSON.stringify(start.json), /\n\s+at |postgres:\/\//, 'no stack trace, no connection string');
    await cluster.start();
    assert.equal((await getJson(`${recognition}/ready`)).status, 200, 'ready again once the database is back');
  } finally {
    await services.stop();
    await photos.close();
    await cluster.destroy();
    await rm(scratch, { recursive: true, force: true });
  }
  const everything = `${JSON.stringify(services.logs)}\n${stderr}`;
  assert.ok(!everything.includes(cluster.password), 'the database password is in no log line');
});
