/**
 * A face is described by two networks that fail on different faces: dlib's ResNet (128 values, Euclidean distance, on
 * a tight 150x150 chip) and faceres, a MobileNet trained on VGGFace2 (1024 values, cosine distance, on a 224x224 chip
 * with the hair and face outline around it). A descriptor holds both, dlib's first, faceres's scaled to unit length.
 */
export const DLIB_LENGTH = 128;
export const CONTEXT_LENGTH = 1024;
export const DESCRIPTOR_LENGTH = DLIB_LENGTH + CONTEXT_LENGTH;

/**
 * The distance between two faces: a weighted mean of dlib's distance and faceres's cosine distance mapped onto dlib's
 * scale, so that thresholds keep dlib's meaning (0.6 and beyond: different people).
 *
 * The mapping makes the two agree on different people: `CONTEXT_SCALE` and `CONTEXT_OFFSET` give faceres's distances
 * between the enrollment photos of 30 different people (../shared/faces) the mean and spread of dlib's (0.86 ± 0.088).
 * The weight and the chip's padding were chosen on the same photos (docs/recognition.md, "Two networks").
 */
export const DLIB_WEIGHT = 0.6;
export const CONTEXT_SCALE = 1.42;
export const CONTEXT_OFFSET = -0.032;

/** dlib's descriptor followed by faceres's, scaled to unit length (a copy; neither input is changed). */
export function combineDescriptors(dlib: Float32Array, context: Float32Array): Float32Array {
  if (dlib.length !== DLIB_LENGTH || context.length !== CONTEXT_LENGTH) {
    throw new RangeError(`descriptors of ${dlib.length} and ${context.length} values, expected ${DLIB_LENGTH} and ${CONTEXT_LENGTH}`);
  }
  let squared = 0;
  for (let i = 0; i < CONTEXT_LENGTH; i++) squared += context[i]! * context[i]!;
  const norm = Math.sqrt(squared) || 1;
  const combined = new Float32Array(DESCRIPTOR_LENGTH);
  combined.set(dlib);
  for (let i = 0; i < CONTEXT_LENGTH; i++) combined[DLIB_LENGTH + i] = context[i]! / norm;
  return combined;
}

/** Fuses dlib's Euclidean distance and faceres's cosine distance (1 − cosine) of the same two faces. */
export function fusedDistance(dlibDistance: number, contextDistance: number): number {
  return DLIB_WEIGHT * dlibDistance + (1 - DLIB_WEIGHT) * (CONTEXT_SCALE * contextDistance + CONTEXT_OFFSET);
}

/**
 * The dlib distance beyond which two faces are farther apart than `distance` whatever faceres says (its cosine
 * distance is never below 0): for passing over most of a roster on dlib's 128 values alone.
 */
export function dlibDistanceBound(distance: number): number {
  return (distance - (1 - DLIB_WEIGHT) * CONTEXT_OFFSET) / DLIB_WEIGHT;
}

/** The fused distance between two descriptors. */
export function faceDistance(a: Float32Array, b: Float32Array): number {
  let squared = 0;
  for (let i = 0; i < DLIB_LENGTH; i++) squared += (a[i]! - b[i]!) ** 2;
  let dot = 0;
  for (let i = DLIB_LENGTH; i < DESCRIPTOR_LENGTH; i++) dot += a[i]! * b[i]!;
  return fusedDistance(Math.sqrt(squared), 1 - dot);
}

/** dlib's distance alone, in the two descriptors' first 128 values. */
export function dlibDistance(a: Float32Array, b: Float32Array): number {
  let squared = 0;
  for (let i = 0; i < DLIB_LENGTH; i++) squared += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(squared);
}
