import type { RgbImage } from '../decode-image.ts';
import type { FaceBox } from '../face-engine.ts';

/**
 * Where a face crop's input comes from: a region of the image, padded with black equally on both sides to a square,
 * as face-api pads face crops.
 */
interface SquareSource {
  image: RgbImage;
  /** The region (whole pixels inside the image). */
  region: FaceBox;
}

/** How pixel values become network inputs: `value * scale + offsets[channel]`, channels in RGB order. */
export interface ChannelScaling {
  scale: number;
  offsets: readonly [number, number, number];
}

/**
 * Writes one network input into `into` at `offset` as NCHW float32: the region padded to a square, resized to
 * `size` x `size` the way tfjs's `resizeBilinear` does without corner alignment or half-pixel centres (what face-api
 * calls), then each channel value scaled by `scaling`. Black padding is sampled as value 0, as face-api pads.
 * Runs for every face described, so the sampled rows and columns are worked out once and the loop reads them from
 * typed arrays. (The detectors' inputs are built the same way inside their graphs: `squareImageInput`.)
 */
export function writeSquareInput({ image, region }: SquareSource, size: number, scaling: ChannelScaling, into: Float32Array, offset: number): void {
  const { data, width } = image;
  const side = Math.max(region.width, region.height);
  const missing = side - Math.min(region.width, region.height);
  // padToSquare(..., centre): Math.round(half) after the image, the rest before it.
  const before = missing - Math.round(missing * 0.5);
  const left = region.x - (region.width < side ? before : 0);
  const top = region.y - (region.height < side ? before : 0);
  const scale = side / size;
  // Offsets into the image data of each sampled row and column of the padded square; -1 where it is black padding.
  const rows = axisSamples(size, scale, side, (y) => (y >= region.y - top && y < region.y - top + region.height ? (top + y) * width * 3 : -1));
  const columns = axisSamples(size, scale, side, (x) => (x >= region.x - left && x < region.x - left + region.width ? (left + x) * 3 : -1));
  const plane = size * size;
  const { scale: valueScale, offsets } = scaling;
  const [redOffset, greenOffset, blueOffset] = offsets;
  // Columns whose two samples are both inside the region: there the pixels are read without checking for padding.
  let firstInside = 0;
  while (firstInside < size && (columns.low[firstInside]! < 0 || columns.high[firstInside]! < 0)) firstInside++;
  let endInside = firstInside;
  while (endInside < size && columns.low[endInside]! >= 0 && columns.high[endInside]! >= 0) endInside++;
  const sample = (at: number, channel: number) => (at < 0 ? 0 : data[at + channel]!);
  for (let r = 0; r < size; r++) {
    const rowLow = rows.low[r]!;
    const rowHigh = rows.high[r]!;
    const rowFraction = rows.fraction[r]!;
    const rowStart = offset + r * size;
    const rowsInside = rowLow >= 0 && rowHigh >= 0;
    for (let col = 0; col < size; col++) {
      const columnLow = columns.low[col]!;
      const columnHigh = columns.high[col]!;
      const columnFraction = columns.fraction[col]!;
      const out = rowStart + col;
      if (rowsInside && col >= firstInside && col < endInside) {
        const topLeft = rowLow + columnLow;
        const topRight = rowLow + columnHigh;
        const bottomLeft = rowHigh + columnLow;
        const bottomRight = rowHigh + columnHigh;
        into[out] = bilinear(data[topLeft]!, data[topRight]!, data[bottomLeft]!, data[bottomRight]!, columnFraction, rowFraction) * valueScale + redOffset;
        into[out + plane] = bilinear(data[topLeft + 1]!, data[topRight + 1]!, data[bottomLeft + 1]!, data[bottomRight + 1]!, columnFraction, rowFraction) * valueScale + greenOffset;
        into[out + 2 * plane] = bilinear(data[topLeft + 2]!, data[topRight + 2]!, data[bottomLeft + 2]!, data[bottomRight + 2]!, columnFraction, rowFraction) * valueScale + blueOffset;
        continue;
      }
      const topLeft = rowLow < 0 || columnLow < 0 ? -1 : rowLow + columnLow;
      const topRight = rowLow < 0 || columnHigh < 0 ? -1 : rowLow + columnHigh;
      const bottomLeft = rowHigh < 0 || columnLow < 0 ? -1 : rowHigh + columnLow;
      const bottomRight = rowHigh < 0 || columnHigh < 0 ? -1 : rowHigh + columnHigh;
      for (let c = 0; c < 3; c++) {
        const value = bilinear(sample(topLeft, c), sample(topRight, c), sample(bottomLeft, c), sample(bottomRight, c), columnFraction, rowFraction);
        into[out + c * plane] = value * valueScale + offsets[c]!;
      }
    }
  }
}

function bilinear(topLeft: number, topRight: number, bottomLeft: number, bottomRight: number, columnFraction: number, rowFraction: number): number {
  const upper = topLeft + (topRight - topLeft) * columnFraction;
  const lower = bottomLeft + (bottomRight - bottomLeft) * columnFraction;
  return upper + (lower - upper) * rowFraction;
}

/** For each output index: the offsets of the two source indices it samples between, and the weight of the second. */
function axisSamples(size: number, scale: number, length: number, offsetOf: (index: number) => number) {
  const low = new Int32Array(size);
  const high = new Int32Array(size);
  const fraction = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const source = i * scale;
    const lowIndex = Math.floor(source);
    low[i] = offsetOf(lowIndex);
    high[i] = offsetOf(Math.min(length - 1, Math.ceil(source)));
    fraction[i] = source - lowIndex;
  }
  return { low, high, fraction };
}
