import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { decodeImage } from '../src/faces/decode-image.ts';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { DESCRIPTOR_LENGTH, DLIB_LENGTH, faceDistance, fusedDistance } from '../src/faces/face-descriptor.ts';
import { FaceMatcher, decide } from '../src/faces/face-matcher.ts';
import { describeEnrollmentPhoto } from '../src/faces/find-faces.ts';
import { descriptorFrom, fusedDescriptor } from './helpers/descriptors.ts';
import { FIXTURES } from './helpers/photo-server.ts';

const MODELS = path.resolve(import.meta.dirname, '../models');

/** The smallest double above a positive finite `x`. */
function nextUp(x: number): number {
  const bits = new BigUint64Array(new Float64Array([x]).buffer);
  bits[0]! += 1n;
  return new Float64Array(bits.buffer)[0]!;
}

/** A descriptor `value` along dlib's axis `axis`, with the faceres direction every face built without one has. */
const at = (axis: number, value: number) => fusedDescriptor(Array.from({ length: axis + 1 }, (_, i) => (i === axis ? value : 0)));

test('matches the nearest enrolled descriptor and refuses anything beyond the threshold, on either network', () => {
  const a = at(0, 0);
  const b = at(0, 1);
  const matcher = new FaceMatcher([{ rollNo: 'A', descriptor: a }, { rollNo: 'B', descriptor: b }], { threshold: 0.5, margin: 0 });
  const nearA = matcher.match(at(0, 0.3));
  assert.deepEqual(nearA, { rollNo: 'A', distance: fusedDistance(Math.fround(0.3), 0) });
  assert.ok(Math.abs(nearA!.distance - (0.6 * 0.3 - 0.0128)) < 1e-8, `0.3 from A on dlib's part, faceres's the same: 0.6 × 0.3 − 0.0128 (${nearA!.distance})`);
  assert.equal(matcher.match(at(0, 0.9))?.rollNo, 'B');
  assert.equal(matcher.match(at(1, 0.9)), undefined, "0.9 from A and 1.35 from B on dlib's part (0.53 and 0.80 fused): nobody");
  const turned = fusedDescriptor([0.3], [0, 1]);
  assert.equal(matcher.match(turned), undefined, "0.3 from A on dlib's part but faceres's at right angles (0.74 fused): nobody");
  assert.deepEqual(matcher.rank(turned)?.best, { rollNo: 'A', distance: fusedDistance(Math.fround(0.3), 1) });
  assert.equal(new FaceMatcher([], { threshold: 0.5, margin: 0 }).match(a), undefined, 'an empty roster matches nobody');
});

test("faceres's part tells apart two students dlib's part cannot, and a face far on dlib's part is found when faceres's agrees", () => {
  const rule = { threshold: 0.5, margin: 0.1 };
  // The same dlib descriptor, faceres's directions at right angles.
  const a = fusedDescriptor([0], [1, 0]);
  const b = fusedDescriptor([0], [0, 1]);
  const matcher = new FaceMatcher([{ rollNo: 'A', descriptor: a }, { rollNo: 'B', descriptor: b }], rule);
  const query = fusedDescriptor([0.2], [0.8, 0.6]);
  // 0.2 from both on dlib's part; faceres's cosine distances 0.2 and 0.4: fused 0.22 and 0.33, 0.11 apart.
  const ranking = {
    best: { rollNo: 'A', distance: faceDistance(a, query) },
    runnerUpDistance: faceDistance(b, query),
  };
  assert.deepEqual(matcher.rank(query), ranking);
  assert.ok(Math.abs(ranking.best.distance - 0.2208) < 1e-7 && Math.abs(ranking.runnerUpDistance - 0.3344) < 1e-7, JSON.stringify(ranking));
  assert.deepEqual(matcher.match(query), ranking.best);
  assert.equal(matcher.match(fusedDescriptor([0.2], [0.6, 0.8]))?.rollNo, 'B', 'turned the other way, the same face is B');
  assert.equal(matcher.match(fusedDescriptor([0.2], [1, 1])), undefined, 'halfway between them: too close to call');

  // 0.8 from A on dlib's part, beyond the threshold on its own, but faceres's the same: 0.6 × 0.8 − 0.0128 = 0.4672.
  const c = fusedDescriptor([0, 0, 0.1], [0, 0, 1]);
  const far = new FaceMatcher([{ rollNo: 'C', descriptor: c }, { rollNo: 'A', descriptor: a }], rule);
  const farQuery = fusedDescriptor([0.8], [1, 0]);
  const best = { rollNo: 'A', distance: fusedDistance(Math.fround(0.8), 0) };
  assert.deepEqual(far.rank(farQuery)?.best, best, 'C, 0.81 away on dlib and at right angles on faceres, is farther');
  assert.deepEqual(far.match(farQuery), best);
  assert.equal(new FaceMatcher([{ rollNo: 'A', descriptor: a }], { threshold: best.distance, margin: 0 }).match(farQuery), undefined, 'refused at a threshold of exactly its distance');
  assert.deepEqual(new FaceMatcher([{ rollNo: 'A', descriptor: a }], { threshold: nextUp(best.distance), margin: 0 }).match(farQuery), best, 'accepted a hair above');
});

