import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { decodeImage, type RgbImage } from '../src/faces/decode-image.ts';
import { extractFaceChip, type Point } from '../src/faces/face-chip.ts';
import type { FaceBox } from '../src/faces/face-engine.ts';
import { readFaceApiWeights, ssdParamPath, type WeightTree } from '../src/faces/onnx/face-api-weights.ts';
import { OnnxGraph } from '../src/faces/onnx/onnx-graph.ts';
import { loadOnnxNetworks, scaleOnto } from '../src/faces/onnx/onnx-networks.ts';
import { importFaceApi, loadTfjsNetworks } from '../src/faces/tfjs-networks.ts';
import { FIXTURES, startPhotoServer } from './helpers/photo-server.ts';
import { recognitionApp } from './helpers/recognition-app.ts';
import { waitFor } from './helpers/service-process.ts';

// Both backends run face-api's weights, so onnx must make the decisions wasm makes. The largest differences measured
// on these fixtures (37 images, 35 faces): detector boxes 1.6e-4 px, tiny detector boxes 5e-4 px, landmarks 7e-5 px,
// descriptors 2e-4 in distance (1e-6 from the same chip; the rest is chips cut from landmarks 7e-5 px apart). The
// tolerances are about 10x those and still far below what changes a decision: a crop moves only when a box edge lies
// within 0.01 px of a whole pixel, and a match only when a distance lies within 0.002 of the threshold (0.5) or of
// another student's distance plus the margin (0.15).
const BOX_TOLERANCE_PX = 0.01;
const LANDMARK_TOLERANCE_PX = 0.001;
const DESCRIPTOR_DISTANCE_TOLERANCE = 0.002;
const LOCATOR_INPUT_SIZE = 416;

const ROOT = path.resolve(import.meta.dirname, '..');
const MODELS = path.join(ROOT, 'models');
const wasm = await loadTfjsNetworks(MODELS, LOCATOR_INPUT_SIZE);
const onnx = await loadOnnxNetworks(MODELS, LOCATOR_INPUT_SIZE, os.availableParallelism());

async function fixtureImages(): Promise<{ name: string; image: RgbImage }[]> {
  const folders = ['photos', 'frames', 'track-frames'];
  const names = (await Promise.all(folders.map(async (folder) => (await readdir(path.join(FIXTURES, folder))).map((file) => `${folder}/${file}`)))).flat();
  const images = names.filter((name) => name.endsWith('.jpg')).map(async (name) => ({ name, image: await decodeImage(await readFile(path.join(FIXTURES, name)), { maxSide: 1024 }) }));
  // 776 px: the nearest float32 to 512/776 and to 416/776 times 776 falls short of 512 and 416, so onnxruntime's
  // resize would make one sample too few there unless the scale is nudged (scaleOnto).
  const shortOfOneSample = decodeImage(await readFile(path.join(FIXTURES, 'photos/obama.jpg')), { maxSide: 776 }).then((image) => ({ name: 'obama.jpg at 776 px', image }));
  return Promise.all([...images, shortOfOneSample]);
}

const largestDifference = (a: readonly number[], b: readonly number[]) => Math.max(0, ...a.map((value, i) => Math.abs(value - b[i]!)));
const edges = (box: FaceBox) => [box.x, box.y, box.width, box.height];
const coordinates = (points: readonly Point[]) => points.flatMap((point) => [point.x, point.y]);
const distance = (a: Float32Array, b: Float32Array) => Math.hypot(...a.map((value, i) => value - b[i]!));

