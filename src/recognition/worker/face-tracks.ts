import { boxOverlap } from '../../faces/box-overlap.ts';
import type { FaceBox } from '../../faces/face-engine.ts';
import { DescriptorMean } from '../../faces/descriptor-mean.ts';
import type { FaceMatch, FaceMatcher } from '../../faces/face-matcher.ts';

/** A face in the current frame and who the matcher says it is, if anybody. */
export interface FrameFace {
  box: FaceBox;
  match: FaceMatch | undefined;
}

export interface TrackRule {
  /**
   * Frames of one track on which the same student must win before they are marked; also the frames whose mean
   * descriptor may mark a student none of them matched on its own.
   */
  minFrames: number;
  /** Frames a track may go unseen (a missed detection, a head turned) and still continue. */
  maxGapFrames: number;
}

/** One face followed across frames. */
export interface Track {
  box: FaceBox;
  lastFrame: number;
  wins: Map<string, number>;
  confirmed: boolean;
  /** The student the track was confirmed as. */
  student: string | undefined;
  /** The descriptors of its described frames since it (re)started, or since a frame unlike them (DescriptorMean). */
  evidence: DescriptorMean;
  /** For the frame recogniser: descriptors computed for this track, when (ms) and where the latest one was. */
  descriptions: number;
  describedAt: number;
  describedBox: FaceBox | undefined;
}

const MIN_OVERLAP = 0.3;

/**
 * Follows faces from frame to frame by where they are, and confirms a student only when the same student wins on
 * `minFrames` frames of one track and on more of its frames than everybody else together (one lucky frame of a
 * stranger, or a track that flips between two students, marks nobody), or when the mean descriptor of `minFrames` or
 * more of its frames matches them and its frames do not outvote them (a student seen from several angles, none close
 * enough on its own).
 */
export class FaceTracks {
  private tracks: Track[] = [];
  private frame = 0;

  constructor(private readonly rule: TrackRule) {}

  /** Tracks alive: faces in view plus those missed for at most `maxGapFrames` frames. */
  get size(): number {
    return this.tracks.length;
  }

  /** Feeds the faces of the next frame; returns the matches confirmed by it. */
  observe(faces: readonly FrameFace[]): FaceMatch[] {
    const tracks = this.follow(faces.map((face) => face.box));
    return faces.flatMap((face, f) => this.vote(tracks[f]!, face.match) ?? []);
  }

  /** Starts the next frame: the track each of its faces continues (or a new one), in the order of `boxes`. */
  follow(boxes: readonly FaceBox[]): Track[] {
    this.frame += 1;
    this.tracks = this.tracks.filter((track) => this.frame - track.lastFrame <= this.rule.maxGapFrames + 1);
    const pairs = boxes
      .flatMap((box, f) => this.tracks.map((track, t) => ({ f, t, iou: boxOverlap(box, track.box) })))
      .filter((pair) => pair.iou >= MIN_OVERLAP)
      .sort((a, b) => b.iou - a.iou);
    const trackOf = new Map<number, Track>();
    const taken = new Set<number>();
    for (const { f, t } of pairs) {
      if (trackOf.has(f) || taken.has(t)) continue;
      trackOf.set(f, this.tracks[t]!);
      taken.add(t);
    }
    return boxes.map((box, f) => {
      let track = trackOf.get(f);
      if (!track) {
        track = {
          box,
          lastFrame: this.frame,
          wins: new Map(),
          confirmed: false,
          student: undefined,
          evidence: new DescriptorMean(),
          descriptions: 0,
          describedAt: 0,
          describedBox: undefined,
        };
        this.tracks.push(track);
      }
      track.box = box;
      track.lastFrame = this.frame;
      return track;
    });
  }

  /**
   * Judges a track's face in this frame by its descriptor: its own match counts as a vote and the descriptor joins the
   * track's mean. Returns the frame's own match, and the match confirmed by it, if any.
   */
  judge(track: Track, descriptor: Float32Array, matcher: FaceMatcher): { match: FaceMatch | undefined; confirmed: FaceMatch | undefined } {
    const match = matcher.match(descriptor);
    if (track.confirmed && match && match.rollNo !== track.student) this.restart(track);
    if (track.confirmed) return { match, confirmed: undefined };
    track.evidence.add(descriptor);
    return { match, confirmed: this.vote(track, match) ?? this.confirmOnMean(track, matcher) };
  }

  /** Counts the matcher's verdict on a track's face in this frame; returns the match if it confirms the track. */
  vote(track: Track, match: FaceMatch | undefined): FaceMatch | undefined {
    if (!match || track.confirmed) return undefined;
    const wins = (track.wins.get(match.rollNo) ?? 0) + 1;
    track.wins.set(match.rollNo, wins);
    if (wins < this.rule.minFrames || wins <= winsAgainst(track, match.rollNo)) return undefined;
    return this.confirm(track, match);
  }

  /** Another person has taken a track's place (a different student matched): the track starts over, votes and all. */
  private restart(track: Track): void {
    track.wins.clear();
    track.evidence.clear();
    track.confirmed = false;
    track.student = undefined;
  }

  /** The mean may decide between frames that matched nobody, never against frames that matched someone else. */
  private confirmOnMean(track: Track, matcher: FaceMatcher): FaceMatch | undefined {
    if (track.evidence.frames < this.rule.minFrames) return undefined;
    const match = matcher.match(track.evidence.mean());
    if (!match) return undefined;
    return (track.wins.get(match.rollNo) ?? 0) >= winsAgainst(track, match.rollNo) ? this.confirm(track, match) : undefined;
  }

  private confirm(track: Track, match: FaceMatch): FaceMatch {
    track.confirmed = true;
    track.student = match.rollNo;
    return match;
  }
}

/** The frames of a track won by students other than `rollNo`. */
function winsAgainst(track: Track, rollNo: string): number {
  let others = 0;
  for (const [student, wins] of track.wins) if (student !== rollNo) others += wins;
  return others;
}
