import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { EnrollmentError } from '../src/errors.ts';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { enrollmentFace, findPortraitFaces } from '../src/faces/find-faces.ts';
import { FIXTURES } from './helpers/photo-server.ts';

const engine = await loadFaceEngine(path.resolve(import.meta.dirname, '../models'), 'auto');
const fixture = (name: string) => readFile(path.join(FIXTURES, name));
const distance = (a: Float32Array, b: Float32Array) => Math.hypot(...a.map((value, i) => value - b[i]!));

/** `photo` with the face of `other` pasted small into its top left corner: someone in the background. */
async function withBackgroundFace(photo: Buffer, other: Buffer, width: number): Promise<Buffer> {
  const [face] = (await findPortraitFaces(other, engine)).faces;
  const margin = face!.box.width * 0.4;
  const region = {
    left: Math.max(0, Math.round(face!.box.x - margin)),
    top: Math.max(0, Math.round(face!.box.y - margin)),
    width: Math.round(face!.box.width + 2 * margin),
    height: Math.round(face!.box.height + 2 * margin),
  };
  const small = await sharp(other).extract(region).resize({ width }).toBuffer();
  return sharp(photo).composite([{ input: small, left: 10, top: 10 }]).jpeg({ quality: 92 }).toBuffer();
}

test('a portrait with a small face in the background enrolls its subject and says the other face was left out', async () => {
  const obama = await fixture('photos/obama.jpg');
  const alone = enrollmentFace(await findPortraitFaces(obama, engine));
  const photo = await withBackgroundFace(obama, await fixture('frames/03-stranger.jpg'), 110);
  const analysis = await findPortraitFaces(photo, engine);
  assert.equal(analysis.faces.length, 2, 'the detector sees both faces');
  const chosen = enrollmentFace(analysis);
  assert.equal(chosen.backgroundFaces, 1);
  assert.ok(distance(chosen.face.descriptor, alone.face.descriptor) < 0.1, 'the enrolled face is the subject, not the one behind');
});

test('two people of similar size are refused as SEVERAL_FACES rather than guessed', async () => {
  const analysis = await findPortraitFaces(await fixture('photos/two_people.jpg'), engine);
  assert.equal(analysis.faces.length, 2);
  assert.throws(() => enrollmentFace(analysis), (error) => error instanceof EnrollmentError && error.code === 'SEVERAL_FACES');
});
