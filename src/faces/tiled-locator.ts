import { boxOverlap } from './box-overlap.ts';
import type { RgbImage } from './decode-image.ts';
import type { FaceBox, FaceEngine } from './face-engine.ts';

/**
 * Side of the square tiles a large frame is cut into for the cheap detector. It looks at 416 px: a whole 1280x720
 * frame shrinks a 50 px face under what it can see (measured on composed classrooms: 1 of 24 and 0 of 40 faces
 * found on the whole frame, 23 of 24 and 38 of 40 in 480 px tiles).
 */
export const TILE_SIDE = 480;
/** Neighbouring tiles share this share of their side, so a face cut by one tile's edge is whole in the next. */
const TILE_OVERLAP = 0.25;
/** Two boxes overlapping this much, or one holding the other's centre, are the same face seen from two tiles. */
const SAME_FACE_OVERLAP = 0.3;

/** Tile origins along one side: evenly spread, the last one flush with the edge. */
function origins(length: number): number[] {
  if (length <= TILE_SIDE) return [0];
  const step = TILE_SIDE * (1 - TILE_OVERLAP);
  const count = Math.ceil((length - TILE_SIDE) / step) + 1;
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - TILE_SIDE)) / (count - 1)));
}

function crop(image: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const start = ((top + row) * image.width + left) * 3;
    data.set(image.data.subarray(start, start + width * 3), row * width * 3);
  }
  return { data, width, height };
}

const centreInside = (inner: FaceBox, outer: FaceBox) => {
  const x = inner.x + inner.width / 2;
  const y = inner.y + inner.height / 2;
  return x > outer.x && x < outer.x + outer.width && y > outer.y && y < outer.y + outer.height;
};

/**
 * Every face the cheap detector finds in the frame. A frame that fits in about one tile (a 640x480 door camera) is
 * searched whole, as before; a larger one (a classroom at 1280x720 or 1920x1080) in overlapping tiles at full
 * resolution, keeping the largest box of each face found in several tiles (a face cut by a tile's edge gives a part
 * box there and a whole one in its neighbour).
 */
export async function locateFacesInTiles(engine: FaceEngine, image: RgbImage): Promise<FaceBox[]> {
  if (Math.max(image.width, image.height) <= TILE_SIDE / (1 - TILE_OVERLAP)) return engine.locateFaces(image);
  const found: FaceBox[] = [];
  for (const top of origins(image.height)) {
    for (const left of origins(image.width)) {
      const width = Math.min(TILE_SIDE, image.width - left);
      const height = Math.min(TILE_SIDE, image.height - top);
      for (const box of await engine.locateFaces(crop(image, left, top, width, height))) {
        found.push({ ...box, x: box.x + left, y: box.y + top });
      }
    }
  }
  return mergeSameFaces(found);
}

/** One box per face among boxes found in overlapping searches: the largest of those that are the same face. */
export function mergeSameFaces(boxes: readonly FaceBox[]): FaceBox[] {
  const kept: FaceBox[] = [];
  for (const box of [...boxes].sort((a, b) => b.width * b.height - a.width * a.height)) {
    const seen = kept.some((other) => boxOverlap(box, other) > SAME_FACE_OVERLAP || centreInside(box, other) || centreInside(other, box));
    if (!seen) kept.push(box);
  }
  return kept;
}
