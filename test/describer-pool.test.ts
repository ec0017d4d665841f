import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EnrollmentError } from '../src/errors.ts';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { DescriberPool } from '../src/recognition/worker/describer-pool.ts';
import { describeWith } from '../src/recognition/worker/enroll-students.ts';
import { withBackgroundFace } from './helpers/background-face.ts';
import { FIXTURES } from './helpers/photo-server.ts';

const MODELS = path.resolve(import.meta.dirname, '../models');

// Extra inference threads serve the WebAssembly backend, whose inference runs on one core.
test('an enrollment pool spreads photos over another thread and gives the same descriptors and reasons as this one', async () => {
  const engine = await loadFaceEngine(MODELS, 'wasm');
  const describeHere = describeWith(engine);
  let describedHere = 0;
  const countingHere = (bytes: Uint8Array) => {
    describedHere += 1;
    return describeHere(bytes);
  };
  const pool = await DescriberPool.start(countingHere, 1, 1, { modelsDir: MODELS, backend: 'wasm' });
  try {
    const names = ['obama.jpg', 'rick.jpg', 'kit_harington.jpg', 'biden.jpg'];
    const photos: Buffer[] = await Promise.all(names.map((name) => readFile(path.join(FIXTURES, 'photos', name))));
    names.push('obama.jpg with someone behind');
    photos.push(await withBackgroundFace(engine, photos[0]!, await readFile(path.join(FIXTURES, 'frames/03-stranger.jpg')), 110));
    const pooled = await Promise.all(photos.map((bytes) => pool.describe(bytes)));
    assert.deepEqual(pooled.map((photo) => photo.backgroundFaces), [0, 0, 0, 0, 1]);
    assert.ok(describedHere > 0 && describedHere < photos.length, `both threads took photos (${describedHere} of ${photos.length} here)`);
    for (const [i, { descriptor, backgroundFaces }] of pooled.entries()) {
      const reference = await describeHere(photos[i]!);
      const difference = Math.max(...descriptor.map((value, j) => Math.abs(value - reference.descriptor[j]!)));
      assert.ok(difference < 1e-5, `${names[i]}: same descriptor on either thread (max difference ${difference})`);
      assert.equal(backgroundFaces, reference.backgroundFaces, `${names[i]}: same faces left out on either thread`);
    }
    const problems = await Promise.allSettled(
      ['landscape.jpg', 'two_people.jpg'].map(async (name) => pool.describe(await readFile(path.join(FIXTURES, 'photos', name)))),
    );
    assert.deepEqual(
      problems.map((outcome) => (outcome.status === 'rejected' && outcome.reason instanceof EnrollmentError ? outcome.reason.code : outcome.status)),
      ['NO_FACE_FOUND', 'SEVERAL_FACES'],
    );
  } finally {
    await pool.close();
  }
});
