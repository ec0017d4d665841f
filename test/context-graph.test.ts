import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { VGG_MEAN_RGB } from '../src/faces/context-network.ts';
import { CONTEXT_INPUT_SIZE, contextDescriptorGraph } from '../src/faces/onnx/context-graph.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODELS = path.join(ROOT, 'node_modules/@vladmandic/human/models');
const SIZE = CONTEXT_INPUT_SIZE;

// Square crops around the faces SSD finds in these photos (left, top, side), a little wider than its boxes.
const FACES = [
  { person: 'obama', file: 'obama.jpg', left: 222, top: 67, side: 240 },
  { person: 'obama', file: 'obama-3.jpg', left: 200, top: 84, side: 132 },
  { person: 'biden', file: 'biden.jpg', left: 126, top: 49, side: 162 },
];

async function faceCrop({ file, left, top, side }: (typeof FACES)[number]): Promise<Buffer> {
  return sharp(path.join(ROOT, 'test/fixtures/photos', file))
    .extract({ left, top, width: side, height: side })
    .resize(SIZE, SIZE)
    .removeAlpha()
    .raw()
    .toBuffer();
}

const cosine = (a: Float32Array, b: Float32Array) => {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
};

test('the batch norms and clipped Relus are folded: 27 convolutions, each followed by one Clip', async () => {
  const [json, bin] = await Promise.all([readFile(path.join(MODELS, 'faceres.json'), 'utf8'), readFile(path.join(MODELS, 'faceres.bin'))]);
  const model = Buffer.from(contextDescriptorGraph(JSON.parse(json), bin));
  // A NodeProto's op_type is field 4, a string: tag 0x22, its length, the name.
  const count = (op: string) => {
    const needle = Buffer.concat([Buffer.of(0x22, op.length), Buffer.from(op)]);
    let found = 0;
    for (let at = model.indexOf(needle); at >= 0; at = model.indexOf(needle, at + 1)) found++;
    return found;
  };
  assert.deepEqual(
    Object.fromEntries(['Conv', 'Clip', 'Relu', 'Mul', 'Add', 'GlobalAveragePool'].map((op) => [op, count(op)])),
    { Conv: 27, Clip: 27, Relu: 0, Mul: 0, Add: 0, GlobalAveragePool: 1 },
  );
});

// Measured: ONNX within 2e-6 of tfjs relative to the largest value; cosine 0.72 for Obama's two photos, 0.41 for
// Obama and Biden.
test('the faceres ONNX graph gives the descriptors TensorFlow.js gives, and tells two people apart', async () => {
  const [json, bin] = await Promise.all([readFile(path.join(MODELS, 'faceres.json'), 'utf8'), readFile(path.join(MODELS, 'faceres.bin'))]);
  const modelJson = JSON.parse(json) as { modelTopology: unknown; weightsManifest: { weights: unknown[] }[] };
  const crops = await Promise.all(FACES.map(faceCrop));
  const pixels = SIZE * SIZE;

  // onnx: NCHW, RGB minus the VGG means.
  const nchw = new Float32Array(crops.length * 3 * pixels);
  crops.forEach((crop, n) => {
    for (let c = 0; c < 3; c++) for (let p = 0; p < pixels; p++) nchw[(n * 3 + c) * pixels + p] = crop[p * 3 + c]! - VGG_MEAN_RGB[c]!;
  });
  const session = await ort.InferenceSession.create(contextDescriptorGraph(modelJson, bin), { intraOpNumThreads: 2 });
  const { descriptor } = await session.run({ input: new ort.Tensor('float32', nchw, [crops.length, 3, SIZE, SIZE]) });
  await session.release();
  assert.deepEqual(descriptor!.dims, [crops.length, 1024]);
  const ours = crops.map((_, n) => (descriptor!.data as Float32Array).slice(n * 1024, (n + 1) * 1024));

  // TensorFlow.js, as the model was made to be fed: NHWC, BGR minus the same means.
  const faceapi = await import('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const tf = faceapi.tf as unknown as {
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
    tensor4d(data: Float32Array, shape: number[]): { dispose(): void };
    io: { fromMemory(artifacts: unknown): unknown };
    loadGraphModel(handler: unknown): Promise<{ execute(input: unknown, output: string): { data(): Promise<Float32Array>; dispose(): void }; dispose(): void }>;
  };
  await tf.setBackend('wasm');
  await tf.ready();
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  );
  const BGR_MEAN = [...VGG_MEAN_RGB].reverse();
  const nhwc = new Float32Array(crops.length * pixels * 3);
  crops.forEach((crop, n) => {
    for (let p = 0; p < pixels; p++) for (let c = 0; c < 3; c++) nhwc[(n * pixels + p) * 3 + c] = crop[p * 3 + (2 - c)]! - BGR_MEAN[c]!;
  });
  const input = tf.tensor4d(nhwc, [crops.length, SIZE, SIZE, 3]);
  const output = model.execute(input, 'global_pooling/Mean');
  const all = await output.data();
  input.dispose();
  output.dispose();
  model.dispose();
  const theirs = crops.map((_, n) => all.slice(n * 1024, (n + 1) * 1024));

  ours.forEach((descriptor, n) => {
    const scale = Math.max(...theirs[n]!.map(Math.abs));
    const difference = Math.max(...descriptor.map((value, i) => Math.abs(value - theirs[n]![i]!)));
    assert.ok(scale > 0.01, `${FACES[n]!.file}: an all-but-zero descriptor`);
    assert.ok(difference < 1e-4 * scale, `${FACES[n]!.file}: ONNX differs from tfjs by ${difference} (largest value ${scale})`);
  });

  const [obama, obamaAgain, biden] = ours as [Float32Array, Float32Array, Float32Array];
  const samePerson = cosine(obama, obamaAgain);
  const otherPerson = cosine(obama, biden);
  assert.ok(otherPerson < 0.95, `Obama and Biden look alike to faceres: cosine ${otherPerson}`);
  assert.ok(samePerson > otherPerson, `Obama is closer to Biden (${otherPerson}) than to himself (${samePerson})`);
});
