import type { FaceBox } from '../faces/face-engine.ts';
import { FaceMatcher, type EnrolledFace, type MatchRule } from '../faces/face-matcher.ts';
import { FaceTracks } from '../recognition/worker/face-tracks.ts';

/** One person's photos, as the camera would see them one after another at one place. */
export interface PersonPhotos {
  person: string;
  /** Descriptors of the photos that enroll them (they are in the gallery). */
  enrolled: Float32Array[];
  /** Descriptors of their other photos that show a face, in order. */
  probes: Float32Array[];
}

export interface TrackMarks {
  rightMarks: number;
  wrongMarks: number;
  strangerMarks: number;
}

export interface TrackTrials {
  /** 3, or `minFrames` when that is more. */
  photosPerTrack: number;
  /** Each person's probes, `photosPerTrack` at a time (a last group of fewer counts too, if it has `minFrames` and two). */
  genuineTracks: number;
  /** Each person's photos, enrollment photos first, with that person left out of the roster: someone not enrolled. */
  strangerTracks: number;
  /** Frame votes alone: the same student winning `minFrames` frames of the track. */
  frameVotes: TrackMarks;
  /** The service's rule: frame votes, or the mean descriptor of `minFrames` or more frames. */
  votesOrMean: TrackMarks;
}

// Every photo of a trial at the same place, so that they make one track (and no frame of it is missed).
const PLACE: FaceBox = { x: 100, y: 100, width: 100, height: 100 };

/**
 * Students seen in a few different photos each, one after another at one place, as an end-to-end check may show them:
 * the camera path's FaceTracks decides on them frame by frame and on their mean descriptor.
 */
export function trackTrials(gallery: readonly EnrolledFace[], people: readonly PersonPhotos[], rule: MatchRule, minFrames: number): TrackTrials {
  const photosPerTrack = Math.max(3, minFrames);
  const fewest = Math.max(2, minFrames);
  const roster = new FaceMatcher(gallery, rule);
  const frameVotes: TrackMarks = { rightMarks: 0, wrongMarks: 0, strangerMarks: 0 };
  const votesOrMean: TrackMarks = { rightMarks: 0, wrongMarks: 0, strangerMarks: 0 };
  let genuineTracks = 0;
  let strangerTracks = 0;
  for (const { person, enrolled, probes } of people) {
    for (const track of groups(probes, photosPerTrack, fewest)) {
      genuineTracks += 1;
      count(frameVotes, person, markedByVotes(track, roster, minFrames));
      count(votesOrMean, person, markedByService(track, roster, minFrames));
    }
    const withoutThem = new FaceMatcher(gallery.filter((face) => face.rollNo !== person), rule);
    for (const track of groups([...enrolled, ...probes], photosPerTrack, fewest)) {
      strangerTracks += 1;
      if (markedByVotes(track, withoutThem, minFrames)) frameVotes.strangerMarks += 1;
      if (markedByService(track, withoutThem, minFrames)) votesOrMean.strangerMarks += 1;
    }
  }
  return { photosPerTrack, genuineTracks, strangerTracks, frameVotes, votesOrMean };
}

function groups(descriptors: readonly Float32Array[], size: number, fewest: number): Float32Array[][] {
  const result: Float32Array[][] = [];
  for (let i = 0; i < descriptors.length; i += size) result.push(descriptors.slice(i, i + size));
  return result.filter((group) => group.length >= fewest);
}

function count(marks: TrackMarks, person: string, marked: string | undefined): void {
  if (marked === person) marks.rightMarks += 1;
  else if (marked !== undefined) marks.wrongMarks += 1;
}

function markedByVotes(track: readonly Float32Array[], matcher: FaceMatcher, minFrames: number): string | undefined {
  const tracks = new FaceTracks({ minFrames, maxGapFrames: 0 });
  for (const descriptor of track) {
    const [confirmed] = tracks.observe([{ box: PLACE, match: matcher.match(descriptor) }]);
    if (confirmed) return confirmed.rollNo;
  }
  return undefined;
}

function markedByService(track: readonly Float32Array[], matcher: FaceMatcher, minFrames: number): string | undefined {
  const tracks = new FaceTracks({ minFrames, maxGapFrames: 0 });
  for (const descriptor of track) {
    const [followed] = tracks.follow([PLACE]);
    const { confirmed } = tracks.judge(followed!, descriptor, matcher);
    if (confirmed) return confirmed.rollNo;
  }
  return undefined;
}
