export const DESCRIPTOR_LENGTH = 128;

export interface EnrolledFace {
  rollNo: string;
  descriptor: Float32Array;
}

export interface FaceMatch {
  rollNo: string;
  distance: number;
}

/** The closest student and how far the next closest other student is. */
export interface Ranking {
  best: FaceMatch;
  /** Distance to the nearest photo of any other student; Infinity with a single student enrolled. */
  runnerUpDistance: number;
}

export interface MatchRule {
  /** Largest distance accepted as the same person. */
  threshold: number;
  /** How much closer the best student must be than every other student. */
  margin: number;
}

/** The decision the service takes for one face: the best student, or nobody when too far or too close to call. */
export function decide(ranking: Ranking | undefined, rule: MatchRule): FaceMatch | undefined {
  if (!ranking || ranking.best.distance >= rule.threshold) return undefined;
  return ranking.runnerUpDistance - ranking.best.distance >= rule.margin ? ranking.best : undefined;
}

/**
 * Nearest-neighbour search over the roster's descriptors (several photos per student allowed), kept in one
 * flat Float32Array (rows of 128) so a match is a single tight loop over contiguous memory.
 */
export class FaceMatcher {
  private readonly descriptors: Float32Array;
  private readonly studentOfRow: Int32Array;
  private readonly rollNos: string[] = [];

  constructor(
    enrolled: readonly EnrolledFace[],
    readonly rule: MatchRule,
  ) {
    const studentIndex = new Map<string, number>();
    this.studentOfRow = new Int32Array(enrolled.length);
    this.descriptors = new Float32Array(enrolled.length * DESCRIPTOR_LENGTH);
    enrolled.forEach((face, row) => {
      if (face.descriptor.length !== DESCRIPTOR_LENGTH) {
        throw new RangeError(`descriptor of ${face.rollNo} has ${face.descriptor.length} values, expected ${DESCRIPTOR_LENGTH}`);
      }
      let student = studentIndex.get(face.rollNo);
      if (student === undefined) {
        student = this.rollNos.push(face.rollNo) - 1;
        studentIndex.set(face.rollNo, student);
      }
      this.studentOfRow[row] = student;
      this.descriptors.set(face.descriptor, row * DESCRIPTOR_LENGTH);
    });
  }

  /** Students enrolled (each with one or more photos). */
  get size(): number {
    return this.rollNos.length;
  }

  /** The best student if the match rule accepts them. */
  match(descriptor: Float32Array): FaceMatch | undefined {
    return decide(this.rank(descriptor), this.rule);
  }

  rank(descriptor: Float32Array): Ranking | undefined {
    let bestStudent = -1;
    let bestSquared = Number.POSITIVE_INFINITY;
    let runnerUpSquared = Number.POSITIVE_INFINITY;
    const matrix = this.descriptors;
    for (let row = 0, offset = 0; row < this.studentOfRow.length; row++, offset += DESCRIPTOR_LENGTH) {
      const student = this.studentOfRow[row]!;
      const bound = student === bestStudent ? bestSquared : runnerUpSquared;
      let squared = 0;
      for (let i = 0; i < DESCRIPTOR_LENGTH && squared < bound; i++) {
        const difference = matrix[offset + i]! - descriptor[i]!;
        squared += difference * difference;
      }
      if (squared >= bound) continue;
      if (student === bestStudent) bestSquared = squared;
      else if (squared < bestSquared) {
        runnerUpSquared = bestSquared;
        bestSquared = squared;
        bestStudent = student;
      } else runnerUpSquared = squared;
    }
    if (bestStudent === -1) return undefined;
    return {
      best: { rollNo: this.rollNos[bestStudent]!, distance: Math.sqrt(bestSquared) },
      runnerUpDistance: Math.sqrt(runnerUpSquared),
    };
  }
}