/**
 * A random face for the property tests below: dlib's 128 values uniform in ±0.09 (two such faces are about 0.83 apart
 * on dlib's part, as dlib puts different people), faceres's the direction of 1024 such values (two such directions are
 * at right angles, give or take 0.03): about 1.05 fused.
 */
const randomFace = (random: () => number) => descriptorFrom(() => random() * 0.18);
/**
 * Another photo of `base`: noise uniform in ±spread/2 added to each of its values, faceres's part then scaled back to
 * unit length. A spread of 0.06 moves dlib's part about 0.2 and turns faceres's by a cosine distance of about 0.12.
 */
const nearFace = (random: () => number, base: Float32Array, spread: number) => descriptorFrom((i) => base[i]! + random() * spread);

test('the fast match always agrees with deciding on the full ranking, for single and several photos per student', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const near = (base: Float32Array, spread: number) => nearFace(random, base, spread);
  const people = Array.from({ length: 40 }, () => randomFace(random));
  const enrolled = people.flatMap((person, i) =>
    Array.from({ length: 1 + (i % 3) }, () => ({ rollNo: `p${i}`, descriptor: near(person, 0.06) })),
  );
  for (const rule of [{ threshold: 0.5, margin: 0.1 }, { threshold: 0.5, margin: 0.15 }, { threshold: 0.6, margin: 0 }, { threshold: 0.45, margin: 0.05 }]) {
    const matcher = new FaceMatcher(enrolled, rule);
    let accepted = 0;
    for (let q = 0; q < 400; q++) {
      const query = q % 2 === 0 ? near(people[q % people.length]!, 0.09) : randomFace(random);
      const fast = matcher.match(query);
      assert.deepEqual(fast, decide(matcher.rank(query), rule), `query ${q} with ${JSON.stringify(rule)}`);
      if (fast) accepted += 1;
    }
    assert.ok(accepted > 0 && accepted < 400, `the queries exercise both answers (${accepted} accepted)`);
  }
});

test('a tie goes to the first enrolled student, as in rank, even when the scan meets the other one first', () => {
  // A's photos average 0.5 on dlib's part like B's single photo, the faceres parts all the same, so that A's mean
  // fused distance, (f(0.75) + f(0.25)) / 2, is B's, f(0.5), to the last bit. A's far photo comes before B in the
  // roster, and beyond C, so the scan passes over it; its near one comes after B.
  const enrolled = [
    { rollNo: 'C', descriptor: at(2, 0.625) },
    { rollNo: 'A', descriptor: at(0, 0.75) },
    { rollNo: 'B', descriptor: at(1, 0.5) },
    { rollNo: 'A', descriptor: at(0, 0.25) },
  ];
  const matcher = new FaceMatcher(enrolled, { threshold: 1, margin: 0 });
  const query = at(0, 0);
  const distance = fusedDistance(0.5, 0);
  assert.equal((fusedDistance(0.75, 0) + fusedDistance(0.25, 0)) / 2, distance, 'an exact tie');
  assert.deepEqual(matcher.rank(query), { best: { rollNo: 'A', distance }, runnerUpDistance: distance });
  assert.deepEqual(matcher.match(query), { rollNo: 'A', distance });
});

