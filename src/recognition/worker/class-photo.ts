import sharp from 'sharp';
import type { RgbImage } from '../../faces/decode-image.ts';
import type { FaceBox, FaceEngine } from '../../faces/face-engine.ts';
import { decide, type FaceMatcher } from '../../faces/face-matcher.ts';
import { mergeSameFaces, locateFacesInTiles, TILE_SIDE } from '../../faces/tiled-locator.ts';

/** Faces narrower than this (in the photo's pixels) are listed but not guessed at: too few pixels to tell people apart. */
export const MIN_PHOTO_FACE_WIDTH = 32;

/**
 * What was decided about one face of a class photo:
 * - `recognized`: the student the face and its mirror image both match under the service's rule;
 * - `unknown`: nobody close enough, or too close to call;
 * - `disagreement`: the face and its mirror image point at different students (or one at nobody): not marked;
 * - `duplicate`: the same student matched a second face of the photo: neither is marked, one of them is wrong;
 * - `too-small`: under MIN_PHOTO_FACE_WIDTH, not described.
 */
export type PhotoFaceVerdict = 'recognized' | 'unknown' | 'disagreement' | 'duplicate' | 'too-small';

export interface PhotoFace {
  box: FaceBox;
  verdict: PhotoFaceVerdict;
  /** The best student (whatever the verdict), with the mean distance to their photos and the runner-up's lead. */
  rollNo: string | null;
  distance: number | null;
  margin: number | null;
}

/** The photo at `scale` of its size, as raw RGB. */
async function scaled(image: RgbImage, scale: number): Promise<RgbImage> {
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize({ width, height, fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function mirrored(image: RgbImage): Promise<RgbImage> {
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).flop().raw().toBuffer();
  return { data, width: image.width, height: image.height };
}

/**
 * Every face of a large photo: the cheap detector in tiles at full size (small faces at the back of a class), then at
 * half size and so on (large faces in front that a tile would cut), until the whole photo fits in one tile.
 */
export async function findPhotoFaces(engine: FaceEngine, image: RgbImage): Promise<FaceBox[]> {
  const found: FaceBox[] = [];
  for (let scale = 1; ; scale /= 2) {
    const level = scale === 1 ? image : await scaled(image, scale);
    for (const box of await locateFacesInTiles(engine, level)) {
      found.push({ x: box.x / scale, y: box.y / scale, width: box.width / scale, height: box.height / scale });
    }
    if (Math.max(level.width, level.height) <= TILE_SIDE * 1.5) break;
  }
  return mergeSameFaces(found);
}

/**
 * Decides who is in a class photo. A photo has no face track to confirm a match over frames, so each face is described
 * twice, as it is and mirrored, and marks a student only when both descriptions accept the same one under the
 * service's rule; a student matched by two faces of one photo is not marked at all.
 */
export async function recognizeClassPhoto(engine: FaceEngine, matcher: FaceMatcher, image: RgbImage): Promise<PhotoFace[]> {
  const boxes = await findPhotoFaces(engine, image);
  const describable = boxes.filter((box) => box.width >= MIN_PHOTO_FACE_WIDTH);
  const flipped = await mirrored(image);
  const [descriptors, mirrorDescriptors] = [
    await engine.describeFaces(image, describable),
    await engine.describeFaces(flipped, describable.map((box) => ({ ...box, x: image.width - box.x - box.width }))),
  ];
  const faces: PhotoFace[] = boxes.map((box) => ({ box, verdict: 'too-small', rollNo: null, distance: null, margin: null }));
  describable.forEach((box, i) => {
    const face = faces[boxes.indexOf(box)]!;
    const ranking = matcher.rank(descriptors[i]!);
    const accepted = decide(ranking, matcher.rule);
    const mirrorAccepted = decide(matcher.rank(mirrorDescriptors[i]!), matcher.rule);
    face.rollNo = ranking?.best.rollNo ?? null;
    face.distance = ranking?.best.distance ?? null;
    face.margin = ranking && Number.isFinite(ranking.runnerUpDistance) ? ranking.runnerUpDistance - ranking.best.distance : null;
    if (!accepted && !mirrorAccepted) face.verdict = 'unknown';
    else face.verdict = accepted?.rollNo === mirrorAccepted?.rollNo ? 'recognized' : 'disagreement';
  });
  const recognized = faces.filter((face) => face.verdict === 'recognized');
  for (const face of recognized) {
    if (recognized.some((other) => other !== face && other.rollNo === face.rollNo)) face.verdict = 'duplicate';
  }
  return faces;
}
