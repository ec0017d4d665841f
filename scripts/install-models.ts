// Copies the model weights the services use from their npm packages into ./models (kept if already there): face-api's
// four networks from @vladmandic/face-api, faceres from @vladmandic/human.
import { copyFile, mkdir, access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MODEL_FILES } from '../src/faces/face-engine.ts';

const require = createRequire(import.meta.url);
// The package's own folder, from its entry point (@vladmandic/human does not export its package.json).
const packageFolder = (name: string, folder: string) => {
  const entry = require.resolve(name);
  const root = entry.slice(0, entry.lastIndexOf(`${path.sep}node_modules${path.sep}${name.replace('/', path.sep)}${path.sep}`));
  return path.join(root, 'node_modules', name, folder);
};
const faceApi = packageFolder('@vladmandic/face-api', 'model');
const human = packageFolder('@vladmandic/human', 'models');
const target = path.resolve(process.env.MODELS_DIR ?? 'models');
await mkdir(target, { recursive: true });
let copied = 0;
for (const file of MODEL_FILES) {
  try {
    await access(path.join(target, file));
  } catch {
    await copyFile(path.join(file.startsWith('faceres') ? human : faceApi, file), path.join(target, file));
    copied += 1;
  }
}
console.log(`models: ${copied} file(s) copied to ${target}, ${MODEL_FILES.length - copied} already present`);
