import sharp, { type OverlayOptions } from 'sharp';
import type { FaceBox } from '../faces/face-engine.ts';

/** Someone in a seat: their face photo, where the face is in it (its own pixels), and who they are (undefined for a stranger). */
export interface Occupant {
  photo: Uint8Array;
  face: FaceBox;
  person?: string;
}

export interface SeatedFace {
  person?: string;
  /** The face in frame pixels. */
  box: FaceBox;
  /** The share of the face not covered by the people pasted in front of it (rows nearer the camera). */
  visible: number;
}

export interface ClassroomLayout {
  width: number;
  height: number;
  rows: number;
  columns: number;
  /** Face width in the back row and in the front row, in frame pixels; rows between are interpolated. */
  backFaceWidth: number;
  frontFaceWidth: number;
}

export const CLASSROOM_24: ClassroomLayout = { width: 1280, height: 720, rows: 4, columns: 6, backFaceWidth: 58, frontFaceWidth: 80 };
export const CLASSROOM_40: ClassroomLayout = { width: 1280, height: 720, rows: 5, columns: 8, backFaceWidth: 42, frontFaceWidth: 60 };
/** The 40-seat class from a 1920x1080 camera: the same room, faces 1.5 times as wide. */
export const CLASSROOM_40_1080P: ClassroomLayout = { width: 1920, height: 1080, rows: 5, columns: 8, backFaceWidth: 63, frontFaceWidth: 90 };

/**
 * A face box from a photo decoded at `decoded` size (find-faces scales large photos down before detection), in the
 * pixels of the photo itself, which is where composeClassroom cuts the seat from.
 */
export async function faceInPhoto(photo: Uint8Array, decoded: { width: number; height: number }, box: FaceBox): Promise<FaceBox> {
  const { autoOrient } = await sharp(photo).metadata();
  const scale = Math.max(autoOrient.width, autoOrient.height) / Math.max(decoded.width, decoded.height);
  return { x: box.x * scale, y: box.y * scale, width: box.width * scale, height: box.height * scale };
}

/** Head and shoulders around a face box, as shares of the box: what a seated person shows a camera in front. */
const HEAD = { side: 0.55, above: 0.7, below: 1.1 };

/**
 * A frame of a seated class: each occupant's head and shoulders cut from their photo, scaled so their face has the
 * width of their row, pasted onto `background` (back rows first, so front rows may cover them a little), with where
 * each face ended up. `jitter` moves every person by up to that many pixels, as people shift between frames.
 */
export async function composeClassroom(
  background: Uint8Array,
  occupants: readonly Occupant[],
  layout: ClassroomLayout,
  jitter = 0,
  seed = 1,
): Promise<{ jpeg: Buffer; faces: SeatedFace[] }> {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const cellWidth = layout.width / layout.columns;
  const top = layout.height * 0.12;
  const rowHeight = (layout.height * 0.82) / layout.rows;
  const layers: OverlayOptions[] = [];
  const cuts: FaceBox[] = [];
  const placed: Omit<SeatedFace, 'visible'>[] = [];
  for (let seat = 0; seat < Math.min(occupants.length, layout.rows * layout.columns); seat++) {
    const occupant = occupants[seat]!;
    const row = Math.floor(seat / layout.columns);
    const column = seat % layout.columns;
    const depth = layout.rows === 1 ? 1 : row / (layout.rows - 1);
    const faceWidth = layout.backFaceWidth + depth * (layout.frontFaceWidth - layout.backFaceWidth);
    const scale = faceWidth / occupant.face.width;
    const source = await sharp(occupant.photo).rotate().metadata();
    const region = clip(
      {
        x: occupant.face.x - HEAD.side * occupant.face.width,
        y: occupant.face.y - HEAD.above * occupant.face.height,
        width: occupant.face.width * (1 + 2 * HEAD.side),
        height: occupant.face.height * (1 + HEAD.above + HEAD.below),
      },
      source.autoOrient?.width ?? source.width!,
      source.autoOrient?.height ?? source.height!,
    );
    const width = Math.max(1, Math.round(region.width * scale));
    const height = Math.max(1, Math.round(region.height * scale));
    const cut = await sharp(occupant.photo).rotate().extract(region).resize({ width, height, fit: 'fill' }).toBuffer();
    const faceInCut = { x: (occupant.face.x - region.left) * scale, y: (occupant.face.y - region.top) * scale };
    const centreX = (column + 0.5) * cellWidth + random() * jitter;
    const faceTop = top + row * rowHeight + random() * jitter;
    const left = Math.round(Math.min(layout.width - width, Math.max(0, centreX - faceInCut.x - faceWidth / 2)));
    const cutTop = Math.round(Math.min(layout.height - height, Math.max(0, faceTop - faceInCut.y)));
    layers.push({ input: cut, left, top: cutTop });
    cuts.push({ x: left, y: cutTop, width, height });
    placed.push({
      person: occupant.person,
      box: { x: left + faceInCut.x, y: cutTop + faceInCut.y, width: occupant.face.width * scale, height: occupant.face.height * scale },
    });
  }
  // Later layers are pasted over earlier ones: each face is covered only by the people placed after it.
  const faces: SeatedFace[] = placed.map((face, seat) => ({ ...face, visible: visibleShare(face.box, cuts.slice(seat + 1)) }));
  const jpeg = await sharp(background)
    .resize({ width: layout.width, height: layout.height, fit: 'cover' })
    .composite(layers)
    .jpeg({ quality: 88 })
    .toBuffer();
  return { jpeg, faces };
}

/** The share of `face` outside every one of `covers`, sampled on a 10x10 grid. */
function visibleShare(face: FaceBox, covers: readonly FaceBox[]): number {
  const inside = (x: number, y: number, box: FaceBox) => x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height;
  let seen = 0;
  for (let i = 0; i < 10; i++) {
    for (let j = 0; j < 10; j++) {
      const x = face.x + ((i + 0.5) * face.width) / 10;
      const y = face.y + ((j + 0.5) * face.height) / 10;
      if (!covers.some((cover) => inside(x, y, cover))) seen += 1;
    }
  }
  return seen / 100;
}

function clip(box: FaceBox, width: number, height: number): { left: number; top: number; width: number; height: number } {
  const left = Math.max(0, Math.round(box.x));
  const top = Math.max(0, Math.round(box.y));
  return {
    left,
    top,
    width: Math.max(1, Math.min(width, Math.round(box.x + box.width)) - left),
    height: Math.max(1, Math.min(height, Math.round(box.y + box.height)) - top),
  };
}

/** Face size bands the classroom numbers are reported in (face width in frame pixels). */
export const SIZE_BANDS = [
  { name: 'under 48 px', below: 48 },
  { name: '48 to 80 px', below: 80 },
  { name: 'over 80 px', below: Infinity },
] as const;

export function sizeBand(box: FaceBox): (typeof SIZE_BANDS)[number]['name'] {
  return SIZE_BANDS.find((band) => box.width < band.below)!.name;
}

/** The seated face a detected box is, if any: the one whose centre it contains, nearest its own centre. */
export function seatOf(faces: readonly SeatedFace[], box: FaceBox): number | undefined {
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  let best: { index: number; distance: number } | undefined;
  faces.forEach((face, index) => {
    const fx = face.box.x + face.box.width / 2;
    const fy = face.box.y + face.box.height / 2;
    const inside = Math.abs(fx - cx) < box.width / 2 && Math.abs(fy - cy) < box.height / 2;
    const distance = Math.hypot(fx - cx, fy - cy);
    if (inside && distance < face.box.width && (!best || distance < best.distance)) best = { index, distance };
  });
  return best?.index;
}
