// A service stopped (SIGTERM) while its session ran and a mark waited for an unreachable database crashed: shutting
// down read the day's attendance list first, which failed, so the line naming the marks it could not write was never
// logged. It now ends the session without that read, logs the waiting rollNos and exits normally.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startPhotoServer } from '../helpers/photo-server.ts';
import { postgresSkipReason } from '../helpers/postgres.ts';
import { controlledWebcam } from '../helpers/rooms.ts';
import { exitOf, getJson, postJson, startServices, waitFor } from '../helpers/service-process.ts';
import { throwawayCluster, throwawayClusterSkipReason } from '../helpers/throwaway-cluster.ts';

const skip = postgresSkipReason() || (await throwawayClusterSkipReason());

test('a service stopped during an outage with a mark waiting logs the rollNo it could not write and exits cleanly', { skip }, async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-stopped-outage-'));
  const cluster = await throwawayCluster();
  const photos = await startPhotoServer();
  const camera = await controlledWebcam(path.join(scratch, 'camera'));
  const services = await startServices({
    DATABASE_URL: cluster.url,
    DATA_DIR: path.join(scratch, 'data'),
    ALLOW_PRIVATE_URLS: '1',
    MATCH_MIN_FRAMES: '1',
    ENROLLMENT_THREADS: '1',
    ...camera.env,
  });
  try {
    await postJson(`${services.registration}/add-student`, { classStudents: [{ rollNo: 'obama', url: `${photos.origin}/obama.jpg` }] });
    assert.equal((await postJson(`${services.recognition}/start-recognition`)).status, 200);
    await waitFor(async () => ((await getJson(`${services.recognition}/status`)).json.phase === 'watching' ? true : undefined), 'enrollment', 180_000);
    await cluster.stop();
    await camera.show('02-obama.jpg');
    await waitFor(async () => ((await getJson(`${services.recognition}/status`)).json.queuedMarks === 1 ? true : undefined), 'the mark to wait');

    const exited = exitOf(services.child);
    await services.stop();
    assert.equal(await exited, 0, 'a clean exit, not a crash');
    const lost = services.logs.find((record) => record.msg === 'shutting down with marks the store never took');
    assert.deepEqual(lost?.rollNos, ['obama']);
  } finally {
    await services.stop().catch(() => {});
    await photos.close();
    await cluster.destroy();
    await rm(scratch, { recursive: true, force: true });
  }
});
