import type { EnrolledFace, MatchRule } from '../faces/face-matcher.ts';
import { stableOrder } from './stable-folds.ts';
import { operatingPoint, rankProbes, type Probe } from './open-set.ts';

export interface RosterSize {
  /** Photos of people enrolled nowhere added to the roster, each as a student of its own. */
  extraStudents: number;
  rightAccepts: number;
  wrongAccepts: number;
  genuine: number;
}

/**
 * The genuine probes at one rule as the roster grows. The margin is over the runner-up among everyone enrolled, and the
 * more people enrolled, the nearer the nearest of them: a class-sized roster tells little about a whole school's.
 * Extra students are stranger photos in a stable order (a stranger with several photos counts once per photo).
 */
export function rosterGrowth(
  gallery: readonly EnrolledFace[],
  genuine: readonly Probe[],
  strangerPhotos: readonly Probe[],
  rule: MatchRule,
  steps = 4,
): RosterSize[] {
  const descriptorOf = new Map(strangerPhotos.flatMap((photo) => (photo.descriptor ? [[photo.path, photo.descriptor] as const] : [])));
  const extras: EnrolledFace[] = stableOrder([...descriptorOf.keys()]).map((path, i) => ({ rollNo: `enrolled-nowhere-${i}`, descriptor: descriptorOf.get(path)! }));
  const sizes = [...new Set(Array.from({ length: steps + 1 }, (_, i) => Math.round((extras.length * i) / steps)))];
  return sizes.map((extraStudents) => {
    const point = operatingPoint(rankProbes([...gallery, ...extras.slice(0, extraStudents)], genuine), rule);
    return { extraStudents, rightAccepts: point.rightAccepts, wrongAccepts: point.wrongAccepts, genuine: point.genuine };
  });
}
