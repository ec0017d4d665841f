import { combineDescriptors, DESCRIPTOR_LENGTH, DLIB_LENGTH } from './face-descriptor.ts';

/**
 * Two descriptors whose dlib parts are farther apart than this are taken for two people: dlib's own bound for its
 * descriptor (0.6 gives its 99.38% on LFW), not a value tuned on our data.
 */
export const SAME_FACE_DISTANCE = 0.6;

/**
 * The mean descriptor of one face seen on several frames. Photos of a person scatter around them, so the mean of a
 * few lies nearer their enrollment photo than most of the photos do: a student seen from several angles, no view close
 * enough on its own, can be matched on it. A frame farther than SAME_FACE_DISTANCE from the mean so far starts the
 * mean over, because averaging two people gives a face nearer to everyone else (two strangers 0.6 from a student and
 * 0.8 from each other average to 0.45 from that student). People closer together than that, look-alikes, are averaged.
 */
export class DescriptorMean {
  private readonly sum = new Float64Array(DESCRIPTOR_LENGTH);
  private count = 0;

  /** Descriptors in the mean. */
  get frames(): number {
    return this.count;
  }

  add(descriptor: Float32Array): void {
    if (this.count > 0 && this.distanceTo(descriptor) > SAME_FACE_DISTANCE) this.clear();
    for (let i = 0; i < DESCRIPTOR_LENGTH; i++) this.sum[i]! += descriptor[i]!;
    this.count += 1;
  }

  /** The mean of each network's part; faceres's scaled back to unit length, as the matcher compares it. */
  mean(): Float32Array {
    if (this.count === 0) throw new RangeError('the mean of no descriptor');
    const mean = Float32Array.from(this.sum, (total) => total / this.count);
    return combineDescriptors(mean.subarray(0, DLIB_LENGTH), mean.subarray(DLIB_LENGTH));
  }

  clear(): void {
    this.sum.fill(0);
    this.count = 0;
  }

  private distanceTo(descriptor: Float32Array): number {
    let squared = 0;
    for (let i = 0; i < DLIB_LENGTH; i++) squared += (this.sum[i]! / this.count - descriptor[i]!) ** 2;
    return Math.sqrt(squared);
  }
}
