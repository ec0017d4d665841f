import type { MatchRule } from './face-matcher.ts';
import type { NearestTwo } from './nearest-two.ts';

/**
 * A distance such that a student beyond it cannot change `decide()`, whatever students are offered after: once the
 * nearest two are known, most of the roster can be passed over. A student who does not become the nearest only brings
 * the runner-up nearer, which never turns "nobody" into a match; so a student matters only by becoming the nearest or
 * by standing within a margin of an accepted one.
 *
 * - Beyond threshold + margin: as the nearest it would be refused, and an accepted student, under the threshold, is
 *   more than a margin ahead of it.
 * - Beyond best + margin while the runner-up is a margin or more behind the best (or there is none): the best is
 *   nearer, and any accepted student is at least as near as the best.
 * - Beyond the best while the runner-up is within a margin of it: the best is nearer, and can no longer be accepted
 *   itself, so an accepted student would be a margin ahead of it, hence of this student.
 *
 * The bound never grows as students are offered, so a student passed over stays irrelevant, and a student whose photos
 * each lay beyond the bound when scanned has a mean beyond it. A student exactly at the bound may tie with the best:
 * only those strictly beyond may be passed over. A negative margin decides like 0, and is bounded like 0.
 */
export function decisionBound(nearest: NearestTwo, rule: MatchRule): number {
  const margin = Math.max(rule.margin, 0);
  const ceiling = rule.threshold + margin;
  if (nearest.best === -1) return ceiling;
  const { bestDistance, runnerUpDistance } = nearest;
  return Math.min(ceiling, runnerUpDistance - bestDistance >= margin ? bestDistance + margin : bestDistance);
}
