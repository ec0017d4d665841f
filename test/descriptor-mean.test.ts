import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DescriptorMean, SAME_FACE_DISTANCE } from '../src/faces/descriptor-mean.ts';
import { CONTEXT_LENGTH, DESCRIPTOR_LENGTH, DLIB_LENGTH } from '../src/faces/face-descriptor.ts';
import { fusedDescriptor } from './helpers/descriptors.ts';

const meanOf = (...descriptors: Float32Array[]) => {
  const mean = new DescriptorMean();
  for (const descriptor of descriptors) mean.add(descriptor);
  return mean;
};
const contextNorm = (descriptor: Float32Array) => Math.hypot(...descriptor.subarray(DLIB_LENGTH));

test("the mean averages dlib's part and faceres's part, faceres's scaled back to unit length", () => {
  const mean = meanOf(fusedDescriptor([0.2, 0.1], [1, 0]), fusedDescriptor([0.4, 0.3], [0, 1])).mean();
  assert.equal(mean.length, DESCRIPTOR_LENGTH);
  assert.deepEqual(Array.from(mean.subarray(0, 3)), [Math.fround(0.3), Math.fround(0.2), 0]);
  assert.ok(Math.abs(mean[DLIB_LENGTH]! - Math.SQRT1_2) < 1e-7 && Math.abs(mean[DLIB_LENGTH + 1]! - Math.SQRT1_2) < 1e-7, "faceres's directions halfway");
  assert.ok(Math.abs(contextNorm(mean) - 1) < 1e-6, 'unit length');
  assert.equal(mean.subarray(DLIB_LENGTH + 2).every((value) => value === 0), true);
  assert.equal(CONTEXT_LENGTH, DESCRIPTOR_LENGTH - DLIB_LENGTH);
});

test("a frame farther than SAME_FACE_DISTANCE from the mean on dlib's part starts it over, whatever faceres's says", () => {
  const first = fusedDescriptor([0], [1]);
  assert.equal(meanOf(first, fusedDescriptor([SAME_FACE_DISTANCE - 0.01], [1])).frames, 2, '0.59 away on dlib: averaged');
  const far = fusedDescriptor([SAME_FACE_DISTANCE + 0.01], [1]);
  const restarted = meanOf(first, far);
  assert.equal(restarted.frames, 1, '0.61 away on dlib, faceres the same: another person');
  assert.deepEqual(restarted.mean(), far);
  assert.equal(meanOf(first, fusedDescriptor([0.1], [0, 1])).frames, 2, "0.1 away on dlib, faceres's at right angles: averaged");
});

test('the mean of no descriptor is refused', () => {
  const mean = meanOf(fusedDescriptor([0.5]));
  mean.clear();
  assert.equal(mean.frames, 0);
  assert.throws(() => mean.mean(), /the mean of no descriptor/);
});
