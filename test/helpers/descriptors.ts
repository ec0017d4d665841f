import { CONTEXT_LENGTH, DESCRIPTOR_LENGTH, DLIB_LENGTH } from '../../src/faces/face-descriptor.ts';

/**
 * A face descriptor built by hand (src/faces/face-descriptor.ts): dlib's part is `dlib`'s values followed by zeros, and
 * faceres's is the direction of `context`'s values followed by zeros, scaled to unit length (by default faceres's first
 * axis, the same for every face built without one).
 *
 * So that distances can be reasoned about: two of these with the same faceres direction, d apart on dlib's part, are
 * `fusedDistance(d, 0)` = 0.6 d − 0.0128 apart; with orthogonal directions, `fusedDistance(d, 1)` = 0.6 d + 0.5552. With
 * at most two non-zero values in each part the matcher's sums are exact whatever their order, so its distances equal,
 * to the last bit, those computed here with `fusedDistance` (or `faceDistance`).
 */
export function fusedDescriptor(dlib: ArrayLike<number>, context: ArrayLike<number> = [1]): Float32Array {
  if (dlib.length > DLIB_LENGTH || context.length > CONTEXT_LENGTH) throw new RangeError(`${dlib.length} and ${context.length} values`);
  const descriptor = new Float32Array(DESCRIPTOR_LENGTH);
  descriptor.set(Array.from(dlib));
  let squared = 0;
  for (let i = 0; i < context.length; i++) squared += context[i]! ** 2;
  if (squared === 0) throw new RangeError("faceres's part needs a direction");
  const norm = Math.sqrt(squared);
  for (let i = 0; i < context.length; i++) descriptor[DLIB_LENGTH + i] = context[i]! / norm;
  return descriptor;
}

/** The descriptor whose raw values are `fill(0)` … `fill(1151)`, faceres's part scaled to unit length, as the engine's are. */
export function descriptorFrom(fill: (i: number) => number): Float32Array {
  const values = Array.from({ length: DESCRIPTOR_LENGTH }, (_, i) => fill(i));
  return fusedDescriptor(values.slice(0, DLIB_LENGTH), values.slice(DLIB_LENGTH));
}
