import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseRule, crossValidate } from '../src/evaluation/cross-validation.ts';
import { assignFolds } from '../src/evaluation/stable-folds.ts';
import type { RankedProbe } from '../src/evaluation/open-set.ts';

function genuine(path: string, person: string, distance: number): RankedProbe {
  return { path, person, ranking: { best: { rollNo: person, distance }, runnerUpDistance: 0.9 }, ownDistance: distance };
}
function stranger(path: string, distance: number): RankedProbe {
  return { path, ranking: { best: { rollNo: 'someone', distance }, runnerUpDistance: 0.9 } };
}

test('folds are dealt evenly and the same way on every run', () => {
  const keys = Array.from({ length: 23 }, (_, i) => `person-${i}`);
  const first = assignFolds(keys, 5);
  assert.deepEqual(assignFolds([...keys].reverse(), 5), first);
  const sizes = [0, 1, 2, 3, 4].map((fold) => [...first.values()].filter((f) => f === fold).length);
  assert.deepEqual(sizes.sort(), [4, 5, 5, 5, 4].sort());
});

test('the chosen rule accepts the most genuine probes without a stranger or a wrong student', () => {
  const ranked = [genuine('a1', 'a', 0.4), genuine('b1', 'b', 0.52), stranger('s1', 0.55)];
  assert.deepEqual(chooseRule(ranked), { threshold: 0.53, margin: 0.2 });
});

test("a fold's own probes play no part in choosing its rule", () => {
  // Each person's probes sit at 0.45; one stranger sits at 0.44. The fold holding that stranger is tuned on folds that
  // never saw it, so it must report the stranger accepted; every other fold is tuned with it and stays clean.
  const people = Array.from({ length: 10 }, (_, i) => `p${i}`);
  const ranked = [...people.map((person) => genuine(`${person}/1.jpg`, person, 0.45)), stranger('unknown/close.jpg', 0.44)];
  for (let i = 0; i < 10; i++) ranked.push(stranger(`unknown/far-${i}.jpg`, 0.8));
  const result = crossValidate(ranked, 5, { threshold: 0.5, margin: 0.15 });
  assert.equal(result.folds, 5);
  assert.equal(result.heldOut.genuine, 10);
  assert.equal(result.heldOut.strangers, 11);
  assert.equal(result.heldOut.strangerAccepts, 1);
  const foldOfClose = result.perFold.find((f) => f.heldOut.strangerAccepts === 1)!;
  assert.ok(foldOfClose.chosen.threshold > 0.45, 'tuned without the close stranger, the rule accepts the genuine probes');
  for (const fold of result.perFold.filter((f) => f !== foldOfClose)) {
    assert.ok(fold.chosen.threshold <= 0.44, `fold ${fold.fold} was tuned with the close stranger in view`);
    assert.equal(fold.heldOut.rightAccepts, 0);
  }
  assert.equal(result.defaults.strangerAccepts, 1);
  assert.equal(result.defaults.rightAccepts, 10);
});

test("a person left out of the roster is a look-alike of their fold: the other folds' rules keep them out", () => {
  // p0's photo, with p0 left out of the roster, sits 0.44 from p1. The folds of neither are tuned with it in view and
  // stay below 0.44; p0's fold, tuned without it, may accept it, and says so under lookAlikes rather than hiding it.
  const people = Array.from({ length: 10 }, (_, i) => `p${i}`);
  const ranked = people.map((person) => genuine(`${person}/1.jpg`, person, 0.45));
  for (let i = 0; i < 10; i++) ranked.push(stranger(`unknown/far-${i}.jpg`, 0.8));
  const lookAlike = { path: 'p0/1.jpg', leftOut: 'p0', ranking: { best: { rollNo: 'p1', distance: 0.44 }, runnerUpDistance: 0.9 } };
  const result = crossValidate(ranked, 5, { threshold: 0.5, margin: 0.15 }, [lookAlike]);
  const foldOf = (person: string) => assignFolds(people, 5).get(person)!;
  const foldOfP0 = result.perFold[foldOf('p0')]!;
  assert.equal(foldOfP0.lookAlikes.photos, 1);
  assert.equal(foldOfP0.lookAlikes.heldOutAccepts, 1);
  assert.ok(foldOfP0.chosen.threshold > 0.45);
  assert.ok(result.perFold[foldOf('p1')]!.chosen.threshold > 0.45, 'the pair is one distance: tuning on it would be tuning on the held-out fold');
  for (const fold of result.perFold.filter((f) => f.fold !== foldOf('p0') && f.fold !== foldOf('p1'))) {
    assert.ok(fold.chosen.threshold <= 0.44, `fold ${fold.fold} was tuned with p0's look-alike in view`);
    assert.equal(fold.lookAlikes.photos, 0);
  }
  assert.deepEqual(result.lookAlikes, { photos: 1, heldOutAccepts: 1, defaultsAccepts: 1 });
  assert.equal(result.heldOut.strangers, 10, 'look-alikes are counted apart from the strangers enrolled nowhere');
});
