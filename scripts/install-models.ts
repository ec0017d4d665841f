// Copies the model weights the services use from their npm packages into ./models (kept if already there): face-api's
// four networks from @vladmandic/face-api, faceres from @vladmandic/human; then builds faceres's ONNX graph beside them.
import { copyFile, mkdir, access, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readContextModel } from '../src/faces/context-network.ts';
import { MODEL_FILES } from '../src/faces/face-engine.ts';
import { CONTEXT_GRAPH_FILE, contextDescriptorGraph } from '../src/faces/onnx/context-graph.ts';

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
// Built again at every install: the weights may have changed with the package.
const { json, weightData } = await readContextModel(target);
await writeFile(path.join(target, CONTEXT_GRAPH_FILE), contextDescriptorGraph(json, weightData));
console.log(`models: ${copied} file(s) copied to ${target}, ${MODEL_FILES.length - copied} already present; ${CONTEXT_GRAPH_FILE} built`);