test('the onnx graphs read exactly the weights face-api loads, without TensorFlow.js', async () => {
  const { faceapi } = await importFaceApi();
  const leaves = (tree: WeightTree, prefix = ''): [string, { shape: number[]; dataSync(): ArrayLike<number> }][] =>
    Object.entries(tree).flatMap(([key, value]) => ('dataSync' in value ? [[`${prefix}${key}`, value as never]] : leaves(value as WeightTree, `${prefix}${key}/`)));
  const lookup = (params: unknown, name: string) => name.split('/').reduce((node, part) => (node as Record<string, unknown>)[part], params) as { shape: number[]; dataSync(): ArrayLike<number> };
  const ssd = new faceapi.SsdMobilenetv1();
  const tiny = new faceapi.TinyFaceDetector();
  const landmarks = new faceapi.FaceLandmark68Net();
  const recognition = new faceapi.FaceRecognitionNet();
  await Promise.all([ssd, tiny, landmarks, recognition].map((net) => net.loadFromDisk(MODELS)));
  const { fc, ...features } = await readFaceApiWeights(MODELS, 'face_landmark_68_model');
  const pairs: [WeightTree, unknown][] = [
    [await readFaceApiWeights(MODELS, 'ssd_mobilenetv1_model', ssdParamPath), ssd.params],
    [await readFaceApiWeights(MODELS, 'tiny_face_detector_model'), tiny.params],
    [features, landmarks.faceFeatureExtractor.params],
    [{ fc: fc! }, landmarks.params],
    [await readFaceApiWeights(MODELS, 'face_recognition_model'), recognition.params],
  ];
  let compared = 0;
  for (const [ours, theirs] of pairs) {
    for (const [name, tensor] of leaves(ours)) {
      const expected = lookup(theirs, name);
      assert.ok(expected, `face-api has no parameter ${name}`);
      assert.deepEqual(tensor.shape, expected.shape, name);
      assert.deepEqual(Float32Array.from(tensor.dataSync()), Float32Array.from(expected.dataSync()), name);
      compared += 1;
    }
  }
  // Every parameter the four networks have (SSD: 14 MobileNet layers, 8 prediction convolutions, 6 box predictors).
  assert.ok(compared > 300, `only ${compared} parameters compared`);
  for (const net of [ssd, tiny, landmarks, recognition]) net.dispose();
});

test('onnx and wasm find the same faces, landmarks and descriptors on every fixture image', async () => {
  const worst = { box: 0, located: 0, landmark: 0, descriptor: 0, faces: 0 };
  for (const { name, image } of await fixtureImages()) {
    const [found, expected] = [await onnx.detect(image, 0.5), await wasm.detect(image, 0.5)];
    assert.equal(found.length, expected.length, `${name}: faces found`);
    found.forEach((face, i) => (worst.box = Math.max(worst.box, largestDifference(edges(face.box), edges(expected[i]!.box)))));

    const [located, expectedLocated] = [await onnx.locate(image, 0.5), await wasm.locate(image, 0.5)];
    assert.equal(located.length, expectedLocated.length, `${name}: faces located`);
    located.forEach((box, i) => (worst.located = Math.max(worst.located, largestDifference(edges(box), edges(expectedLocated[i]!)))));

    const crops = expected.map(({ box }) => ({ x: Math.floor(Math.max(0, box.x)), y: Math.floor(Math.max(0, box.y)), width: Math.floor(box.width), height: Math.floor(box.height) }))
      .map((crop) => ({ ...crop, width: Math.min(crop.width, image.width - crop.x), height: Math.min(crop.height, image.height - crop.y) }));
    const [landmarks, expectedLandmarks] = [await onnx.landmarks(image, crops), await wasm.landmarks(image, crops)];
    landmarks.forEach((points, i) => (worst.landmark = Math.max(worst.landmark, largestDifference(coordinates(points), coordinates(expectedLandmarks[i]!)))));

    // Each backend's chips from its own landmarks, as the pipeline cuts them.
    const descriptors = await onnx.describe(landmarks.map((points) => extractFaceChip(image, points)));
    const expectedDescriptors = await wasm.describe(expectedLandmarks.map((points) => extractFaceChip(image, points)));
    descriptors.forEach((descriptor, i) => (worst.descriptor = Math.max(worst.descriptor, distance(descriptor, expectedDescriptors[i]!))));
    worst.faces += found.length;
  }
  console.log('largest differences between the backends:', worst);
  assert.ok(worst.faces >= 30, `the fixtures show faces (${worst.faces})`);
  assert.ok(worst.box < BOX_TOLERANCE_PX, `detector boxes within ${BOX_TOLERANCE_PX} px (${worst.box})`);
  assert.ok(worst.located < BOX_TOLERANCE_PX, `tiny detector boxes within ${BOX_TOLERANCE_PX} px (${worst.located})`);
  assert.ok(worst.landmark < LANDMARK_TOLERANCE_PX, `landmarks within ${LANDMARK_TOLERANCE_PX} px (${worst.landmark})`);
  assert.ok(worst.descriptor < DESCRIPTOR_DISTANCE_TOLERANCE, `descriptors within ${DESCRIPTOR_DISTANCE_TOLERANCE} (${worst.descriptor})`);
});

