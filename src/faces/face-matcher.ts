import { ContextSketch } from './context-sketch.ts';
import { decisionBound } from './decision-bound.ts';
import { CONTEXT_LENGTH, contextWeight, DESCRIPTOR_LENGTH, DLIB_LENGTH, dlibDistanceBound, fusedFromDot } from './face-descriptor.ts';
import { NearestTwo } from './nearest-two.ts';
import { RowScan } from './row-scan.ts';

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
  /** The nearest student of another class (`FaceMatcher`'s `otherClasses`), when there are any. */
  otherClassDistance?: number;
}

export interface MatchRule {
  /** Largest distance accepted as the same person. */
  threshold: number;
  /** How much closer the best student must be than every other student. */
  margin: number;
}

/**
 * The decision the service takes for one face: the best student, or nobody when too far, too close to call, or nearer
 * still to a student of another class.
 */
export function decide(ranking: Ranking | undefined, rule: MatchRule): FaceMatch | undefined {
  if (!ranking || ranking.best.distance >= rule.threshold) return undefined;
  if (ranking.otherClassDistance !== undefined && ranking.otherClassDistance <= ranking.best.distance) return undefined;
  return ranking.runnerUpDistance - ranking.best.distance >= rule.margin ? ranking.best : undefined;
}

// Below this many rows the sketch costs more to build than it saves.
const SKETCH_MIN_ROWS = 256;

/**
 * Nearest-student search over the roster's descriptors. A student's distance is the mean over their photos: a
 * look-alike close to one photo of a student stays far from the others (measured: 2 of 68 strangers accepted with the
 * nearest photo, 0 with the mean, same genuine accepts; `npm run eval -- --enroll-photos 2`).
 *
 * `otherClasses`: students enrolled elsewhere (a room's camera enrolls its class). They are never the answer, and a face
 * as near or nearer to one of them than to the best student is nobody's: a student of another class who resembles one
 * of this class is not taken for them. No margin is asked over them: the more people enrolled, the nearer the nearest
 * comes by chance, and a school's other classes would turn away the right students too.
 */
export class FaceMatcher {
  /** dlib's part of each row, scanned to pass over rows too far on it alone. */
  private readonly scan: RowScan;
  /** faceres's part of each row, row r at r * CONTEXT_LENGTH, and its length (its weight, face-descriptor.ts). */
  private readonly context: Float32Array;
  private readonly contextWeights: Float64Array;
  /** On a large roster: most rows within dlib's bound are far on faceres's part, and this tells so cheaply. */
  private readonly sketch: ContextSketch | undefined;
  private readonly studentOfRow: Int32Array;
  /** The rows of student s, in roster order, are rowsByStudent[firstOfStudent[s] .. firstOfStudent[s + 1]). */
  private readonly rowsByStudent: Int32Array;
  private readonly firstOfStudent: Int32Array;
  private readonly rollNos: string[] = [];
  private readonly otherClasses: FaceMatcher | undefined;

