import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaceTracks } from '../src/recognition/worker/face-tracks.ts';

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
