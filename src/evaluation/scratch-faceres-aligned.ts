import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { decodeImage } from '../faces/decode-image.ts';
import { PORTRAIT_MAX_SIDE } from '../faces/find-faces.ts';
import { loadOnnxNetworks } from '../faces/onnx/onnx-networks.ts';
import { extractFaceChip, setChip } from '../faces/scratch-chip.ts';

await tf.setBackend('wasm');
await tf.ready();
const networks = await loadOnnxNetworks('models', 416, 1);
const dir = '/tmp/hm/package/models';
const json = JSON.parse(await readFile(path.join('node_modules/@vladmandic/human/models', 'faceres.json'), 'utf8'));
const bin = await readFile(path.join('node_modules/@vladmandic/human/models', 'faceres.bin'));
const model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }));
const cache = JSON.parse(await readFile('/tmp/eval-cache.json', 'utf8'));
const PADS = (process.env.PADS ?? '0.25,0.4,0.6').split(',').map(Number);
const out: Record<string, Record<string, number[]>> = {};
let n = 0;
for (const [key, entry] of Object.entries<any>(cache)) {
  if (entry.error || !entry.faces?.length) continue;
  const file = key.slice(0, key.lastIndexOf(':'));
  const image = await decodeImage(await readFile(path.join('/work/shared/faces', file)), { maxSide: PORTRAIT_MAX_SIDE });
  const b = entry.faces[0].box;
  const x = Math.max(b.x, 0), y = Math.max(b.y, 0);
  const crop = { x: Math.floor(x), y: Math.floor(y), width: Math.floor(Math.min(b.x + b.width - x, image.width - x)), height: Math.floor(Math.min(b.y + b.height - y, image.height - y)) };
  const [points] = await networks.landmarks(image, [crop]);
  out[file] = {};
  for (const pad of PADS) {
    setChip(224, pad);
    const chip = extractFaceChip(image, points!);
    const d = tf.tidy(() => {
      const t = tf.sub(tf.reverse(tf.tensor4d(Float32Array.from(chip.data), [1, 224, 224, 3]), 3), tf.tensor1d([103.939, 116.779, 123.68]));
      return (model.execute(t, ['global_pooling/Mean']) as tf.Tensor).dataSync();
    });
    out[file][`al-${pad}`] = Array.from(d);
  }
  if (++n % 50 === 0) console.error(n);
}
await writeFile(process.env.OUT ?? '/tmp/exp/faceres-aligned.json', JSON.stringify(out));
await networks.release();
console.error('done', n);