  constructor(
    enrolled: readonly EnrolledFace[],
    readonly rule: MatchRule,
    otherClasses: readonly EnrolledFace[] = [],
  ) {
    // Only their distances are used, never a decision of theirs: the rule is passed for the type's sake.
    this.otherClasses = otherClasses.length > 0 ? new FaceMatcher(otherClasses, rule) : undefined;
    const studentIndex = new Map<string, number>();
    this.scan = new RowScan(enrolled.length);
    this.context = new Float32Array(enrolled.length * CONTEXT_LENGTH);
    this.contextWeights = new Float64Array(enrolled.length);
    this.studentOfRow = new Int32Array(enrolled.length);
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
      this.scan.descriptors.set(face.descriptor.subarray(0, DLIB_LENGTH), row * DLIB_LENGTH);
      this.context.set(face.descriptor.subarray(DLIB_LENGTH), row * CONTEXT_LENGTH);
      this.contextWeights[row] = contextWeight(face.descriptor);
    });
    this.sketch = enrolled.length >= SKETCH_MIN_ROWS ? new ContextSketch(this.context, enrolled.length) : undefined;
    this.firstOfStudent = new Int32Array(this.rollNos.length + 1);
    for (const student of this.studentOfRow) this.firstOfStudent[student + 1]! += 1;
    for (let student = 0; student < this.rollNos.length; student++) this.firstOfStudent[student + 1]! += this.firstOfStudent[student]!;
    const next = this.firstOfStudent.slice(0, -1);
    this.rowsByStudent = new Int32Array(enrolled.length);
    this.studentOfRow.forEach((student, row) => {
      this.rowsByStudent[next[student]!++] = row;
    });
  }

  /** Students enrolled (each with one or more photos). */
  get size(): number {
    return this.rollNos.length;
  }

  /**
   * The best student if the match rule accepts them: the same answer as `decide(rank(…))`, faster. The scan passes
   * over every row beyond the decision bound (decision-bound.ts), which tightens as near students are found; the few
   * students it stops at get their exact distance, the same as in `rank`.
   */
  match(descriptor: Float32Array): FaceMatch | undefined {
    checkQuery(descriptor);
    const weight = contextWeight(descriptor);
    const rows = this.studentOfRow.length;
    const nearest = new NearestTwo();
    const measured = new Set<number>();
    this.scan.query.set(descriptor.subarray(0, DLIB_LENGTH));
    this.sketch?.setQuery(descriptor, DLIB_LENGTH);
    for (let row = 0; (row = this.scan.nextRowWithin(row, dlibDistanceBound(decisionBound(nearest, this.rule)))) < rows; row++) {
      const student = this.studentOfRow[row]!;
      if (measured.has(student) || this.beyond(row, descriptor, weight, decisionBound(nearest, this.rule))) continue;
      measured.add(student);
      nearest.offer(student, this.distance(student, descriptor, weight));
    }
    const accepted = decide(this.ranking(nearest), this.rule);
    // Only an accepted face is measured against the other classes: they can turn it away, never let one in.
    if (accepted && this.otherClasses?.anyWithin(descriptor, accepted.distance)) return undefined;
    return accepted;
  }

  rank(descriptor: Float32Array): Ranking | undefined {
    checkQuery(descriptor);
    const weight = contextWeight(descriptor);
    const nearest = new NearestTwo();
    for (let student = 0; student < this.rollNos.length; student++) nearest.offer(student, this.distance(student, descriptor, weight));
    const ranking = this.ranking(nearest);
    return ranking && this.otherClasses ? { ...ranking, otherClassDistance: this.otherClasses.nearestDistance(descriptor) } : ranking;
  }

  /**
   * Whether some student's mean distance to `descriptor` is `distance` or less: the same answer as
   * `nearestDistance(descriptor) <= distance`, from the few students the scan stops at (a student whose mean is within
   * the distance has a photo within it).
   */
  private anyWithin(descriptor: Float32Array, distance: number): boolean {
    const weight = contextWeight(descriptor);
    const rows = this.studentOfRow.length;
    const measured = new Set<number>();
    this.scan.query.set(descriptor.subarray(0, DLIB_LENGTH));
    this.sketch?.setQuery(descriptor, DLIB_LENGTH);
    for (let row = 0; (row = this.scan.nextRowWithin(row, dlibDistanceBound(distance))) < rows; row++) {
      const student = this.studentOfRow[row]!;
      if (measured.has(student) || this.beyond(row, descriptor, weight, distance)) continue;
      measured.add(student);
      if (this.distance(student, descriptor, weight) <= distance) return true;
    }
    return false;
  }

  private nearestDistance(descriptor: Float32Array): number {
    const weight = contextWeight(descriptor);
    let nearest = Infinity;
    for (let student = 0; student < this.rollNos.length; student++) nearest = Math.min(nearest, this.distance(student, descriptor, weight));
    return nearest;
  }

  private ranking(nearest: NearestTwo): Ranking | undefined {
    if (nearest.best === -1) return undefined;
    return { best: { rollNo: this.rollNos[nearest.best]!, distance: nearest.bestDistance }, runnerUpDistance: nearest.runnerUpDistance };
  }

  /**
   * Whether the row is certainly farther than `bound` from the query (set on the sketch): its exact dlib distance with
   * the sketch's bound on faceres's. A student passed over here is not measured; another photo of theirs may still be.
   */
  private beyond(row: number, query: Float32Array, queryWeight: number, bound: number): boolean {
    if (!this.sketch) return false;
    const nearest = fusedFromDot(Math.sqrt(this.squaredDlibDistance(row, query)), this.sketch.maxDot(row), this.contextWeights[row]!, queryWeight);
    return nearest > bound;
  }

  /** Mean distance (face-descriptor.ts) from the student's photos to `query`, whose faceres part weighs `queryWeight`. */
  private distance(student: number, query: Float32Array, queryWeight: number): number {
    const first = this.firstOfStudent[student]!;
    const end = this.firstOfStudent[student + 1]!;
    let sum = 0;
    for (let i = first; i < end; i++) {
      const row = this.rowsByStudent[i]!;
      sum += fusedFromDot(Math.sqrt(this.squaredDlibDistance(row, query)), this.contextDot(row, query), this.contextWeights[row]!, queryWeight);
    }
    return sum / (end - first);
  }

  // Summed in the order the matcher always has, so that distances (and eval's results) stay the same to the last bit.
  private squaredDlibDistance(row: number, query: Float32Array): number {
    const matrix = this.scan.descriptors;
    const offset = row * DLIB_LENGTH;
    let squared = 0;
    for (let block = 0; block < DLIB_LENGTH; block += 32) {
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
    }
    return squared;
  }

  private contextDot(row: number, query: Float32Array): number {
    const matrix = this.context;
    const offset = row * CONTEXT_LENGTH;
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    for (let i = 0; i < CONTEXT_LENGTH; i += 4) {
      a += matrix[offset + i]! * query[DLIB_LENGTH + i]!;
      b += matrix[offset + i + 1]! * query[DLIB_LENGTH + i + 1]!;
      c += matrix[offset + i + 2]! * query[DLIB_LENGTH + i + 2]!;
      d += matrix[offset + i + 3]! * query[DLIB_LENGTH + i + 3]!;
    }
    return a + b + c + d;
  }
}

function checkQuery(descriptor: Float32Array): void {
  if (descriptor.length !== DESCRIPTOR_LENGTH) throw new RangeError(`query descriptor has ${descriptor.length} values, expected ${DESCRIPTOR_LENGTH}`);
}
