import { boxOverlap } from '../../faces/box-overlap.ts';
import type { RgbImage } from '../../faces/decode-image.ts';
import type { FaceEngine } from '../../faces/face-engine.ts';
import type { FaceMatch, FaceMatcher } from '../../faces/face-matcher.ts';
import { locateFacesInTiles } from '../../faces/tiled-locator.ts';
import type { FaceTracks, FrameFace, Track } from './face-tracks.ts';

/** A face nobody could be matched to is described again this often, in case it turned towards the camera. */
export const REDESCRIBE_MS = 1000;
/** A face whose box overlaps the box it was last described in by less than this may be someone else: described again. */
const SAME_PLACE_OVERLAP = 0.5;
/**
 * Descriptors computed for one frame at most, the faces waiting longest first: a class of 40 new faces is described
 * over a few frames instead of holding one frame for all of them, so tracks keep up and every face gets its turn.
 */
export const MAX_DESCRIPTIONS_PER_FRAME = 10;

export interface RecognizedFrame {
  faces: FrameFace[];
  /** Students confirmed by this frame. */
  confirmed: FaceMatch[];
}

/**
 * Recognises faces in a stream without recomputing what it knows. The cheap detector finds the faces of every
 * frame and FaceTracks follows them; a descriptor (landmarks, alignment, recognition network) is computed only for
 * a face whose student is not confirmed yet: on each of its first frames, enough for the track rule to decide, then
 * once every REDESCRIBE_MS. A confirmed face costs nothing more than being found, until its box moves away from where
 * it was described (someone else may have stepped into that place at a door): then it is described again, and a
 * different student there restarts the track.
 */
export class FrameRecognizer {
  private readonly lastMatch = new WeakMap<Track, FaceMatch | undefined>();
  private readonly eagerDescriptions: number;

  constructor(
    private readonly engine: FaceEngine,
    private readonly matcher: FaceMatcher,
    private readonly tracks: FaceTracks,
    minFrames: number,
  ) {
    // Every frame of a new face is described until frame votes could have decided (minFrames wins outnumbering the
    // rest); the mean of those frames needs no more of them.
    this.eagerDescriptions = 2 * minFrames + 1;
  }

  async recognize(image: RgbImage, now: number): Promise<RecognizedFrame> {
    const boxes = await locateFacesInTiles(this.engine, image);
    const tracks = this.tracks.follow(boxes);
    const wanted = tracks
      .flatMap((track, i) => (this.needsDescriptor(track, now) ? [i] : []))
      .sort((a, b) => tracks[a]!.describedAt - tracks[b]!.describedAt)
      .slice(0, MAX_DESCRIPTIONS_PER_FRAME);
    const descriptors = await this.engine.describeFaces(image, wanted.map((i) => boxes[i]!));
    const confirmed: FaceMatch[] = [];
    wanted.forEach((i, d) => {
      const track = tracks[i]!;
      const { match, confirmed: confirmation } = this.tracks.judge(track, descriptors[d]!, this.matcher);
      track.descriptions += 1;
      track.describedAt = now;
      track.describedBox = track.box;
      this.lastMatch.set(track, match);
      if (confirmation) confirmed.push(confirmation);
    });
    const faces = boxes.map((box, i) => ({ box, match: this.lastMatch.get(tracks[i]!) }));
    return { faces, confirmed };
  }

  private needsDescriptor(track: Track, now: number): boolean {
    if (track.describedBox && boxOverlap(track.box, track.describedBox) < SAME_PLACE_OVERLAP) return true;
    if (track.confirmed) return false;
    return track.descriptions < this.eagerDescriptions || now - track.describedAt >= REDESCRIBE_MS;
  }
}
