import { combineDescriptors, contextWeight, DLIB_LENGTH } from '../src/faces/face-descriptor.ts';
import { FaceMatcher, type EnrolledFace, type MatchRule } from '../src/faces/face-matcher.ts';
import { round } from './stream-throughput.ts';

/** Milliseconds to match one face against `size` enrolled descriptors (real descriptors, each copy jittered), median of runs. */
export function matchingCost(real: readonly Float32Array[], query: Float32Array, size: number, rule: MatchRule): { medianMs: number; p95Ms: number } {
  const jitter = jitterer(1);
  const enrolled: EnrolledFace[] = Array.from({ length: size }, (_, i) => ({ rollNo: `s${i}`, descriptor: jitter(real[i % real.length]!) }));
  return timeOfMatch(new FaceMatcher(enrolled, rule), query);
}

/**
 * Milliseconds to match a face its class accepts while `others` descriptors of other classes are compared too (a room
 * with CLASS_ID): the class is real descriptors, the others jittered copies of those the face is not, as most of a
 * school is. Only an accepted face is compared with them.
 */
export function otherClassesCost(classFaces: readonly EnrolledFace[], query: Float32Array, others: number, rule: MatchRule): { medianMs: number; p95Ms: number } {
  const accepted = new FaceMatcher(classFaces, rule).match(query);
  if (!accepted) throw new Error('the query face must be accepted by its class for the other classes to be compared');
  const jitter = jitterer(2);
  const bases = classFaces.filter((face) => face.rollNo !== accepted.rollNo);
  const otherClasses: EnrolledFace[] = Array.from({ length: others }, (_, i) => ({ rollNo: `o${i}`, descriptor: jitter(bases[i % bases.length]!.descriptor) }));
  const matcher = new FaceMatcher(classFaces, rule, otherClasses);
  if (!matcher.match(query)) throw new Error('the other classes turned the face away: the measure would stop early');
  return timeOfMatch(matcher, query);
}

/**
 * A copy of a descriptor with each dlib value moved by up to ±0.05 and each faceres value by up to ±0.005 (then scaled
 * back to its weight), from a seeded sequence (the same on every run): as far from the original as another photo of
 * the person might be on each part.
 */
function jitterer(seed: number): (base: Float32Array) => Float32Array {
  const noise = (spread: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2 * spread;
  return (base) => {
    const dlib = base.slice(0, DLIB_LENGTH).map((value) => value + noise(0.05));
    const context = base.slice(DLIB_LENGTH).map((value) => value + noise(0.005));
    return combineDescriptors(dlib, context, contextWeight(base));
  };
}

function timeOfMatch(matcher: FaceMatcher, query: Float32Array): { medianMs: number; p95Ms: number } {
  for (let i = 0; i < 20; i++) matcher.match(query);
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const started = performance.now();
    matcher.match(query);
    times.push(performance.now() - started);
  }
  return { medianMs: round(percentile(times, 0.5), 3), p95Ms: round(percentile(times, 0.95), 3) };
}

export function percentile(values: readonly number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? Number.NaN;
}
