import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { decodeImage } from '../src/faces/decode-image.ts';
import { loadFaceEngine } from '../src/faces/face-engine.ts';
import { DESCRIPTOR_LENGTH, FaceMatcher, decide } from '../src/faces/face-matcher.ts';
import { FIXTURES } from './helpers/photo-server.ts';

const MODELS = path.resolve(import.meta.dirname, '../models');

function descriptor(fill: (i: number) => number): Float32Array {
  return Float32Array.from({ length: DESCRIPTOR_LENGTH }, (_, i) => fill(i));
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

test('refuses a descriptor of the wrong length at enrollment', () => {
  assert.throws(() => new FaceMatcher([{ rollNo: 'A', descriptor: new Float32Array(3) }], { threshold: 0.5, margin: 0 }), /expected 128/);
});

test('on real faces, the same person matches across photos and a stranger matches nobody', async () => {
  const engine = await loadFaceEngine(MODELS);
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
