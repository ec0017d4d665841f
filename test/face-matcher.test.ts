import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { decodeImage } from '../src/faces/decode-image.ts';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { DESCRIPTOR_LENGTH } from '../src/faces/face-descriptor.ts';
import { FaceMatcher, decide } from '../src/faces/face-matcher.ts';
import { describeEnrollmentPhoto } from '../src/faces/find-faces.ts';
import { FIXTURES } from './helpers/photo-server.ts';

const MODELS = path.resolve(import.meta.dirname, '../models');

function descriptor(fill: (i: number) => number): Float32Array {
  return Float32Array.from({ length: DESCRIPTOR_LENGTH }, (_, i) => fill(i));
}

/** The smallest double above a positive finite `x`. */
function nextUp(x: number): number {
  const bits = new BigUint64Array(new Float64Array([x]).buffer);
  bits[0]! += 1n;
  return new Float64Array(bits.buffer)[0]!;
}

test('matches the nearest enrolled descriptor and refuses anything beyond the threshold', () => {
  const a = descriptor(() => 0);
  const b = descriptor((i) => (i === 0 ? 1 : 0));
  const matcher = new FaceMatcher([{ rollNo: 'A', descriptor: a }, { rollNo: 'B', descriptor: b }], { threshold: 0.5, margin: 0 });
  assert.deepEqual(matcher.match(descriptor((i) => (i === 0 ? 0.3 : 0))), { rollNo: 'A', distance: 0.30000001192092896 });
  assert.equal(matcher.match(descriptor((i) => (i === 0 ? 0.9 : 0)))?.rollNo, 'B');
  assert.equal(matcher.match(descriptor((i) => (i === 1 ? 0.6 : 0))), undefined, '0.6 from A and 1.17 from B: nobody');
  assert.equal(new FaceMatcher([], { threshold: 0.5, margin: 0 }).match(a), undefined, 'an empty roster matches nobody');
});

test('the fast match always agrees with deciding on the full ranking, for single and several photos per student', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const near = (base: Float32Array, spread: number) => descriptor((i) => base[i]! + random() * spread);
  const people = Array.from({ length: 40 }, () => descriptor(() => random() * 0.18));
  const enrolled = people.flatMap((person, i) =>
    Array.from({ length: 1 + (i % 3) }, () => ({ rollNo: `p${i}`, descriptor: near(person, 0.06) })),
  );
  for (const rule of [{ threshold: 0.5, margin: 0.15 }, { threshold: 0.6, margin: 0 }, { threshold: 0.45, margin: 0.05 }]) {
    const matcher = new FaceMatcher(enrolled, rule);
    let accepted = 0;
    for (let q = 0; q < 400; q++) {
      const query = q % 2 === 0 ? near(people[q % people.length]!, 0.09) : descriptor(() => random() * 0.18);
      const fast = matcher.match(query);
      assert.deepEqual(fast, decide(matcher.rank(query), rule), `query ${q} with ${JSON.stringify(rule)}`);
      if (fast) accepted += 1;
    }
    assert.ok(accepted > 0 && accepted < 400, `the queries exercise both answers (${accepted} accepted)`);
  }
});

test('a tie goes to the first enrolled student, as in rank, even when the scan meets the other one first', () => {
  const at = (axis: number, value: number) => descriptor((i) => (i === axis ? value : 0));
  // A's photos average 0.5 like B's single photo; A's far photo comes before B in the roster and its near one after.
  const enrolled = [
    { rollNo: 'C', descriptor: at(2, 0.625) },
    { rollNo: 'A', descriptor: at(0, 0.75) },
    { rollNo: 'B', descriptor: at(1, 0.5) },
    { rollNo: 'A', descriptor: at(0, 0.25) },
  ];
  const matcher = new FaceMatcher(enrolled, { threshold: 1, margin: 0 });
  const query = descriptor(() => 0);
  assert.deepEqual(matcher.rank(query), { best: { rollNo: 'A', distance: 0.5 }, runnerUpDistance: 0.5 });
  assert.deepEqual(matcher.match(query), { rollNo: 'A', distance: 0.5 });
});

