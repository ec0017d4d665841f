// Issue 18: a school runs the camera all day, and the recognition service's memory was reported to grow by about
// 32 MB a minute while it watched. This pins what must stay level for it to last the day, through the counters
// GET /status reports in `diagnostics`: over a few hundred frames of a folder (a door camera's sequence replayed again
// and again), the tensors alive and their bytes, the face tracks and the queued frames of the worker stay where they
// were after the first pass, and nothing is left pending or subscribed once the session stops.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURES, startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import type { WorkerDiagnostics } from '../../src/recognition/worker/messages.ts';
import { recognitionApp } from '../helpers/recognition-app.ts';

// A door camera: empty doorway, obama, a stranger who looks like zy, rick, daryl, a stranger, empty again.
const PASS = [
  'frames/01-empty-room.jpg',
  ...['01-obama', '02-obama', '03-obama', '04-stranger-like-zy', '05-stranger-like-zy', '06-stranger-like-zy', '07-rick', '08-rick', '09-rick'].map((name) => `track-frames/${name}.jpg`),
  ...['10-daryl', '11-daryl', '12-daryl', '13-stranger', '14-stranger'].map((name) => `track-frames/${name}.jpg`),
  'frames/01-empty-room.jpg',
];
const PASSES = 12;
const WARM_UP_FRAMES = 2 * PASS.length;

let scratch: string;
let photos: PhotoServer;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-steady-'));
  photos = await startPhotoServer();
});
after(async () => {
  await photos.close();
  await rm(scratch, { recursive: true, force: true });
});

test('over hundreds of frames the worker keeps the same tensors, tracks and queue, and a stopped session leaves nothing pending', async () => {
  const folder = path.join(scratch, 'frames');
  await mkdir(folder);
  const frames = Array.from({ length: PASSES }, () => PASS).flat();
  await Promise.all(frames.map((fixture, i) => copyFile(path.join(FIXTURES, fixture), path.join(folder, `${String(i + 1).padStart(4, '0')}.jpg`))));

  // The test reads /status every few milliseconds, far beyond the default rate limit.
  const recognition = await recognitionApp(path.join(scratch, 'data'), { CAMERA: `dir:${folder}`, RATE_LIMIT_PER_MINUTE: '1000000' });
  await recognition.students.addMany(
    ['obama', 'rick', 'daryl-1'].map((name) => ({ rollNo: name.replace(/-\d$/, ''), url: `${photos.origin}/${name}.jpg` })),
    new Date().toISOString(),
  );
  try {
    assert.equal((await recognition.call('POST', '/start-recognition')).status, 200);
    // Every status read carries the worker's counters as of its latest frame: sample as many frames as the reads catch.
    const samples = new Map<number, WorkerDiagnostics>();
    for (;;) {
      const status = await recognition.status();
      if (status.phase === 'failed') assert.fail(`session failed: ${status.lastError}`);
      if (status.diagnostics.worker) samples.set(status.framesProcessed, status.diagnostics.worker);
      if (status.sourceEnded) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const final = await recognition.status();
    assert.equal(final.framesProcessed, frames.length);
    assert.equal(final.lastError, null);
    assert.deepEqual((await recognition.call('GET', '/attendance')).json.days[0].present.map((r: { rollNo: string }) => r.rollNo).sort(), ['daryl', 'obama', 'rick']);

    const warmedUp = [...samples].filter(([frame]) => frame > WARM_UP_FRAMES).map(([, worker]) => worker);
    const during = [...samples].filter(([frame]) => frame <= WARM_UP_FRAMES).map(([, worker]) => worker);
    assert.ok(warmedUp.length >= 20, `only ${warmedUp.length} status reads after warm-up: too few to tell`);
    const reference = warmedUp[0]!;
    for (const worker of warmedUp) {
      assert.equal(worker.tensors, reference.tensors, 'tensors alive changed after warm-up');
      assert.equal(worker.tensorBytes, reference.tensorBytes, 'tensor bytes changed after warm-up');
      assert.equal(worker.queuedFrames, 0);
    }
    // One person at a time at this door: a track per face in view, plus those kept through a missed frame or two.
    const mostTracks = Math.max(...during.map((worker) => worker.tracks), 1);
    assert.ok(Math.max(...warmedUp.map((worker) => worker.tracks)) <= mostTracks, 'face tracks piled up');

    const stopped = await recognition.call('POST', '/stop-recognition');
    assert.equal(stopped.status, 200);
    const idle = await recognition.status();
    assert.equal(idle.diagnostics.worker, null);
    assert.equal(idle.diagnostics.pendingWrites, 0);
    assert.equal(idle.diagnostics.eventClients, 0);
    assert.ok(idle.diagnostics.keptEvents <= 200);
  } finally {
    await recognition.app.close();
  }
});
