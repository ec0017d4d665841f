import type { FaceBox } from '../faces/face-engine.ts';

export const PHOTO_KINDS = ['tight-crop', 'portrait', 'group-or-news', 'no-face'] as const;
export type PhotoKind = (typeof PHOTO_KINDS)[number];

/** ID-photo-like crops: the whole picture is the head, as in 150x150 face sets. */
const TIGHT_CROP_MAX_SIDE = 160;
/** A face at least this share of the picture's shorter side is the subject of a portrait; smaller, one of a scene. */
const PORTRAIT_FACE_SHARE = 0.25;

/**
 * The kind of a labelled photo, from its size and its largest face: a tight crop, a portrait, or a group or news photo
 * whose faces are a small part of the picture. A photo larger than a crop in which no face was found is `no-face`.
 */
export function photoKind(photo: { width?: number; height?: number; largestFace?: FaceBox }): PhotoKind {
  const { width, height, largestFace } = photo;
  if (width !== undefined && height !== undefined && Math.max(width, height) <= TIGHT_CROP_MAX_SIDE) return 'tight-crop';
  if (!largestFace || width === undefined || height === undefined) return 'no-face';
  return largestFace.width >= PORTRAIT_FACE_SHARE * Math.min(width, height) ? 'portrait' : 'group-or-news';
}
