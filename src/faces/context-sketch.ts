import { CONTEXT_LENGTH } from './face-descriptor.ts';

const DIRECTIONS = 16;
const SAMPLED_ROWS = 256;
const ITERATIONS = 3;
// Covers the rounding of the sums below (each under 2^-40 relative in double precision) many times over.
const SLACK = 1e-9;

/**
 * An upper bound on the dot product of a query's faceres part with each roster row's, from 16 directions most of the
 * roster's faceres descriptors lie near (found from a sample of them by block power iteration). With each row split
 * into its part along those directions and the rest, `a·q ≤ a′·q′ + |a − a′| |q − q′|` (Cauchy–Schwarz on the rest),
 * for any directions: the bound is always safe, and tight when the directions are good. It lets the matcher pass over
 * a row far on faceres's part in 16 multiplications instead of 1024.
 */
export class ContextSketch {
  private readonly basis: Float64Array;
  private readonly projections: Float64Array;
  private readonly rests: Float64Array;
  private readonly queryProjection = new Float64Array(DIRECTIONS);
  private queryRest = 0;

  /** `context`: the rows' faceres parts, row r at r * CONTEXT_LENGTH. */
  constructor(context: Float32Array, rows: number) {
    this.basis = principalDirections(context, rows);
    this.projections = new Float64Array(rows * DIRECTIONS);
    this.rests = new Float64Array(rows);
    for (let row = 0; row < rows; row++) {
      this.rests[row] = this.split(context, row * CONTEXT_LENGTH, this.projections, row * DIRECTIONS);
    }
  }

  /** Splits the query's faceres part (`descriptor` values from `offset` on) for the bounds that follow. */
  setQuery(descriptor: Float32Array, offset: number): void {
    this.queryRest = this.split(descriptor, offset, this.queryProjection, 0);
  }

  /** At least the dot product of row `row`'s faceres part with the query's. */
  maxDot(row: number): number {
    let dot = 0;
    const offset = row * DIRECTIONS;
    for (let k = 0; k < DIRECTIONS; k++) dot += this.projections[offset + k]! * this.queryProjection[k]!;
    return dot + this.rests[row]! * this.queryRest + SLACK;
  }

  /** Writes the vector's coordinates along the directions into `into` at `at`; returns the length of the rest. */
  private split(values: Float32Array, offset: number, into: Float64Array, at: number): number {
    let squared = 0;
    for (let i = 0; i < CONTEXT_LENGTH; i++) squared += values[offset + i]! * values[offset + i]!;
    let along = 0;
    for (let k = 0; k < DIRECTIONS; k++) {
      let coordinate = 0;
      const direction = k * CONTEXT_LENGTH;
      for (let i = 0; i < CONTEXT_LENGTH; i++) coordinate += this.basis[direction + i]! * values[offset + i]!;
      into[at + k] = coordinate;
      along += coordinate * coordinate;
    }
    return Math.sqrt(Math.max(0, squared - along) + SLACK);
  }
}

/** DIRECTIONS orthonormal directions (row after row) spanning most of a sample of the rows. */
function principalDirections(context: Float32Array, rows: number): Float64Array {
  const step = Math.max(1, Math.floor(rows / SAMPLED_ROWS));
  const sample: number[] = [];
  for (let row = 0; row < rows && sample.length < SAMPLED_ROWS; row += step) sample.push(row * CONTEXT_LENGTH);
  // A fixed start, so that a roster always gets the same directions.
  let seed = 12345;
  const basis = Float64Array.from({ length: DIRECTIONS * CONTEXT_LENGTH }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
  orthonormalize(basis);
  const scores = new Float64Array(sample.length * DIRECTIONS);
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    sample.forEach((offset, s) => {
      for (let k = 0; k < DIRECTIONS; k++) {
        let score = 0;
        for (let i = 0; i < CONTEXT_LENGTH; i++) score += context[offset + i]! * basis[k * CONTEXT_LENGTH + i]!;
        scores[s * DIRECTIONS + k] = score;
      }
    });
    basis.fill(0);
    sample.forEach((offset, s) => {
      for (let k = 0; k < DIRECTIONS; k++) {
        const score = scores[s * DIRECTIONS + k]!;
        for (let i = 0; i < CONTEXT_LENGTH; i++) basis[k * CONTEXT_LENGTH + i]! += score * context[offset + i]!;
      }
    });
    orthonormalize(basis);
  }
  return basis;
}

/** Modified Gram–Schmidt on the rows of `basis`; a row that vanishes is left at zero (it bounds nothing away). */
function orthonormalize(basis: Float64Array): void {
  for (let k = 0; k < DIRECTIONS; k++) {
    const row = k * CONTEXT_LENGTH;
    for (let j = 0; j < k; j++) {
      let dot = 0;
      for (let i = 0; i < CONTEXT_LENGTH; i++) dot += basis[row + i]! * basis[j * CONTEXT_LENGTH + i]!;
      for (let i = 0; i < CONTEXT_LENGTH; i++) basis[row + i]! -= dot * basis[j * CONTEXT_LENGTH + i]!;
    }
    let norm = 0;
    for (let i = 0; i < CONTEXT_LENGTH; i++) norm += basis[row + i]! ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < CONTEXT_LENGTH; i++) basis[row + i] = norm > 1e-12 ? basis[row + i]! / norm : 0;
  }
}
