import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { DESCRIPTOR_LENGTH } from '../src/faces/face-descriptor.ts';
import { FaceMatcher } from '../src/faces/face-matcher.ts';
import { enrollmentFace, findPortraitFaces } from '../src/faces/find-faces.ts';
import { FaceTracks } from '../src/recognition/worker/face-tracks.ts';
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

const DEFAULT_RULE = { threshold: 0.5, margin: 0.15 };

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
  // 0.49 and 0.57 from rick.jpg: one frame vote, not the two the rule asks for; their mean is 0.46 from it.
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

const unit = (axis: number, length: number) => Float32Array.from({ length: DESCRIPTOR_LENGTH }, (_, i) => (i === axis ? length : 0));
const plus = (...vectors: Float32Array[]) => vectors.reduce((sum, vector) => sum.map((value, i) => value + vector[i]!));
const A = unit(0, 1);
const B = unit(1, 1);
const rosterOfTwo = () => new FaceMatcher([{ rollNo: 'A', descriptor: A }, { rollNo: 'B', descriptor: B }], DEFAULT_RULE);

test('the frames of two different people on one track are not averaged into a third', () => {
  // Two strangers 0.55 from A on either side of them, 1.1 apart: their mean is A's own descriptor.
  const one = plus(A, unit(2, 0.55));
  const other = plus(A, unit(2, -0.55));
  assert.equal(markedOnOneTrack([one, other, one, other], rosterOfTwo()), undefined);
});

test("the mean of a track's frames never marks a student against frames that matched someone else", () => {
  // 0.52 from A each (no match), 0.49 apart, their mean 0.46 from A: enough on a track where nobody else won a frame.
  const nearA = (axis: number) => plus(A, unit(2, 0.3846), unit(axis, 0.35));
  assert.equal(markedOnOneTrack([nearA(3), nearA(4)], rosterOfTwo()), 'A');
  assert.equal(markedOnOneTrack([plus(B, unit(5, 0.2)), nearA(3), nearA(4)], rosterOfTwo()), undefined, 'B won a frame, A none');
});

test('a confirmed track that another student takes over starts over, and marks them on their own frames', () => {
  const tracks = new FaceTracks({ minFrames: 2, maxGapFrames: 1 });
  const matcher = rosterOfTwo();
  const judged = (descriptor: Float32Array) => tracks.judge(tracks.follow([at(100)])[0]!, descriptor, matcher).confirmed?.rollNo;
  assert.deepEqual([plus(A, unit(2, 0.1)), plus(A, unit(3, 0.1))].map(judged), [undefined, 'A']);
  assert.equal(judged(plus(A, unit(4, 0.1))), undefined, 'A again: already marked on this track');
  assert.deepEqual([plus(B, unit(2, 0.1)), plus(B, unit(3, 0.1))].map(judged), [undefined, 'B'], "B's first frame restarts the track");
});
