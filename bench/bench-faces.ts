import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { FaceEngine } from '../src/faces/face-engine.ts';
import { decodeImage } from '../src/faces/decode-image.ts';
import { findPortraitFaces, PORTRAIT_MAX_SIDE } from '../src/faces/find-faces.ts';

export const FIXTURES = path.resolve(import.meta.dirname, '../test/fixtures');

/** A person in the benchmark's streams: enrolled from one photo and seen in another, or a stranger (never enrolled). */
export interface BenchPerson {
  rollNo: string | undefined;
  enrollPhoto?: string;
  streamPhoto: string;
}

// Stream order: the first n people are in view in the n-face stream. Enrolled people appear in a photo other than
// the one they were enrolled from; strangers are mixed in so that unmatched faces cost what they cost.
export const PEOPLE: BenchPerson[] = [
  { rollNo: 'obama', enrollPhoto: 'photos/obama.jpg', streamPhoto: 'photos/obama-3.jpg' },
  { rollNo: 'rick', enrollPhoto: 'photos/rick.jpg', streamPhoto: 'photos/rick-1.jpg' },
  { rollNo: undefined, streamPhoto: 'frames/03-stranger.jpg' },
  { rollNo: 'daryl', enrollPhoto: 'photos/daryl-1.jpg', streamPhoto: 'photos/daryl-2.jpg' },
  { rollNo: 'zy', enrollPhoto: 'photos/zy.jpg', streamPhoto: 'photos/zy-2.jpg' },
  { rollNo: undefined, streamPhoto: 'frames/06-stranger.jpg' },
  { rollNo: 'kit', enrollPhoto: 'photos/kit_harington.jpg', streamPhoto: 'frames/04-kit_harington.jpg' },
  { rollNo: undefined, streamPhoto: 'frames/10-stranger.jpg' },
  { rollNo: undefined, streamPhoto: 'track-frames/13-stranger.jpg' },
  { rollNo: undefined, streamPhoto: 'track-frames/04-stranger-like-zy.jpg' },
];

export const TILE_SIZE = 112;

/** Cuts each stream photo down to its largest face with some context around it, as a square JPEG tile `size` px wide. */
export async function makeFaceTiles(engine: FaceEngine, folder: string, size = TILE_SIZE): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const tiles: string[] = [];
  for (const [i, person] of PEOPLE.entries()) {
    const bytes = await readFile(path.join(FIXTURES, person.streamPhoto));
    const image = await decodeImage(bytes, { maxSide: PORTRAIT_MAX_SIDE });
    const { width, height, faces } = await findPortraitFaces(bytes, engine);
    const face = faces[0];
    if (!face) throw new Error(`no face found in ${person.streamPhoto}`);
    const side = Math.round(Math.min(Math.max(face.box.width, face.box.height) * 1.8, width, height));
    const left = Math.round(Math.min(Math.max(face.box.x + face.box.width / 2 - side / 2, 0), width - side));
    const top = Math.round(Math.min(Math.max(face.box.y + face.box.height / 2 - side / 2, 0), height - side));
    const tile = path.join(folder, `tile-${i}.jpg`);
    await writeFile(
      tile,
      await sharp(image.data, { raw: { width, height, channels: 3 } }).extract({ left, top, width: side, height: side }).resize(size, size).jpeg({ quality: 92 }).toBuffer(),
    );
    tiles.push(tile);
  }
  return tiles;
}
