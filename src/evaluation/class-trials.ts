import { FaceMatcher, type EnrolledFace, type MatchRule } from '../faces/face-matcher.ts';
import { assignFolds } from './stable-folds.ts';
import type { Probe } from './open-set.ts';

export interface ClassCounts {
  /** Genuine probes accepted as their own student. */
  right: number;
  wrong: number;
  /** Photos of students of the other classes accepted as a student of this one. */
  otherClassAccepts: number;
}

export interface ClassTrials {
  classes: number;
  /** Genuine probes, those without a face included (missed, as in `operatingPoint`). */
  genuine: number;
  /** Probes with a face, each judged by every class but its person's. */
  otherClassPhotos: number;
  /** Each class compared with its own students only. */
  classAlone: ClassCounts;
  /** The service with CLASS_ID: the other classes' students compared too, never the answer. */
  withOtherClasses: ClassCounts;
}

/**
 * The enrolled people dealt into `classes` classes, each a room's roster: its students' probes, and every probe of the
 * other classes' students (someone enrolled in the school, in the wrong room), judged with and without the others.
 */
export function classTrials(gallery: readonly EnrolledFace[], probes: readonly Probe[], rule: MatchRule, classes = 5): ClassTrials {
  const classOf = assignFolds([...new Set(gallery.map((face) => face.rollNo))], classes);
  const genuine = probes.filter((probe) => probe.person !== undefined && classOf.has(probe.person));
  const counts = (): ClassCounts => ({ right: 0, wrong: 0, otherClassAccepts: 0 });
  const classAlone = counts();
  const withOtherClasses = counts();
  for (let room = 0; room < classes; room++) {
    const roster = gallery.filter((face) => classOf.get(face.rollNo) === room);
    const others = gallery.filter((face) => classOf.get(face.rollNo) !== room);
    const judged: [FaceMatcher, ClassCounts][] = [
      [new FaceMatcher(roster, rule), classAlone],
      [new FaceMatcher(roster, rule, others), withOtherClasses],
    ];
    for (const probe of genuine) {
      if (!probe.descriptor) continue;
      for (const [matcher, count] of judged) {
        const accepted = matcher.match(probe.descriptor);
        if (!accepted) continue;
        if (classOf.get(probe.person!) !== room) count.otherClassAccepts += 1;
        else if (accepted.rollNo === probe.person) count.right += 1;
        else count.wrong += 1;
      }
    }
  }
  const judged = genuine.filter((probe) => probe.descriptor).length;
  return { classes, genuine: genuine.length, otherClassPhotos: judged * (classes - 1), classAlone, withOtherClasses };
}
