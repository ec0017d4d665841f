// Copies the face-api model weights the services use from the npm package into ./models (kept if already there).
import { copyFile, mkdir, access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MODEL_FILES } from '../src/faces/face-engine.ts';

const files = MODEL_FILES;
const require = createRequire(import.meta.url);
const source = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
const target = path.resolve(process.env.MODELS_DIR ?? 'models');
await mkdir(target, { recursive: true });
let copied = 0;
for (const file of files) {
  try {
    await access(path.join(target, file));
  } catch {
    await copyFile(path.join(source, file), path.join(target, file));
    copied += 1;
  }
}
console.log(`models: ${copied} file(s) copied to ${target}, ${files.length - copied} already present`);
