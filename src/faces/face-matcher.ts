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

  /**
   * The best student if the match rule accepts them: the same answer as `decide(rank(…))`, faster. Only students
   * closer than threshold + margin can be accepted or stand in the way of another, so a photo's distance is abandoned
   * as soon as its partial sum passes that limit (most of the roster, after a fraction of the 128 values).
   */
  match(descriptor: Float32Array): FaceMatch | undefined {
    const students = this.rollNos.length;
    if (students === 0) return undefined;
    const limit = this.rule.threshold + this.rule.margin;
    const sums = new Float64Array(students);
    const counts = new Int32Array(students);
    const abandoned = new Uint8Array(students);
    for (let row = 0; row < this.studentOfRow.length; row++) {
      const student = this.studentOfRow[row]!;
      const squared = this.squaredDistance(row, descriptor, limit * limit);
      // An abandoned photo is at least `limit` away: that lower bound stands in for its distance.
      if (squared > limit * limit) {
        abandoned[student] = 1;
        sums[student]! += limit;
      } else sums[student]! += Math.sqrt(squared);
      counts[student]! += 1;
    }
    for (let student = 0; student < students; student++) {
      // With several photos a student may still average under the limit: only then is their exact mean needed.
      if (abandoned[student] && sums[student]! / counts[student]! < limit) sums[student] = this.exactSum(student, descriptor);
    }
    let best = -1;
    let bestDistance = Number.POSITIVE_INFINITY;
    let runnerUpDistance = Number.POSITIVE_INFINITY;
    for (let student = 0; student < students; student++) {
      const distance = sums[student]! / counts[student]!;
      if (distance >= limit) continue;
      if (distance < bestDistance) {
        runnerUpDistance = bestDistance;
        bestDistance = distance;
        best = student;
      } else if (distance < runnerUpDistance) runnerUpDistance = distance;
    }
    if (best === -1) return undefined;
    return decide({ best: { rollNo: this.rollNos[best]!, distance: bestDistance }, runnerUpDistance }, this.rule);
  }

  /** Squared distance from a row to `query`, or any value above `stopAbove` once the partial sum passes it. */
  private squaredDistance(row: number, query: Float32Array, stopAbove: number): number {
    const matrix = this.descriptors;
    const offset = row * DESCRIPTOR_LENGTH;
    let squared = 0;
    for (let block = 0; block < DESCRIPTOR_LENGTH; block += 32) {
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      for (let i = block; i < block + 32; i += 4) {
        const d0 = matrix[offset + i]! - query[i]!;
        const d1 = matrix[offset + i + 1]! - query[i + 1]!;
        const d2 = matrix[offset + i + 2]! - query[i + 2]!;
        const d3 = matrix[offset + i + 3]! - query[i + 3]!;
        a += d0 * d0;
        b += d1 * d1;
        c += d2 * d2;
        d += d3 * d3;
      }
      squared += a + b + c + d;
      if (squared > stopAbove) return squared;
    }
    return squared;
  }

  private exactSum(student: number, query: Float32Array): number {
    let sum = 0;
    for (let row = 0; row < this.studentOfRow.length; row++) {
      if (this.studentOfRow[row] === student) sum += Math.sqrt(this.squaredDistance(row, query, Number.POSITIVE_INFINITY));
    }
    return sum;
  }

  rank(descriptor: Float32Array): Ranking | undefined {
    const students = this.rollNos.length;
    if (students === 0) return undefined;
    const sums = new Float64Array(students);
    const counts = new Int32Array(students);
    for (let row = 0; row < this.studentOfRow.length; row++) {
      const student = this.studentOfRow[row]!;
      sums[student]! += Math.sqrt(this.squaredDistance(row, descriptor, Number.POSITIVE_INFINITY));
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
