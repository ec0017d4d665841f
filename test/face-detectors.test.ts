import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { decodeImage } from '../src/faces/decode-image.ts';
import { loadFaceEngine, type FaceBox } from '../src/faces/face-engine.ts';
import type { Tf } from '../src/faces/layer-by-layer.ts';
import { SsdFaceDetector, type SsdParams } from '../src/faces/ssd-face-detector.ts';
import { TinyFaceLocator, type TinyParams } from '../src/faces/tiny-face-locator.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const FIXTURES = path.join(ROOT, 'test/fixtures');

// Our detectors run face-api's weights layer by layer; face-api itself is the reference they must agree with.
const engine = await loadFaceEngine(path.join(ROOT, 'models'), 'wasm');
const faceapi = await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
const tf = faceapi.tf as unknown as Tf;

async function imageTensor(file: string) {
  const image = await decodeImage(await readFile(path.join(FIXTURES, file)), { maxSide: 1024 });
  return tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
}

function assertSameBoxes(ours: readonly FaceBox[], theirs: readonly FaceBox[], what: string): void {
  assert.equal(ours.length, theirs.length, `${what}: ${ours.length} faces vs face-api's ${theirs.length}`);
  ours.forEach((box, i) => {
    for (const key of ['x', 'y', 'width', 'height'] as const) {
      assert.ok(Math.abs(box[key] - theirs[i]![key]) < 0.01, `${what}: ${key} ${box[key]} vs face-api's ${theirs[i]![key]}`);
    }
  });
}

test('the SSD detector finds the faces face-api finds, with the same boxes and scores', async () => {
  const detector = SsdFaceDetector.fromFaceApiParams(tf, faceapi.nets.ssdMobilenetv1.params as unknown as SsdParams);
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 });
  // A portrait (taller than wide), two people (wider than tall), a face-free landscape.
  for (const [photo, faces] of [['photos/obama.jpg', 1], ['photos/two_people.jpg', 2], ['photos/landscape.jpg', 0]] as const) {
    const tensor = await imageTensor(photo);
    try {
      const ours = await detector.detect(tensor, 0.5);
      const theirs = await faceapi.nets.ssdMobilenetv1.locateFaces(tensor as never, options);
      assert.equal(ours.length, faces, photo);
      assertSameBoxes(ours.map(({ box }) => box), theirs.map(({ box }) => box), photo);
      ours.forEach(({ score }, i) => assert.ok(Math.abs(score - theirs[i]!.score) < 1e-4, `${photo}: score ${score} vs ${theirs[i]!.score}`));
    } finally {
      tensor.dispose();
    }
  }
});

test('the tiny locator finds the boxes face-api finds on camera frames', async () => {
  const locator = new TinyFaceLocator(tf, faceapi.nets.tinyFaceDetector.params as unknown as TinyParams, 416);
  const options = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 });
  // An empty room, one small face, one face, two people; face-api's own answers are the reference.
  for (const [frame, faces] of [['frames/01-empty-room.jpg', 0], ['frames/05-kit_harington.jpg', 1], ['track-frames/07-rick.jpg', 1], ['photos/two_people.jpg', 2]] as const) {
    const tensor = await imageTensor(frame);
    try {
      const ours = await locator.locate(tensor, 0.5);
      assert.equal(ours.length, faces, frame);
      assertSameBoxes(ours, (await faceapi.detectAllFaces(tensor as never, options)).map(({ box }) => box), frame);
    } finally {
      tensor.dispose();
    }
  }
});

test('the detectors leave no tensor behind', async () => {
  const detector = SsdFaceDetector.fromFaceApiParams(tf, faceapi.nets.ssdMobilenetv1.params as unknown as SsdParams);
  const locator = new TinyFaceLocator(tf, faceapi.nets.tinyFaceDetector.params as unknown as TinyParams, 416);
  const tensor = await imageTensor('photos/rick.jpg');
  const before = tf.memory().numTensors;
  assert.equal((await detector.detect(tensor, 0.5)).length, 1);
  assert.equal((await locator.locate(tensor, 0.5)).length, 1);
  assert.equal(tf.memory().numTensors, before);
  tensor.dispose();
});

test('the engine leaves no tensor behind when it detects, locates and describes faces', async () => {
  const image = await decodeImage(await readFile(path.join(FIXTURES, 'photos/two_people.jpg')), { maxSide: 1024 });
  await engine.detectFaces(image);
  const before = tf.memory().numTensors;
  assert.equal((await engine.detectFaces(image)).length, 2);
  const boxes = await engine.locateFaces(image);
  assert.equal((await engine.describeFaces(image, boxes)).length, boxes.length);
  assert.equal(tf.memory().numTensors, before);
});

test('a box that shows no pixel of the image is refused rather than shifting the other faces onto the wrong crops', async () => {
  const image = await decodeImage(await readFile(path.join(FIXTURES, 'photos/two_people.jpg')), { maxSide: 1024 });
  const [face] = await engine.locateFaces(image);
  const offImage = { x: image.width + 10, y: 0, width: 40, height: 40 };
  const sliver = { x: image.width - 0.4, y: 10, width: 30, height: 30 };
  for (const box of [offImage, sliver]) await assert.rejects(engine.describeFaces(image, [box, face!]), RangeError);
  const [alone] = await engine.describeFaces(image, [face!]);
  const [withEdgeBox] = (await engine.describeFaces(image, [{ x: image.width - 2, y: 10, width: 30, height: 30 }, face!])).slice(1);
  assert.deepEqual(withEdgeBox, alone, 'a box with pixels at the edge keeps the others aligned');
});