test('on many random rosters the fast match decides exactly as decide(rank(…)), also right at the threshold and the margin', () => {
  let seed = 3;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const pick = <T>(items: readonly T[]) => items[Math.floor((random() + 0.5) * items.length)]!;
  const near = (base: Float32Array, spread: number) => descriptor((i) => base[i]! + random() * spread);
  let accepted = 0;
  let refused = 0;
  for (let roster = 0; roster < 150; roster++) {
    const people = Array.from({ length: 1 + (roster % 25) }, () => descriptor(() => random() * 0.18));
    const enrolled = people.flatMap((person, i) =>
      Array.from({ length: 1 + Math.floor((random() + 0.5) * 4) }, () => ({ rollNo: `p${i}`, descriptor: near(person, pick([0.02, 0.06, 0.1])) })),
    );
    // Shuffled, so that a student's photos lie apart in the roster; some descriptors enrolled twice, for exact ties.
    for (let i = enrolled.length - 1; i > 0; i--) {
      const j = Math.floor((random() + 0.5) * (i + 1));
      [enrolled[i], enrolled[j]] = [enrolled[j]!, enrolled[i]!];
    }
    if (roster % 3 === 0) enrolled.push({ rollNo: 'twin', descriptor: pick(enrolled).descriptor });
    if (roster % 4 === 0) enrolled.push({ ...pick(enrolled) });
    const reference = new FaceMatcher(enrolled, { threshold: 1, margin: 0 });
    for (let q = 0; q < 12; q++) {
      const query = pick([
        () => near(pick(people), pick([0.03, 0.09, 0.15])),
        () => pick(enrolled).descriptor,
        () => descriptor(() => random() * 0.18),
        () => descriptor((i) => (pick(people)[i]! + pick(people)[i]!) / 2),
      ])();
      const ranking = reference.rank(query)!;
      const gap = ranking.runnerUpDistance - ranking.best.distance;
      const rules = [
        { threshold: 0.5, margin: 0.15 },
        { threshold: 0.2 + (random() + 0.5) * 0.8, margin: (random() + 0.5) * 0.3 },
        { threshold: 0.6, margin: 0 },
        { threshold: 0.6, margin: -0.1 },
        { threshold: Number.POSITIVE_INFINITY, margin: 0.05 },
        // Right at the edges: refused at the best distance, accepted a hair above it; accepted at a margin of exactly
        // the gap to the runner-up, refused a hair above it.
        { threshold: ranking.best.distance, margin: 0 },
        { threshold: nextUp(ranking.best.distance), margin: 0 },
        ...(Number.isFinite(gap) ? [{ threshold: 2, margin: gap }, { threshold: 2, margin: nextUp(gap) }] : []),
      ];
      for (const rule of rules) {
        const matcher = new FaceMatcher(enrolled, rule);
        const expected = decide(matcher.rank(query), rule);
        assert.deepEqual(matcher.match(query), expected, `roster ${roster}, query ${q}, rule ${JSON.stringify(rule)}`);
        if (expected) accepted += 1;
        else refused += 1;
      }
    }
  }
  assert.ok(accepted > 1000 && refused > 1000, `both answers are exercised (${accepted} accepted, ${refused} refused)`);
});

test('on a crowded roster where a fifth of the rows are the query\'s person (as in the benchmark), the fast match agrees', () => {
  let seed = 5;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const people = Array.from({ length: 5 }, () => descriptor(() => random() * 0.18));
  const enrolled = Array.from({ length: 5_000 }, (_, i) => ({ rollNo: `s${i}`, descriptor: descriptor((j) => people[i % 5]![j]! + random() * 0.1) }));
  for (const rule of [{ threshold: 0.5, margin: 0.15 }, { threshold: 0.5, margin: 0 }, { threshold: 0.35, margin: 0.01 }]) {
    const matcher = new FaceMatcher(enrolled, rule);
    for (const query of [...people, enrolled[1234]!.descriptor, descriptor((j) => people[0]![j]! + random() * 0.05)]) {
      assert.deepEqual(matcher.match(query), decide(matcher.rank(query), rule), JSON.stringify(rule));
    }
  }
});

test('an empty roster ranks and matches nobody; a query of the wrong length is refused', () => {
  const empty = new FaceMatcher([], { threshold: 0.5, margin: 0.15 });
  assert.equal(empty.rank(descriptor(() => 0)), undefined);
  assert.equal(empty.match(descriptor(() => 0)), undefined);
  const matcher = new FaceMatcher([{ rollNo: 'A', descriptor: descriptor(() => 0) }], { threshold: 0.5, margin: 0 });
  assert.throws(() => matcher.match(new Float32Array(127)), /expected 128/);
  assert.throws(() => matcher.rank(new Float32Array(129)), /expected 128/);
});

test('refuses a descriptor of the wrong length at enrollment', () => {
  assert.throws(() => new FaceMatcher([{ rollNo: 'A', descriptor: new Float32Array(3) }], { threshold: 0.5, margin: 0 }), /expected 128/);
});

