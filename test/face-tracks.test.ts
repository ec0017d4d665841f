import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { DescriptorMean } from '../src/faces/descriptor-mean.ts';
import { fusedDistance } from '../src/faces/face-descriptor.ts';
import { FaceMatcher } from '../src/faces/face-matcher.ts';
import { enrollmentFace, findPortraitFaces } from '../src/faces/find-faces.ts';
import { FaceTracks } from '../src/recognition/worker/face-tracks.ts';
import { fusedDescriptor } from './helpers/descriptors.ts';
import { FIXTURES } from './helpers/photo-server.ts';

const at = (x: number) => ({ x, y: 100, width: 80, height: 80 });
const as = (rollNo: string) => ({ rollNo, distance: 0.4 });

test('a student is marked once they win the set number of frames of one face track, and only once', () => {
  const tracks = new FaceTracks({ minFrames: 2, maxGapFrames: 1 });
  assert.deepEqual(tracks.observe([{ box: at(100), match: as('A') }]), [], 'one frame is not enough');
  assert.deepEqual(tracks.observe([{ box: at(106), match: as('A') }]), [as('A')]);
  assert.deepEqual(tracks.observe([{ box: at(112), match: as('A') }]), [], 'already confirmed on this track');
});

test('one matching frame each for faces at different places marks nobody', () => {
  const tracks = new FaceTracks({ minFrames: 2, maxGapFrames: 1 });
  assert.deepEqual(tracks.observe([{ box: at(100), match: as('A') }]), []);
  assert.deepEqual(tracks.observe([{ box: at(400), match: as('A') }]), [], 'a face elsewhere is another track');
});

test('on a track that flips between students, a student needs more wins than all the others together', () => {
  const tracks = new FaceTracks({ minFrames: 2, maxGapFrames: 1 });
  for (const rollNo of ['A', 'B', 'C']) assert.deepEqual(tracks.observe([{ box: at(100), match: as(rollNo) }]), []);
  assert.deepEqual(tracks.observe([{ box: at(100), match: as('A') }]), [], 'A has 2 wins, B and C 2 together');
  assert.deepEqual(tracks.observe([{ box: at(100), match: as('A') }]), [as('A')]);
});

test('a track survives missed frames up to the gap, not beyond', () => {
  const tracks = new FaceTracks({ minFrames: 2, maxGapFrames: 1 });
  tracks.observe([{ box: at(100), match: as('A') }]);
  tracks.observe([]);
  assert.deepEqual(tracks.observe([{ box: at(100), match: as('A') }]), [as('A')], 'one frame missed');
  const strict = new FaceTracks({ minFrames: 2, maxGapFrames: 1 });
  strict.observe([{ box: at(100), match: as('A') }]);
  strict.observe([]);
  strict.observe([]);
  assert.deepEqual(strict.observe([{ box: at(100), match: as('A') }]), [], 'two frames missed: a new track');
});

// The service's defaults (MATCH_THRESHOLD, MATCH_MARGIN).
const DEFAULT_RULE = { threshold: 0.5, margin: 0.1 };

/** Follows one face at one place through the descriptors given, as the camera path does; returns who it marked. */
function markedOnOneTrack(descriptors: readonly Float32Array[], matcher: FaceMatcher): string | undefined {
  const tracks = new FaceTracks({ minFrames: 2, maxGapFrames: 1 });
  for (const descriptor of descriptors) {
    const [track] = tracks.follow([at(100)]);
    const { confirmed } = tracks.judge(track!, descriptor, matcher);
    if (confirmed) return confirmed.rollNo;
  }
  return undefined;
}

test('a student seen in two photos, only one of them close enough on its own, is marked on their mean descriptor', async () => {
  const engine = await loadFaceEngine(path.resolve(import.meta.dirname, '../models'), 'auto');
  const describe = async (name: string) => enrollmentFace(await findPortraitFaces(await readFile(path.join(FIXTURES, name)), engine)).face.descriptor;
  const [rick, daryl, obama] = await Promise.all(['photos/rick.jpg', 'photos/daryl-1.jpg', 'photos/obama.jpg'].map(describe));
  // 0.445 and 0.533 from rick.jpg fused (0.49 and 0.57 on dlib's part): one frame vote, not the two the rule asks for;
  // their mean is 0.408 from it.
  const frames = await Promise.all(['frames/09-rick.jpg', 'photos/rick-1.jpg'].map(describe));
  const roster = [
    { rollNo: 'rick', descriptor: rick! },
    { rollNo: 'daryl', descriptor: daryl! },
    { rollNo: 'obama', descriptor: obama! },
  ];
  const byVotes = new FaceTracks({ minFrames: 2, maxGapFrames: 1 });
  const matcher = new FaceMatcher(roster, DEFAULT_RULE);
  assert.deepEqual(frames.flatMap((frame) => byVotes.observe([{ box: at(100), match: matcher.match(frame) }])), [], 'frame votes alone miss him');
  assert.equal(markedOnOneTrack(frames, matcher), 'rick');
  assert.equal(markedOnOneTrack(frames, new FaceMatcher(roster.slice(1), DEFAULT_RULE)), undefined, 'not enrolled, he is nobody else');
});

