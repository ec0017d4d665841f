import { EnrollmentError } from '../errors.ts';
import { decodeImage } from './decode-image.ts';
import type { DetectedFace, FaceEngine } from './face-engine.ts';

export const PORTRAIT_MAX_SIDE = 1024;
export const FRAME_MAX_SIDE = 1280;

/** The faces found in a photo meant to show one person (an enrollment photo), largest first. */
export interface PortraitFaces {
  width: number;
  height: number;
  faces: DetectedFace[];
}

/** Decodes a photo of one person and finds its faces. */
export async function findPortraitFaces(bytes: Uint8Array, engine: FaceEngine): Promise<PortraitFaces> {
  const image = await decodeImage(bytes, { maxSide: PORTRAIT_MAX_SIDE });
  return { width: image.width, height: image.height, faces: await engine.detectFaces(image) };
}

/** Every face in a camera frame (or a group photo), largest first. */
export async function findFrameFaces(bytes: Uint8Array, engine: FaceEngine): Promise<DetectedFace[]> {
  return engine.detectFaces(await decodeImage(bytes, { maxSide: FRAME_MAX_SIDE }));
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
