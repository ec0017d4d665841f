import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classTrials } from '../src/evaluation/class-trials.ts';
import { DESCRIPTOR_LENGTH } from '../src/faces/face-descriptor.ts';

const at = (value: number) => Float32Array.from({ length: DESCRIPTOR_LENGTH }, (_, i) => (i === 0 ? value : 0));

test("class trials count look-alikes of another class accepted by a class alone and refused with the other classes compared", () => {
  // Two look-alikes 0.45 apart, one class each: each one's probe is within the threshold of the other.
  const gallery = [
    { rollNo: 'a', descriptor: at(0) },
    { rollNo: 'b', descriptor: at(0.45) },
  ];
  const probes = [
    { path: 'a/2.jpg', person: 'a', descriptor: at(0.1) },
    { path: 'b/2.jpg', person: 'b', descriptor: at(0.4) },
    { path: 'b/3.jpg', person: 'b' },
  ];
  const result = classTrials(gallery, probes, { threshold: 0.5, margin: 0.15 }, 2);
  assert.deepEqual([result.genuine, result.otherClassPhotos], [3, 2], 'a probe without a face is a genuine miss, and no photo of another class');
  assert.deepEqual(result.classAlone, { right: 2, wrong: 0, otherClassAccepts: 2 });
  assert.deepEqual(result.withOtherClasses, { right: 2, wrong: 0, otherClassAccepts: 0 });
});
