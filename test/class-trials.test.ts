import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classTrials } from '../src/evaluation/class-trials.ts';
import { fusedDescriptor } from './helpers/descriptors.ts';

/** `value` along dlib's first axis, faceres's parts all the same: fused distances are 0.6 × dlib's − 0.0128. */
const at = (value: number) => fusedDescriptor([value]);

test("class trials count look-alikes of another class accepted by a class alone and refused with the other classes compared", () => {
  // Two look-alikes 0.45 apart on dlib's part (0.26 fused), one class each: each one's probe is within the threshold of
  // the other (a/2 0.05 from a and 0.20 from b, b/2 0.23 from a and 0.02 from b, fused).
  const gallery = [
    { rollNo: 'a', descriptor: at(0) },
    { rollNo: 'b', descriptor: at(0.45) },
  ];
  const probes = [
    { path: 'a/2.jpg', person: 'a', descriptor: at(0.1) },
    { path: 'b/2.jpg', person: 'b', descriptor: at(0.4) },
    { path: 'b/3.jpg', person: 'b' },
  ];
  const result = classTrials(gallery, probes, { threshold: 0.5, margin: 0.1 }, 2);
  assert.deepEqual([result.genuine, result.otherClassPhotos], [3, 2], 'a probe without a face is a genuine miss, and no photo of another class');
  assert.deepEqual(result.classAlone, { right: 2, wrong: 0, otherClassAccepts: 2 });
  assert.deepEqual(result.withOtherClasses, { right: 2, wrong: 0, otherClassAccepts: 0 });
});
