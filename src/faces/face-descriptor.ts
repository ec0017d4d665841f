/**
 * A face is described by two networks that fail on different faces: dlib's ResNet (128 values, Euclidean distance, on
 * a tight 150x150 chip) and faceres, a MobileNet trained on VGGFace2 (1024 values, cosine distance, on a 224x224 chip
 * with the hair and face outline around it). A descriptor holds both, dlib's first; faceres's has the length of its
 * weight, from 0 to 1 (contextWeightOfCoverage).
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

/**
 * How much faceres's descriptor of a face counts, from the share of its chip that showed the photo. A tight crop (an ID
 * photo cut at the hairline) fills about 40% of that chip, the rest being the photo's edge repeated or the border put
 * around it to find the face; faceres was trained on loosely cropped photos and says little that is reliable about it.
 * The cube makes such a crop count for 6% of its share, so that it is matched on dlib's descriptor almost alone, as
 * before faceres was added (docs/recognition.md, "Two networks"), while a face with its whole chip in view counts fully.
 */
export function contextWeightOfCoverage(coverage: number): number {
  return Math.min(Math.max(coverage, 0), 1) ** 3;
}

/** dlib's descriptor followed by faceres's, scaled to length `weight` (a copy; neither input is changed). */
export function combineDescriptors(dlib: Float32Array, context: Float32Array, weight = 1): Float32Array {
  if (dlib.length !== DLIB_LENGTH || context.length !== CONTEXT_LENGTH) {
    throw new RangeError(`descriptors of ${dlib.length} and ${context.length} values, expected ${DLIB_LENGTH} and ${CONTEXT_LENGTH}`);
  }
  let squared = 0;
  for (let i = 0; i < CONTEXT_LENGTH; i++) squared += context[i]! * context[i]!;
  const scale = squared > 0 ? Math.min(Math.max(weight, 0), 1) / Math.sqrt(squared) : 0;
  const combined = new Float32Array(DESCRIPTOR_LENGTH);
  combined.set(dlib);
  for (let i = 0; i < CONTEXT_LENGTH; i++) combined[DLIB_LENGTH + i] = context[i]! * scale;
  return combined;
}

/**
 * Fuses dlib's Euclidean distance and faceres's cosine distance (1 − cosine) of the same two faces, faceres counting
 * for `contextWeight` (0 to 1: the smaller of the two faces' weights) of its full share: at 0 the distance is dlib's.
 */
export function fusedDistance(dlibDistance: number, contextDistance: number, contextWeight = 1): number {
  const share = (1 - DLIB_WEIGHT) * contextWeight;
  return (DLIB_WEIGHT * dlibDistance + share * (CONTEXT_SCALE * contextDistance + CONTEXT_OFFSET)) / (DLIB_WEIGHT + share);
}

/**
 * The dlib distance beyond which two faces are farther apart than `distance` whatever faceres says (its cosine
 * distance is never below 0, and at any weight the fused distance lies between dlib's and the full fusion): for
 * passing over most of a roster on dlib's 128 values alone.
 */
export function dlibDistanceBound(distance: number): number {
  return (distance - (1 - DLIB_WEIGHT) * CONTEXT_OFFSET) / DLIB_WEIGHT;
}

/** The weight of a descriptor's faceres part: its length. */
export function contextWeight(descriptor: Float32Array): number {
  let squared = 0;
  for (let i = DLIB_LENGTH; i < DESCRIPTOR_LENGTH; i++) squared += descriptor[i]! * descriptor[i]!;
  return Math.sqrt(squared);
}

/** The fused distance between two descriptors. */
export function faceDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = DLIB_LENGTH; i < DESCRIPTOR_LENGTH; i++) dot += a[i]! * b[i]!;
  return fusedFromDot(dlibDistance(a, b), dot, contextWeight(a), contextWeight(b));
}

/** The fused distance from dlib's distance and the dot product of two faceres parts of lengths `weightA` and `weightB`. */
export function fusedFromDot(dlib: number, dot: number, weightA: number, weightB: number): number {
  const weight = Math.min(weightA, weightB, 1);
  return weight > 0 ? fusedDistance(dlib, 1 - dot / (weightA * weightB), weight) : dlib;
}

/** dlib's distance alone, in the two descriptors' first 128 values. */
export function dlibDistance(a: Float32Array, b: Float32Array): number {
  let squared = 0;
  for (let i = 0; i < DLIB_LENGTH; i++) squared += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(squared);
}
