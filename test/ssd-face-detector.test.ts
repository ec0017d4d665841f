import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { decodeImage } from '../src/faces/decode-image.ts';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { SsdFaceDetector, type SsdParams, type Tf } from '../src/faces/ssd-face-detector.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

test('the lean SSD detector finds the same faces, boxes and scores as face-api running the same weights', async () => {
  await loadFaceEngine(path.join(ROOT, 'models'));
  const faceapi = await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const tf = faceapi.tf as unknown as Tf;
  const detector = SsdFaceDetector.fromFaceApiParams(tf, faceapi.nets.ssdMobilenetv1.params as unknown as SsdParams);
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 });
  // A portrait, two people in one photo (wider than tall), a face-free landscape.
  for (const [photo, faces] of [['obama.jpg', 1], ['two_people.jpg', 2], ['landscape.jpg', 0]] as const) {
    const image = await decodeImage(await readFile(path.join(ROOT, 'test/fixtures/photos', photo)), { maxSide: 1024 });
    const tensor = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
    try {
      const ours = await detector.detect(tensor, 0.5);
      const theirs = await faceapi.nets.ssdMobilenetv1.locateFaces(tensor as never, options);
      assert.equal(ours.length, faces, photo);
      assert.equal(theirs.length, faces, photo);
      ours.forEach((detection, i) => {
        const { box, score } = theirs[i]!;
        assert.ok(Math.abs(detection.score - score) < 1e-4, `${photo}: score ${detection.score} vs ${score}`);
        for (const key of ['x', 'y', 'width', 'height'] as const) {
          assert.ok(Math.abs(detection.box[key] - box[key]) < 0.01, `${photo}: ${key} ${detection.box[key]} vs ${box[key]}`);
        }
      });
    } finally {
      tensor.dispose();
    }
  }
});

test('the lean SSD detector leaves no tensor behind', async () => {
  await loadFaceEngine(path.join(ROOT, 'models'));
  const faceapi = await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const tf = faceapi.tf as unknown as Tf;
  const detector = SsdFaceDetector.fromFaceApiParams(tf, faceapi.nets.ssdMobilenetv1.params as unknown as SsdParams);
  const image = await decodeImage(await readFile(path.join(ROOT, 'test/fixtures/photos/rick.jpg')), { maxSide: 1024 });
  const tensor = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
  const before = tf.memory().numTensors;
  assert.equal((await detector.detect(tensor, 0.5)).length, 1);
  assert.equal(tf.memory().numTensors, before);
  tensor.dispose();
});
