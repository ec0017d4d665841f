export const DESCRIPTOR_LENGTH = 128;

export interface EnrolledFace {
  rollNo: string;
  descriptor: Float32Array;
}

export interface FaceMatch {
  rollNo: string;
  distance: number;
}

/** The closest student and how far the next closest student is (mean distances over each student's photos). */
export interface Ranking {
  best: FaceMatch;
  /** Infinity with a single student enrolled. */
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
 * Nearest-student search over the roster's descriptors, kept in one flat Float32Array (rows of 128) so a match is a
 * single tight loop over contiguous memory. A student's distance is the mean over their photos: a look-alike close
 * to one photo of a student stays far from the others (measured: 2 of 68 strangers accepted with the nearest photo,
 * 0 with the mean, same genuine accepts; `npm run eval -- --enroll-photos 2`).
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
    const students = this.rollNos.length;
    if (students === 0) return undefined;
    const sums = new Float64Array(students);
    const counts = new Int32Array(students);
    const matrix = this.descriptors;
    for (let row = 0, offset = 0; row < this.studentOfRow.length; row++, offset += DESCRIPTOR_LENGTH) {
      let squared = 0;
      for (let i = 0; i < DESCRIPTOR_LENGTH; i++) {
        const difference = matrix[offset + i]! - descriptor[i]!;
        squared += difference * difference;
      }
      const student = this.studentOfRow[row]!;
      sums[student]! += Math.sqrt(squared);
      counts[student]! += 1;
    }
    let best = -1;
    let bestDistance = Number.POSITIVE_INFINITY;
    let runnerUpDistance = Number.POSITIVE_INFINITY;
    for (let student = 0; student < students; student++) {
      const distance = sums[student]! / counts[student]!;
      if (distance < bestDistance) {
        runnerUpDistance = bestDistance;
        bestDistance = distance;
        best = student;
      } else if (distance < runnerUpDistance) runnerUpDistance = distance;
    }
    return { best: { rollNo: this.rollNos[best]!, distance: bestDistance }, runnerUpDistance };
  }
}
