import { readFile } from 'node:fs/promises';
import { loadConfig } from '../config/config.ts';
import { loadFaceEngine } from '../faces/face-engine.ts';
import { enrollmentFace, findPortraitFaces } from '../faces/find-faces.ts';
const config = loadConfig();
const engine = await loadFaceEngine(config.MODELS_DIR, config.INFERENCE_BACKEND, 1);
for (const f of process.argv.slice(2)) {
  try {
    const p = await findPortraitFaces(await readFile(f), engine);
    let outcome = 'ok';
    try { const e = enrollmentFace(p); outcome = `enrolls ${JSON.stringify(e.face.box)} score ${e.face.score}`; } catch (err) { outcome = (err as any).code; }
    console.log(f, p.faces.length, p.faces.map((x) => x.score.toFixed(2) + '@' + Math.round(x.box.width)).join(' '), outcome);
  } catch (e) { console.log(f, (e as any).code); }
}
await engine.release();