test('on many random rosters the fast match decides exactly as decide(rank(…)), also right at the threshold and the margin', () => {
  let seed = 3;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const pick = <T>(items: readonly T[]) => items[Math.floor((random() + 0.5) * items.length)]!;
  const near = (base: Float32Array, spread: number) => nearFace(random, base, spread);
  let accepted = 0;
  let refused = 0;
  for (let roster = 0; roster < 40; roster++) {
    const people = Array.from({ length: 1 + (roster % 25) }, () => randomFace(random));
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
        () => randomFace(random),
        () => descriptorFrom((i) => (pick(people)[i]! + pick(people)[i]!) / 2),
        // One person's dlib part and another's faceres part.
        () => descriptorFrom((i) => (i < DLIB_LENGTH ? pick(people) : pick(people))[i]! + random() * 0.06),
        // A photo's faceres part exactly, with a dlib part far from everyone's: beyond the threshold on dlib's part
        // alone, within it fused (0.6 × 0.83 − 0.0128), where the scan's bound on dlib's part is tightest.
        () => {
          const photo = pick(enrolled).descriptor;
          const stranger = randomFace(random);
          return descriptorFrom((i) => (i < DLIB_LENGTH ? stranger : photo)[i]!);
        },
      ])();
      const ranking = reference.rank(query)!;
      const gap = ranking.runnerUpDistance - ranking.best.distance;
      const rules = [
        { threshold: 0.5, margin: 0.1 },
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
  const people = Array.from({ length: 5 }, () => randomFace(random));
  const enrolled = Array.from({ length: 5_000 }, (_, i) => ({ rollNo: `s${i}`, descriptor: nearFace(random, people[i % 5]!, 0.1) }));
  for (const rule of [{ threshold: 0.5, margin: 0.1 }, { threshold: 0.5, margin: 0 }, { threshold: 0.35, margin: 0.01 }]) {
    const matcher = new FaceMatcher(enrolled, rule);
    for (const query of [...people, enrolled[1234]!.descriptor, nearFace(random, people[0]!, 0.05)]) {
      assert.deepEqual(matcher.match(query), decide(matcher.rank(query), rule), JSON.stringify(rule));
    }
  }
});

test('on rosters large enough for the faceres sketch (hundreds of people), the fast match agrees, at the edges too', () => {
  let seed = 17;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const pick = <T>(items: readonly T[]) => items[Math.floor((random() + 0.5) * items.length)]!;
  let compared = 0;
  for (const size of [300]) {
    const people = Array.from({ length: size }, () => randomFace(random));
    const enrolled = people.map((person, i) => ({ rollNo: `p${i}`, descriptor: nearFace(random, person, 0.05) }));
    for (let q = 0; q < 3; q++) {
      const query = pick([
        () => nearFace(random, pick(people), pick([0.03, 0.09])),
        () => pick(enrolled).descriptor,
        () => randomFace(random),
        () => descriptorFrom((i) => (i < DLIB_LENGTH ? pick(people) : pick(people))[i]! + random() * 0.06),
      ])();
      const ranking = new FaceMatcher(enrolled, { threshold: 1, margin: 0 }).rank(query)!;
      const gap = ranking.runnerUpDistance - ranking.best.distance;
      for (const rule of [
        { threshold: 0.5, margin: 0.1 },
        { threshold: ranking.best.distance, margin: 0 },
        { threshold: nextUp(ranking.best.distance), margin: 0 },
        { threshold: 2, margin: gap },
        { threshold: 2, margin: nextUp(gap) },
      ]) {
        const matcher = new FaceMatcher(enrolled, rule, enrolled.slice(0, 260).map((face) => ({ ...face, rollNo: `other-${face.rollNo}` })));
        assert.deepEqual(matcher.match(query), decide(matcher.rank(query), rule), `size ${size}, query ${q}, rule ${JSON.stringify(rule)}`);
        compared += 1;
      }
    }
  }
  assert.equal(compared, 15);
});

test('an empty roster ranks and matches nobody; a query of the wrong length is refused', () => {
  const empty = new FaceMatcher([], { threshold: 0.5, margin: 0.1 });
  assert.equal(empty.rank(at(0, 0)), undefined);
  assert.equal(empty.match(at(0, 0)), undefined);
  const matcher = new FaceMatcher([{ rollNo: 'A', descriptor: at(0, 0) }], { threshold: 0.5, margin: 0 });
  const expected = new RegExp(`expected ${DESCRIPTOR_LENGTH}\\b`);
  assert.equal(DESCRIPTOR_LENGTH, 1152);
  assert.throws(() => matcher.match(new Float32Array(DESCRIPTOR_LENGTH - 1)), expected);
  assert.throws(() => matcher.rank(new Float32Array(DESCRIPTOR_LENGTH + 1)), expected);
  assert.throws(() => matcher.match(new Float32Array(DLIB_LENGTH)), expected, "dlib's part alone (a descriptor from before faceres)");
});