test('on real faces, the same person matches across photos and a stranger matches nobody', async () => {
  const engine = await loadFaceEngine(MODELS, loadConfig().INFERENCE_BACKEND);
  const facesIn = async (file: string) => engine.detectFaces(await decodeImage(await readFile(path.join(FIXTURES, file)), { maxSide: 1024 }));
  const [obama] = await facesIn('photos/obama.jpg');
  const [rick] = await facesIn('photos/rick.jpg');
  const matcher = new FaceMatcher([{ rollNo: 'obama', descriptor: obama!.descriptor }, { rollNo: 'rick', descriptor: rick!.descriptor }], { threshold: 0.5, margin: 0 });

  const [obamaElsewhere] = await facesIn('frames/08-obama.jpg');
  const [rickElsewhere] = await facesIn('frames/09-rick.jpg');
  const [stranger] = await facesIn('frames/03-stranger.jpg');
  assert.equal(matcher.match(obamaElsewhere!.descriptor)?.rollNo, 'obama');
  assert.equal(matcher.match(rickElsewhere!.descriptor)?.rollNo, 'rick');
  assert.equal(matcher.match(stranger!.descriptor), undefined);
  assert.equal((await facesIn('frames/01-empty-room.jpg')).length, 0, 'no face in an empty room');
  assert.equal((await facesIn('photos/two_people.jpg')).length, 2);
});

test('a face as near to a student of another class as to the best student here, or nearer, is nobody\'s; other classes never answer', () => {
  const at = (value: number) => descriptor((i) => (i === 0 ? value : 0));
  const rule = { threshold: 0.5, margin: 0.15 };
  const matcher = new FaceMatcher([{ rollNo: 'A', descriptor: at(0) }], rule, [{ rollNo: 'elsewhere', descriptor: at(0.7) }]);
  assert.equal(matcher.match(at(0.3))?.rollNo, 'A', '0.3 from A, 0.4 from the other class: no margin is asked over them');
  assert.equal(matcher.match(at(0.4)), undefined, '0.4 from A, 0.3 from the other class');
  assert.deepEqual(matcher.rank(at(0.4)), { best: { rollNo: 'A', distance: 0.4000000059604645 }, runnerUpDistance: Infinity, otherClassDistance: 0.29999998211860657 });
  const tie = new FaceMatcher([{ rollNo: 'A', descriptor: at(0) }], rule, [{ rollNo: 'elsewhere', descriptor: at(0.5) }]);
  assert.equal(tie.match(at(0.25)), undefined, 'exactly as near to the other class as to A: nobody');
  assert.equal(decide(tie.rank(at(0.25)), rule), undefined);
});

test('with other classes beside the roster, the fast match still agrees with deciding on the full ranking', () => {
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const near = (base: Float32Array, spread: number) => descriptor((i) => base[i]! + random() * spread);
  // The last 20 people are look-alikes of the first 20: each about 0.4 from one of them.
  const classmates = Array.from({ length: 20 }, () => descriptor(() => random() * 0.18));
  const people = [...classmates, ...classmates.map((person) => near(person, 0.12))];
  const photosOf = (from: number, to: number) => people.slice(from, to).flatMap((person, i) => Array.from({ length: 1 + (i % 2) }, () => ({ rollNo: `p${from + i}`, descriptor: near(person, 0.06) })));
  const rule = { threshold: 0.5, margin: 0.1 };
  const classPhotos = photosOf(0, 20);
  const matcher = new FaceMatcher(classPhotos, rule, photosOf(20, 40));
  const classAlone = new FaceMatcher(classPhotos, rule);
  let turnedAway = 0;
  for (let q = 0; q < 400; q++) {
    const query = near(people[q % people.length]!, 0.09);
    const fast = matcher.match(query);
    assert.deepEqual(fast, decide(matcher.rank(query), rule), `query ${q}`);
    if (!fast && classAlone.match(query)) turnedAway += 1;
  }
  assert.ok(turnedAway > 0, 'some queries are accepted by the class alone and turned away by the other classes');
});

test('a student of another class who resembles one of this class is not taken for her', async () => {
  // kun and zy are a young man and a young woman whose photos here the descriptor puts 0.45 to 0.53 apart
  // (test/fixtures/PROVENANCE.md).
  const engine = await loadFaceEngine(MODELS, loadConfig().INFERENCE_BACKEND);
  const describe = async (file: string) => (await describeEnrollmentPhoto(await readFile(path.join(FIXTURES, file)), engine)).descriptor;
  const zy = { rollNo: 'zy', descriptor: await describe('photos/zy.jpg') };
  const kun = { rollNo: 'kun', descriptor: await describe('look-alikes/kun.jpg') };
  const kunElsewhere = await describe('look-alikes/kun-2.jpg');
  const rule = { threshold: 0.5, margin: 0.15 };
  assert.equal(new FaceMatcher([zy], rule).match(kunElsewhere)?.rollNo, 'zy', 'with his class left out, kun is taken for zy');
  const withOtherClasses = new FaceMatcher([zy], rule, [kun]);
  assert.equal(withOtherClasses.match(kunElsewhere), undefined, 'with his class beside hers, he is nearer to himself, so nobody');
  assert.equal(withOtherClasses.match(await describe('photos/zy-2.jpg'))?.rollNo, 'zy', 'and zy in another photo is still zy');
});
