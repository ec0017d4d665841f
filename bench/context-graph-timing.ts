/**
 * Milliseconds per face of the faceres descriptor graph on onnxruntime-node, with 1 and 2 intra-op threads, batches
 * of 1 and 5 (the same face crop repeated), with the session options the engine's other networks use:
 *
 *   node --import tsx bench/context-graph-timing.ts [runs]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { CONTEXT_INPUT_SIZE as SIZE, contextDescriptorGraph, VGG_MEAN_RGB } from '../src/faces/onnx/context-graph.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODELS = path.join(ROOT, 'node_modules/@vladmandic/human/models');
const runs = Number(process.argv[2] ?? 20);

const [json, bin] = await Promise.all([readFile(path.join(MODELS, 'faceres.json'), 'utf8'), readFile(path.join(MODELS, 'faceres.bin'))]);
let started = performance.now();
const model = contextDescriptorGraph(JSON.parse(json), bin);
console.log(`graph built in ${(performance.now() - started).toFixed(0)} ms (${(model.length / 1e6).toFixed(1)} MB)`);

const crop = await sharp(path.join(ROOT, 'test/fixtures/photos/obama.jpg')).extract({ left: 222, top: 67, width: 240, height: 240 }).resize(SIZE, SIZE).raw().toBuffer();
const pixels = SIZE * SIZE;
const face = new Float32Array(3 * pixels);
for (let c = 0; c < 3; c++) for (let p = 0; p < pixels; p++) face[c * pixels + p] = crop[p * 3 + c]! - VGG_MEAN_RGB[c]!;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

for (const threads of [1, 2]) {
  started = performance.now();
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, set_denormal_as_zero: '1' } },
  });
  const created = performance.now() - started;
  for (const batch of [1, 5]) {
    const input = new Float32Array(batch * face.length);
    for (let n = 0; n < batch; n++) input.set(face, n * face.length);
    const feeds = { input: new ort.Tensor('float32', input, [batch, 3, SIZE, SIZE]) };
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await session.run(feeds);
      times.push(performance.now() - start);
    }
    const perFace = (ms: number) => (ms / batch).toFixed(1);
    console.log(
      `threads ${threads}, batch ${batch}: ${perFace(median(times))} ms/face median, ${perFace(Math.min(...times))} best (${runs} runs; session created in ${created.toFixed(0)} ms)`,
    );
  }
  await session.release();
}
