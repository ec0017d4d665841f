import type { RgbImage } from './decode-image.ts';

export interface Point {
  x: number;
  y: number;
}

/** A chip's side in pixels and the margin around dlib's mean face shape, as a share of that shape's side. */
export interface ChipLayout {
  size: number;
  padding: number;
}

/** The 150x150 chip with 25% padding dlib's recognition network was trained on. */
export const DLIB_CHIP: ChipLayout = { size: 150, padding: 0.25 };

// dlib's mean face shape (image_transforms/interpolation.h) for landmarks 17..67 of the 68-point layout, in a unit square.
const MEAN_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127, 0.490127,
  0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
  0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395,
  0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
  0.553364, 0.490127, 0.42689,
];
const MEAN_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352,
  0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
  0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405, 0.727388, 0.742578,
  0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
  0.784792, 0.824182, 0.831803, 0.824182,
];

// Like dlib's get_face_chip_details: eyebrows and lower lip move too much with expression to anchor on.
const ANCHORS = Array.from({ length: 68 }, (_, i) => i).filter((i) => i >= 27 && !(i >= 55 && i <= 59) && !(i >= 65 && i <= 67));

/** Chip pixel to image pixel: x' = a·x − b·y + tx, y' = b·x + a·y + ty. */
interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Where each chip pixel comes from in the image: the landmarks fitted onto dlib's mean face shape. */
function chipTransform(landmarks68: readonly Point[], { size, padding }: ChipLayout): Similarity {
  const from = ANCHORS.map((i) => ({
    x: ((padding + MEAN_X[i - 17]!) / (2 * padding + 1)) * size,
    y: ((padding + MEAN_Y[i - 17]!) / (2 * padding + 1)) * size,
  }));
  return fitSimilarity(from, ANCHORS.map((i) => landmarks68[i]!));
}

/**
 * The share of the chip that shows `content` (the photo itself, not the image's edge pixels repeated nor a border put
 * around it), sampled on a 16x16 grid.
 */
export function chipCoverage(landmarks68: readonly Point[], layout: ChipLayout, content: { x: number; y: number; width: number; height: number }): number {
  const t = chipTransform(landmarks68, layout);
  let inside = 0;
  for (let j = 0; j < 16; j++) {
    for (let i = 0; i < 16; i++) {
      const u = ((i + 0.5) * layout.size) / 16;
      const v = ((j + 0.5) * layout.size) / 16;
      const x = t.a * u - t.b * v + t.tx;
      const y = t.b * u + t.a * v + t.ty;
      if (x >= content.x && x < content.x + content.width && y >= content.y && y < content.y + content.height) inside += 1;
    }
  }
  return inside / 256;
}

/** Least-squares similarity transform taking `from` onto `to` (complex-number form of Umeyama without reflection). */
function fitSimilarity(from: Point[], to: Point[]): Similarity {
  const n = from.length;
  const fx = from.reduce((s, p) => s + p.x, 0) / n;
  const fy = from.reduce((s, p) => s + p.y, 0) / n;
  const tx = to.reduce((s, p) => s + p.x, 0) / n;
  const ty = to.reduce((s, p) => s + p.y, 0) / n;
  let re = 0;
  let im = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const px = from[i]!.x - fx;
    const py = from[i]!.y - fy;
    const qx = to[i]!.x - tx;
    const qy = to[i]!.y - ty;
    re += qx * px + qy * py;
    im += qy * px - qx * py;
    norm += px * px + py * py;
  }
  const a = re / norm;
  const b = im / norm;
  return { a, b, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

/**
 * A face chip as dlib cuts one (150x150 with 25% padding by default, what its recognition network was trained on): the
 * face rotated and scaled so its 68 landmarks sit on dlib's mean face shape. Each chip pixel averages the image area
 * it covers, so large faces are not aliased.
 */
export function extractFaceChip(image: RgbImage, landmarks68: readonly Point[], layout: ChipLayout = DLIB_CHIP): RgbImage {
  const { size } = layout;
  const t = chipTransform(landmarks68, layout);
  const scale = Math.hypot(t.a, t.b);
  const samples = Math.max(1, Math.min(8, Math.ceil(scale)));
  const chip = new Uint8Array(size * size * 3);
  const { data, width, height } = image;
  const area = samples * samples;
  // Runs for every face described (camera frames and enrollment photos): the three channels' sums are plain locals.
  for (let cy = 0; cy < size; cy++) {
    for (let cx = 0; cx < size; cx++) {
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const u = cx + (sx + 0.5) / samples - 0.5;
          const v = cy + (sy + 0.5) / samples - 0.5;
          const x = Math.min(width - 1, Math.max(0, t.a * u - t.b * v + t.tx));
          const y = Math.min(height - 1, Math.max(0, t.b * u + t.a * v + t.ty));
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          const x1 = Math.min(width - 1, x0 + 1);
          const y1 = Math.min(height - 1, y0 + 1);
          const wx = x - x0;
          const wy = y - y0;
          const topLeft = (y0 * width + x0) * 3;
          const topRight = (y0 * width + x1) * 3;
          const bottomLeft = (y1 * width + x0) * 3;
          const bottomRight = (y1 * width + x1) * 3;
          red += blend(data, topLeft, topRight, bottomLeft, bottomRight, wx, wy);
          green += blend(data, topLeft + 1, topRight + 1, bottomLeft + 1, bottomRight + 1, wx, wy);
          blue += blend(data, topLeft + 2, topRight + 2, bottomLeft + 2, bottomRight + 2, wx, wy);
        }
      }
      const offset = (cy * size + cx) * 3;
      chip[offset] = Math.round(red / area);
      chip[offset + 1] = Math.round(green / area);
      chip[offset + 2] = Math.round(blue / area);
    }
  }
  return { data: chip, width: size, height: size };
}

function blend(data: Uint8Array, topLeft: number, topRight: number, bottomLeft: number, bottomRight: number, wx: number, wy: number): number {
  const top = data[topLeft]! * (1 - wx) + data[topRight]! * wx;
  const bottom = data[bottomLeft]! * (1 - wx) + data[bottomRight]! * wx;
  return top * (1 - wy) + bottom * wy;
}
