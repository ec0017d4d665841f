// Child process for the backend tests: loads the face engine as INFERENCE_BACKEND says and prints which backend runs
// (or the error code), after describing one face so the backend is known to work.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { decodeImage } from '../../src/faces/decode-image.ts';
import { loadFaceEngine } from '../../src/faces/face-engine.ts';
import { FIXTURES } from './photo-server.ts';

const config = loadConfig({ MODELS_DIR: path.resolve(import.meta.dirname, '../../models'), INFERENCE_BACKEND: process.env.INFERENCE_BACKEND });
try {
  const engine = await loadFaceEngine(config.MODELS_DIR, config.INFERENCE_BACKEND);
  const faces = await engine.detectFaces(await decodeImage(await readFile(path.join(FIXTURES, 'photos/obama.jpg')), { maxSide: 1024 }));
  console.log(JSON.stringify({ backend: engine.backend, faces: faces.length }));
} catch (error) {
  console.log(JSON.stringify({ code: (error as { code?: string }).code, message: (error as Error).message }));
}
