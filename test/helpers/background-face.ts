import sharp from 'sharp';
import type { FaceEngine } from '../../src/faces/face-engine.ts';
import { findPortraitFaces } from '../../src/faces/find-faces.ts';

/** `photo` with the face of `other` pasted `width` px wide into its top left corner: someone in the background. */
export async function withBackgroundFace(engine: FaceEngine, photo: Buffer, other: Buffer, width: number): Promise<Buffer> {
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
