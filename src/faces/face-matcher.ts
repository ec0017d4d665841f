export const DESCRIPTOR_LENGTH = 128;

export interface EnrolledFace {
  rollNo: string;
  descriptor: Float32Array;
}

export interface FaceMatch {
  rollNo: string;
  distance: number;
}

/**
 * Nearest-neighbour search over the roster's descriptors, kept in one flat Float32Array
 * (rows of 128) so a match is a single tight loop over contiguous memory.
 */
export class FaceMatcher {
  private readonly descriptors: Float32Array;
  private readonly rollNos: string[];

  constructor(
    enrolled: readonly EnrolledFace[],
    readonly threshold: number,
  ) {
    this.rollNos = enrolled.map((face) => face.rollNo);
    this.descriptors = new Float32Array(enrolled.length * DESCRIPTOR_LENGTH);
    enrolled.forEach((face, row) => {
      if (face.descriptor.length !== DESCRIPTOR_LENGTH) {
        throw new RangeError(`descriptor of ${face.rollNo} has ${face.descriptor.length} values, expected ${DESCRIPTOR_LENGTH}`);
      }
      this.descriptors.set(face.descriptor, row * DESCRIPTOR_LENGTH);
    });
  }

  get size(): number {
    return this.rollNos.length;
  }

  /** The closest enrolled student if their Euclidean distance is below the threshold. */
  match(descriptor: Float32Array): FaceMatch | undefined {
    const nearest = this.nearest(descriptor);
    return nearest && nearest.distance < this.threshold ? nearest : undefined;
  }

  nearest(descriptor: Float32Array): FaceMatch | undefined {
    let bestRow = -1;
    let bestSquared = Number.POSITIVE_INFINITY;
    const matrix = this.descriptors;
    for (let row = 0, offset = 0; row < this.rollNos.length; row++, offset += DESCRIPTOR_LENGTH) {
      let squared = 0;
      for (let i = 0; i < DESCRIPTOR_LENGTH && squared < bestSquared; i++) {
        const difference = matrix[offset + i]! - descriptor[i]!;
        squared += difference * difference;
      }
      if (squared < bestSquared) {
        bestSquared = squared;
        bestRow = row;
      }
    }
    return bestRow === -1 ? undefined : { rollNo: this.rollNos[bestRow]!, distance: Math.sqrt(bestSquared) };
  }
}
