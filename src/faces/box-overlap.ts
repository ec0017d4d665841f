import type { FaceBox } from './face-engine.ts';

/** A box by its edges. */
export interface Edges {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Intersection over union of two boxes: 0 when apart (or when either is empty), 1 for the same box. */
export function overlapOfEdges(a: Edges, b: Edges): number {
  const area = (box: Edges) => (box.right - box.left) * (box.bottom - box.top);
  if (area(a) <= 0 || area(b) <= 0) return 0;
  const intersection = Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  return intersection / (area(a) + area(b) - intersection);
}

export function boxOverlap(a: FaceBox, b: FaceBox): number {
  return overlapOfEdges(edgesOf(a), edgesOf(b));
}

function edgesOf(box: FaceBox): Edges {
  return { left: box.x, top: box.y, right: box.x + box.width, bottom: box.y + box.height };
}