test('the detector input scale gives onnxruntime\'s resize exactly the network\'s size, where float32 would fall one sample short', async () => {
  const ort = await import('onnxruntime-node');
  const graph = new OnnxGraph();
  graph.node('Resize', [graph.input('x', [1, 1, 'height', 1]), '', graph.input('scales', [4])], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' }, 'y');
  graph.output('y', [1, 1, 'size', 1]);
  const resize = await ort.InferenceSession.create(graph.toModel());
  // [side, size, samples onnxruntime makes with the float32 nearest to size / side]
  for (const [side, size, unnudged] of [[776, 512, 511], [776, 416, 415], [41, 512, 511], [11, 416, 415], [800, 512, 512]] as const) {
    const naive = await resize.run({ x: new ort.Tensor('float32', new Float32Array(side), [1, 1, side, 1]), scales: new ort.Tensor('float32', Float32Array.of(1, 1, size / side, 1), [4]) });
    const nudged = await resize.run({ x: new ort.Tensor('float32', new Float32Array(side), [1, 1, side, 1]), scales: new ort.Tensor('float32', Float32Array.of(1, 1, scaleOnto(side, size), 1), [4]) });
    assert.equal(nudged.y!.dims[2], size, `${side} px onto ${size}`);
    assert.equal(naive.y!.dims[2], unnudged, `${side} px onto ${size} with the nearest float32 scale`);
    const nearest = Math.fround(size / side);
    const nextUp = new Float32Array([nearest]);
    new Uint32Array(nextUp.buffer)[0]! += 1;
    assert.equal(scaleOnto(side, size), unnudged === size ? nearest : nextUp[0], `${side} px onto ${size}: the scale moves by one float32 step at most`);
  }
  await resize.release();
});

const ENGINE_BACKEND = path.join(ROOT, 'test/helpers/engine-backend.ts');
const WITHOUT_ONNXRUNTIME = path.join(ROOT, 'test/helpers/without-onnxruntime.mjs');

async function engineIn(env: Record<string, string>, ...nodeOptions: string[]): Promise<{ backend?: string; faces?: number; code?: string; message?: string }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', ...nodeOptions, ENGINE_BACKEND], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

test('INFERENCE_BACKEND=auto runs onnx where onnxruntime-node loads; wasm when forced', async () => {
  assert.deepEqual(await engineIn({ INFERENCE_BACKEND: 'auto' }), { backend: 'onnx', faces: 1 });
  assert.deepEqual(await engineIn({ INFERENCE_BACKEND: 'wasm' }), { backend: 'wasm', faces: 1 });
});

test('where onnxruntime-node cannot load, auto falls back to wasm and INFERENCE_BACKEND=onnx says why it cannot start', async () => {
  assert.deepEqual(await engineIn({ INFERENCE_BACKEND: 'auto' }, '--import', WITHOUT_ONNXRUNTIME), { backend: 'wasm', faces: 1 });
  const forced = await engineIn({ INFERENCE_BACKEND: 'onnx' }, '--import', WITHOUT_ONNXRUNTIME);
  assert.equal(forced.code, 'BACKEND_UNAVAILABLE');
  assert.match(forced.message!, /INFERENCE_BACKEND=onnx but onnxruntime-node did not load: .*hidden by test\/helpers\/without-onnxruntime/);
});

test('/status names the backend a session runs on, and both mark the same students', async () => {
  const photos = await startPhotoServer();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'attendance-backends-'));
  try {
    const marked: Record<string, string[]> = {};
    for (const backend of ['wasm', 'onnx']) {
      const { app, students, status, call } = await recognitionApp(path.join(scratch, backend), {
        CAMERA: `dir:${path.join(FIXTURES, 'frames')}`,
        MATCH_MIN_FRAMES: '1',
        INFERENCE_BACKEND: backend,
      });
      try {
        await students.addMany(['obama', 'rick', 'biden'].map((name) => ({ rollNo: name, url: `${photos.origin}/${name}.jpg` })), 'now');
        assert.equal((await call('POST', '/start-recognition')).status, 200);
        const ended = await waitFor(async () => ((await status()).sourceEnded ? await status() : undefined), `the frames on ${backend}`);
        assert.equal(ended.backend, backend);
        marked[backend] = (await call('POST', '/stop-recognition')).json.recognizedStudents.map((record: { rollNo: string }) => record.rollNo).sort();
      } finally {
        await app.close();
      }
    }
    assert.deepEqual(marked.onnx, ['obama', 'rick']);
    assert.deepEqual(marked.onnx, marked.wasm);
  } finally {
    await photos.close();
    await rm(scratch, { recursive: true, force: true });
  }
});
