import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { faceInPhoto, type Occupant } from '../../src/evaluation/classroom-scene.ts';
import { loadFaceEngine } from '../../src/faces/face-engine.ts';
import { findPortraitFaces } from '../../src/faces/find-faces.ts';
import { FIXTURES } from './photo-server.ts';

/**
 * Seven people for a composed class: four registered students, each shown by another photo than the one they are
 * enrolled with (`photos/<rollNo>.jpg`, daryl's `daryl-1.jpg`), among three strangers.
 */
const SEATED = [
  ['frames/02-obama.jpg', 'obama'],
  ['frames/03-stranger.jpg', undefined],
  ['frames/04-kit_harington.jpg', 'kit_harington'],
  ['frames/06-stranger.jpg', undefined],
  ['track-frames/07-rick.jpg', 'rick'],
  ['frames/10-stranger.jpg', undefined],
  ['track-frames/10-daryl.jpg', 'daryl'],
] as const;

export const PRESENT_STUDENTS = ['daryl', 'kit_harington', 'obama', 'rick'];

/** The occupants with their faces found by the real detector. */
export async function seatedClass(): Promise<Occupant[]> {
  const engine = await loadFaceEngine(path.resolve(import.meta.dirname, '../../models'), 'auto');
  const occupants: Occupant[] = [];
  for (const [file, person] of SEATED) {
    const photo = await readFile(path.join(FIXTURES, file));
    const portrait = await findPortraitFaces(photo, engine);
    occupants.push({ photo, face: await faceInPhoto(photo, portrait, portrait.faces[0]!.box), person });
  }
  return occupants;
}

export const emptyRoom = () => readFile(path.join(FIXTURES, 'frames/01-empty-room.jpg'));
