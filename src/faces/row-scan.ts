import { readFileSync } from 'node:fs';

// Rows of 128 f32, as row-scan.wat lays them out.
const ROW_VALUES = 128;
const ROW_BYTES = ROW_VALUES * 4;
const PAGE_BYTES = 65_536;
// Compiled once per process; each roster gets its own instance over its own memory.
const kernel = new WebAssembly.Module(readFileSync(new URL('./row-scan.wasm', import.meta.url)));

/** The first row in [row, end) whose f32 squared distance to the query stays within `limit`, or `end`. */
type NextRowWithin = (row: number, end: number, limit: number) => number;

/**
 * The roster's descriptors in WebAssembly memory (row-scan.wat), scanned with SIMD for rows that may lie within some
 * distance of a query. The scan only narrows the search: distances that decide anything are computed from
 * `descriptors` in double precision by the caller.
 */
export class RowScan {
  /** Where the query goes before a scan. */
  readonly query: Float32Array;
  /** Row r at r * 128. */
  readonly descriptors: Float32Array;
  private readonly rows: number;
  private readonly nextRowWithinSquared: NextRowWithin;

  constructor(rows: number) {
    const memory = new WebAssembly.Memory({ initial: Math.ceil(((rows + 1) * ROW_BYTES) / PAGE_BYTES) });
    const exports = new WebAssembly.Instance(kernel, { env: { memory } }).exports as { nextRowWithin: NextRowWithin };
    this.nextRowWithinSquared = exports.nextRowWithin;
    this.query = new Float32Array(memory.buffer, 0, ROW_VALUES);
    this.descriptors = new Float32Array(memory.buffer, ROW_BYTES, rows * ROW_VALUES);
    this.rows = rows;
  }

  /**
   * The first row from `row` on that may be within `distance` of the query, or the number of rows if none is. No row
   * within `distance` is passed over; a row a hair beyond it may be returned.
   *
   * The kernel sums in f32: each partial sum is within about 130 roundings of 2^-24, under 2^-17 relative, of the
   * exact sum of its terms. A row is passed over only when a partial sum exceeds distance² by 2^-12 relative (which
   * also absorbs rounding the limit to f32), so its exact squared distance, and the double-precision one the caller
   * computes, is beyond distance² too. Where values are subnormal in f32, rounding is absolute instead (at most 2^-150
   * a step): the 2^-140 covers that.
   */
  nextRowWithin(row: number, distance: number): number {
    return this.nextRowWithinSquared(row, this.rows, distance * distance * (1 + 2 ** -12) + 2 ** -140);
  }
}
