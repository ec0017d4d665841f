import type { RgbImage } from '../decode-image.ts';
import type { FaceBox } from '../face-engine.ts';

/** Where a square network input comes from: a region of the image, padded with black to a square. */
export interface SquareSource {
  image: RgbImage;
  /** The region (whole pixels inside the image). */
  region: FaceBox;
  /** face-api pads detector inputs at the bottom or right, and face crops equally on both sides. */
  padding: 'end' | 'centre';
}

/**
 * Writes one network input into `into` at `offset` as NCHW float32: the region padded to a square, resized to
 * `size` x `size` the way tfjs's `resizeBilinear` does without corner alignment or half-pixel centres (what face-api
 * calls), then each channel value mapped by `normalize`.
 */
export function writeSquareInput(
  { image, region, padding }: SquareSource,
  size: number,
  normalize: (value: number, channel: number) => number,
  into: Float32Array,
  offset: number,
): void {
  const { data, width } = image;
  const side = Math.max(region.width, region.height);
  const missing = side - Math.min(region.width, region.height);
  // padToSquare(..., centre): Math.round(half) after the image, the rest before it.
  const before = padding === 'centre' ? missing - Math.round(missing * 0.5) : 0;
  const left = region.x - (region.width < side ? before : 0);
  const top = region.y - (region.height < side ? before : 0);
  const plane = size * size;
  const scale = side / size;
  // Offsets into the image data of each sampled row and column of the padded square; -1 where it is black padding.
  const rowOffset = (y: number) => (y >= region.y - top && y < region.y - top + region.height ? (top + y) * width * 3 : -1);
  const columnOffset = (x: number) => (x >= region.x - left && x < region.x - left + region.width ? (left + x) * 3 : -1);
  const rows = Array.from({ length: size }, (_, r) => axisSample(r * scale, side, rowOffset));
  const columns = Array.from({ length: size }, (_, c) => axisSample(c * scale, side, columnOffset));
  const pixel = (row: number, column: number, c: number) => (row < 0 || column < 0 ? 0 : data[row + column + c]!);
  for (let r = 0; r < size; r++) {
    const row = rows[r]!;
    for (let col = 0; col < size; col++) {
      const column = columns[col]!;
      for (let c = 0; c < 3; c++) {
        const topLeft = pixel(row.low, column.low, c);
        const topRight = pixel(row.low, column.high, c);
        const bottomLeft = pixel(row.high, column.low, c);
        const bottomRight = pixel(row.high, column.high, c);
        const upper = topLeft + (topRight - topLeft) * column.fraction;
        const lower = bottomLeft + (bottomRight - bottomLeft) * column.fraction;
        into[offset + c * plane + r * size + col] = normalize(upper + (lower - upper) * row.fraction, c);
      }
    }
  }
}

/** Where the two source indices an output index samples between are, and the weight of the second. */
function axisSample(source: number, length: number, offsetOf: (index: number) => number): { low: number; high: number; fraction: number } {
  const low = Math.floor(source);
  return { low: offsetOf(low), high: offsetOf(Math.min(length - 1, Math.ceil(source))), fraction: source - low };
}