/** A's and B's photos: at dlib's axes 0 and 1, with faceres's directions at its axes 0 and 9. */
const CONTEXT_A = [1];
const CONTEXT_B = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const A = fusedDescriptor([1], CONTEXT_A);
const B = fusedDescriptor([0, 1], CONTEXT_B);
const rosterOfTwo = () => new FaceMatcher([{ rollNo: 'A', descriptor: A }, { rollNo: 'B', descriptor: B }], DEFAULT_RULE);

test('the frames of two different people on one track are not averaged into a third', () => {
  // Two strangers 0.55 from A on dlib's part on either side of them, 1.1 apart, their faceres directions turned from
  // A's by a cosine distance of 0.4 either way: 0.54 from A fused, nobody. Their mean would be A's own descriptor.
  const one = fusedDescriptor([1, 0, 0.55], [0.6, 0.8]);
  const other = fusedDescriptor([1, 0, -0.55], [0.6, -0.8]);
  const matcher = rosterOfTwo();
  assert.deepEqual([one, other].map((frame) => matcher.match(frame)), [undefined, undefined]);
  assert.ok(Math.abs(matcher.rank(one)!.best.distance - fusedDistance(0.55, 0.4)) < 1e-6, 'about 0.54 from A');
  assert.deepEqual(matcher.match(fusedDescriptor([1], [0.6, 0])), { rollNo: 'A', distance: fusedDistance(0, 0) }, 'averaged, they would be A');
  assert.equal(markedOnOneTrack([one, other, one, other], rosterOfTwo()), undefined);
});

test("the mean of a track's frames never marks a student against frames that matched someone else", () => {
  // Each 0.40 from A on dlib's part and turned 60° from A's faceres direction (cosine distance 0.5), in different
  // directions on both: 0.51 from A fused, no match. 0.37 apart on dlib's part, so averaged: their mean is 0.35 from A
  // on dlib's part and 0.37 on faceres's, 0.41 fused, enough on a track where nobody else won a frame.
  const nearA = (axis: number) => {
    const dlib = [1, 0, 0.3];
    dlib[axis] = 0.265;
    const context = [1];
    context[axis] = Math.sqrt(3);
    return fusedDescriptor(Array.from(dlib, (value) => value ?? 0), Array.from(context, (value) => value ?? 0));
  };
  const matcher = rosterOfTwo();
  for (const frame of [nearA(3), nearA(4)]) {
    assert.equal(matcher.match(frame), undefined);
    assert.ok(Math.abs(matcher.rank(frame)!.best.distance - fusedDistance(Math.hypot(0.3, 0.265), 0.5)) < 1e-6, 'about 0.51 from A');
  }
  const mean = new DescriptorMean();
  for (const frame of [nearA(3), nearA(4)]) mean.add(frame);
  assert.equal(mean.frames, 2);
  const meanDistance = matcher.rank(mean.mean())!.best.distance;
  assert.ok(Math.abs(meanDistance - 0.408) < 0.001, `their mean is about 0.41 from A (${meanDistance})`);
  assert.equal(markedOnOneTrack([nearA(3), nearA(4)], rosterOfTwo()), 'A');
  const nearB = fusedDescriptor([0, 1, 0, 0, 0, 0.2], CONTEXT_B);
  assert.equal(matcher.match(nearB)?.rollNo, 'B');
  assert.equal(markedOnOneTrack([nearB, nearA(3), nearA(4)], rosterOfTwo()), undefined, 'B won a frame, A none');
});

test('a confirmed track that another student takes over starts over, and marks them on their own frames', () => {
  const tracks = new FaceTracks({ minFrames: 2, maxGapFrames: 1 });
  const matcher = rosterOfTwo();
  const judged = (descriptor: Float32Array) => tracks.judge(tracks.follow([at(100)])[0]!, descriptor, matcher).confirmed?.rollNo;
  // 0.1 from A or B on dlib's part, with their faceres direction: 0.05 fused.
  const nearA = (axis: number) => fusedDescriptor(Array.from({ length: axis + 1 }, (_, i) => (i === 0 ? 1 : i === axis ? 0.1 : 0)), CONTEXT_A);
  const nearB = (axis: number) => fusedDescriptor(Array.from({ length: axis + 1 }, (_, i) => (i === 1 ? 1 : i === axis ? 0.1 : 0)), CONTEXT_B);
  assert.deepEqual([nearA(2), nearA(3)].map(judged), [undefined, 'A']);
  assert.equal(judged(nearA(4)), undefined, 'A again: already marked on this track');
  assert.deepEqual([nearB(2), nearB(3)].map(judged), [undefined, 'B'], "B's first frame restarts the track");
});
