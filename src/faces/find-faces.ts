import { EnrollmentError } from '../errors.ts';
import { decodeImage, type RgbImage } from './decode-image.ts';
import type { DetectedFace, FaceEngine } from './face-engine.ts';

export const PORTRAIT_MAX_SIDE = 1024;
export const FRAME_MAX_SIDE = 1280;
/** Borders tried in turn around a photo in which no face was found, as shares of its longer side. */
export const PORTRAIT_BORDERS = [0.35, 1];
const NEUTRAL_GREY = 128;

/** The faces found in a photo meant to show one person (an enrollment photo), largest first. */
export interface PortraitFaces {
  width: number;
  height: number;
  faces: DetectedFace[];
}

/**
 * Decodes a photo of one person and finds its faces. The detector misses most faces cropped tightly at the
 * hairline and chin (ID photos); framed in a grey border they look like the portraits it was trained on.
 */
export async function findPortraitFaces(bytes: Uint8Array, engine: FaceEngine): Promise<PortraitFaces> {
  const image = await decodeImage(bytes, { maxSide: PORTRAIT_MAX_SIDE });
  let faces = await engine.detectFaces(image);
  for (const share of PORTRAIT_BORDERS) {
    if (faces.length > 0) break;
    const border = Math.round(share * Math.max(image.width, image.height));
    faces = (await engine.detectFaces(withBorder(image, border))).map((face) => ({
      ...face,
      box: { ...face.box, x: face.box.x - border, y: face.box.y - border },
    }));
  }
  return { width: image.width, height: image.height, faces };
}

function withBorder(image: RgbImage, border: number): RgbImage {
  const width = image.width + 2 * border;
  const height = image.height + 2 * border;
  const data = new Uint8Array(width * height * 3).fill(NEUTRAL_GREY);
  const rowBytes = image.width * 3;
  for (let y = 0; y < image.height; y++) {
    data.set(image.data.subarray(y * rowBytes, (y + 1) * rowBytes), ((y + border) * width + border) * 3);
  }
  return { data, width, height };
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

/** The one face an enrollment photo must show, or why the photo cannot be used. */
export function enrollmentFace({ faces }: PortraitFaces): DetectedFace {
  const [face] = faces;
  if (!face) throw new EnrollmentError('NO_FACE_FOUND', 'no face found in the photo');
  if (faces.length > 1) {
    throw new EnrollmentError('SEVERAL_FACES', `${faces.length} faces found in the photo; it must show the student alone`);
  }
  return face;
}

/** Photo bytes to the descriptor a student is enrolled with: what the service and the evaluation both run. */
export async function enrollmentDescriptor(bytes: Uint8Array, engine: FaceEngine): Promise<Float32Array> {
  return enrollmentFace(await findPortraitFaces(bytes, engine)).descriptor;
}