test('refuses a descriptor of the wrong length at enrollment', () => {
  const expected = new RegExp(`expected ${DESCRIPTOR_LENGTH}\\b`);
  assert.throws(() => new FaceMatcher([{ rollNo: 'A', descriptor: new Float32Array(3) }], { threshold: 0.5, margin: 0 }), expected);
  assert.throws(() => new FaceMatcher([{ rollNo: 'A', descriptor: new Float32Array(DLIB_LENGTH) }], { threshold: 0.5, margin: 0 }), expected);
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
  const rule = { threshold: 0.5, margin: 0.1 };
  // The faceres parts all the same: the fused distances are 0.6 × dlib's − 0.0128.
  const matcher = new FaceMatcher([{ rollNo: 'A', descriptor: at(0, 0) }], rule, [{ rollNo: 'elsewhere', descriptor: at(0, 0.7) }]);
  assert.equal(matcher.match(at(0, 0.3))?.rollNo, 'A', '0.17 from A, 0.23 from the other class: no margin is asked over them');
  assert.equal(matcher.match(at(0, 0.4)), undefined, '0.23 from A, 0.17 from the other class');
  assert.deepEqual(matcher.rank(at(0, 0.4)), {
    best: { rollNo: 'A', distance: faceDistance(at(0, 0), at(0, 0.4)) },
    runnerUpDistance: Infinity,
    otherClassDistance: faceDistance(at(0, 0.7), at(0, 0.4)),
  });
  const tie = new FaceMatcher([{ rollNo: 'A', descriptor: at(0, 0) }], rule, [{ rollNo: 'elsewhere', descriptor: at(0, 0.5) }]);
  assert.equal(tie.match(at(0, 0.25)), undefined, 'exactly as near to the other class as to A: nobody');
  assert.equal(decide(tie.rank(at(0, 0.25)), rule), undefined);
  // The same on faceres's part alone: the other class's student has A's dlib descriptor and a faceres direction nearer
  // the face's.
  const a = fusedDescriptor([0], [1, 0]);
  const elsewhere = fusedDescriptor([0], [0.6, 0.8]);
  const face = fusedDescriptor([0.1], [0.8, 0.6]);
  const onFaceres = new FaceMatcher([{ rollNo: 'A', descriptor: a }], rule, [{ rollNo: 'elsewhere', descriptor: elsewhere }]);
  assert.equal(new FaceMatcher([{ rollNo: 'A', descriptor: a }], rule).match(face)?.rollNo, 'A', 'the class alone takes the face for A (0.16)');
  assert.equal(onFaceres.match(face), undefined, 'faceres puts it nearer the other class (cosine distances 0.2 and 0.04): nobody');
  assert.deepEqual(onFaceres.rank(face), {
    best: { rollNo: 'A', distance: faceDistance(a, face) },
    runnerUpDistance: Infinity,
    otherClassDistance: faceDistance(elsewhere, face),
  });
});

test('with other classes beside the roster, the fast match still agrees with deciding on the full ranking', () => {
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const near = (base: Float32Array, spread: number) => nearFace(random, base, spread);
  // The last 20 people are look-alikes of the first 20: each about 0.27 from one of them on dlib's part, faceres's
  // turned by a cosine distance of about 0.19 (0.26 fused): close, so that the class alone accepts some of their photos
  // (the photos' and queries' own spread adds to it).
  const classmates = Array.from({ length: 20 }, () => randomFace(random));
  const people = [...classmates, ...classmates.map((person) => near(person, 0.08))];
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
  // kun and zy are a young man and a young woman whose photos here dlib's descriptor puts 0.45 to 0.53 apart
  // (test/fixtures/PROVENANCE.md); faceres's cosine distances are 0.43 to 0.49, so fused they are 0.52 to 0.58 apart
  // (kun-2.jpg 0.523 from zy.jpg, 0.293 from kun.jpg; zy-2.jpg 0.328 from zy.jpg, 0.580 from kun.jpg): the default
  // threshold alone refuses him. At a looser threshold that takes him for her, the other classes still turn him away.
  const engine = await loadFaceEngine(MODELS, loadConfig().INFERENCE_BACKEND);
  const describe = async (file: string) => (await describeEnrollmentPhoto(await readFile(path.join(FIXTURES, file)), engine)).descriptor;
  const zy = { rollNo: 'zy', descriptor: await describe('photos/zy.jpg') };
  const kun = { rollNo: 'kun', descriptor: await describe('look-alikes/kun.jpg') };
  const kunElsewhere = await describe('look-alikes/kun-2.jpg');
  assert.equal(new FaceMatcher([zy], { threshold: 0.5, margin: 0.1 }).match(kunElsewhere), undefined, 'at the default threshold, even with his class left out, kun is nobody');
  const rule = { threshold: 0.55, margin: 0.1 };
  assert.equal(new FaceMatcher([zy], rule).match(kunElsewhere)?.rollNo, 'zy', 'at 0.55, with his class left out, kun is taken for zy');
  const withOtherClasses = new FaceMatcher([zy], rule, [kun]);
  assert.equal(withOtherClasses.match(kunElsewhere), undefined, 'with his class beside hers, he is nearer to himself, so nobody');
  assert.equal(withOtherClasses.match(await describe('photos/zy-2.jpg'))?.rollNo, 'zy', 'and zy in another photo is still zy');
});
