import sharp from 'sharp';
import { EnrollmentError } from '../errors.ts';
import { decodeImage, type RgbImage } from './decode-image.ts';
import type { DetectedFace, FaceBox, FaceEngine } from './face-engine.ts';

export const PORTRAIT_MAX_SIDE = 1024;
/** Camera frames and group photos are kept at up to 1080p: a classroom's 40 px faces need every pixel. */
export const FRAME_MAX_SIDE = 1920;
/**
 * Borders tried in turn around a photo in which no face was found, as shares of its longer side: the face takes 59%,
 * 33%, 20%, then 14% of the framed width. Some heads cropped inside the hairline and chin are found only with the
 * wider ones (docs/recognition.md, "Tighter crops": with every 150x150 crop of ../shared/faces cut to its middle 70%,
 * enrollment failures 9 -> 1; random patches of photos without a face taken for one 10 -> 11 of 240).
 */
export const PORTRAIT_BORDERS = [0.35, 1, 2, 3];
const NEUTRAL_GREY = 128;

/** The faces found in a photo meant to show one person (an enrollment photo), largest first. */
export interface PortraitFaces {
  width: number;
  height: number;
  faces: DetectedFace[];
}

/**
 * Decodes a photo of one person and finds its faces. The detector misses most faces cropped tightly at the
 * hairline and chin (ID photos); framed in a grey border they look like the portraits it was trained on. Each border
 * costs one more detector run, only for a photo in which no face was found yet.
 */
export async function findPortraitFaces(bytes: Uint8Array, engine: FaceEngine): Promise<PortraitFaces> {
  const image = await decodeImage(bytes, { maxSide: PORTRAIT_MAX_SIDE });
  let faces = await engine.detectFaces(image);
  for (const share of PORTRAIT_BORDERS) {
    if (faces.length > 0) break;
    const { framed, scale, border, photo } = await frameInBorder(image, share);
    faces = (await engine.detectFaces(framed, photo)).map((face) => ({
      ...face,
      box: {
        x: (face.box.x - border) / scale,
        y: (face.box.y - border) / scale,
        width: face.box.width / scale,
        height: face.box.height / scale,
      },
    }));
  }
  return { width: image.width, height: image.height, faces };
}

/**
 * The photo inside a grey border `share` of its longer side wide, scaled down so the whole stays within
 * PORTRAIT_MAX_SIDE (give or take the pixel rounding adds): the detector works at 512 px anyway, and an unbounded
 * frame (7x the photo with a 300% border) would grow the inference memory for the rest of the process.
 */
async function frameInBorder(image: RgbImage, share: number): Promise<{ framed: RgbImage; scale: number; border: number; photo: FaceBox }> {
  const longer = Math.max(image.width, image.height);
  const scale = Math.min(1, PORTRAIT_MAX_SIDE / (longer * (1 + 2 * share)));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const border = Math.round(share * Math.max(width, height));
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize({ width, height, fit: 'fill' })
    .extend({ top: border, bottom: border, left: border, right: border, background: { r: NEUTRAL_GREY, g: NEUTRAL_GREY, b: NEUTRAL_GREY } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { framed: { data, width: info.width, height: info.height }, scale: width / image.width, border, photo: { x: border, y: border, width, height } };
}

/** A decoded camera frame (or group photo) and every face in it, largest first. */
export interface FrameFaces {
  image: RgbImage;
  faces: DetectedFace[];
}

export async function findFrameFaces(bytes: Uint8Array, engine: FaceEngine): Promise<FrameFaces> {
  const image = await decodeImage(bytes, { maxSide: FRAME_MAX_SIDE });
  return { image, faces: await engine.detectFaces(image) };
}

/**
 * How much wider than every other face the largest face of an enrollment photo must be to count as the student's:
 * a portrait with someone small in the background enrolls; two people of similar size are too ambiguous to guess.
 */
export const DOMINANT_FACE_WIDTH_RATIO = 1.8;

export interface EnrollmentFace {
  face: DetectedFace;
  /** Smaller faces in the photo that were left out (people in the background). */
  backgroundFaces: number;
}

/** The one face an enrollment photo shows (or clearly puts first), or why the photo cannot be used. */
export function enrollmentFace({ faces }: PortraitFaces): EnrollmentFace {
  const [face, ...others] = faces;
  if (!face) throw new EnrollmentError('NO_FACE_FOUND', 'no face found in the photo');
  const widestOther = Math.max(0, ...others.map((other) => other.box.width));
  if (face.box.width < DOMINANT_FACE_WIDTH_RATIO * widestOther) {
    throw new EnrollmentError(
      'SEVERAL_FACES',
      `${faces.length} faces of similar size found in the photo; it must show the student alone or clearly in front`,
    );
  }
  return { face, backgroundFaces: others.length };
}

/** What an enrollment photo gives: the descriptor the student is enrolled with, and the faces left out beside it. */
export interface EnrollmentPhoto {
  descriptor: Float32Array;
  backgroundFaces: number;
}

/** Photo bytes to what a student is enrolled with: what the service and the benchmarks both run. */
export async function describeEnrollmentPhoto(bytes: Uint8Array, engine: FaceEngine): Promise<EnrollmentPhoto> {
  const { face, backgroundFaces } = enrollmentFace(await findPortraitFaces(bytes, engine));
  return { descriptor: face.descriptor, backgroundFaces };
}
