import type { MatchRule } from '../faces/face-matcher.ts';
import { operatingPoint, type OperatingPoint, type RankedProbe } from './open-set.ts';
import { assignFolds } from './stable-folds.ts';

/** The settings cross-validation may choose from: every threshold of the sweep with every margin. */
export const RULE_GRID: readonly MatchRule[] = [0, 0.05, 0.1, 0.15, 0.2].flatMap((margin) =>
  Array.from({ length: 41 }, (_, i) => ({ threshold: Number((0.3 + i * 0.01).toFixed(2)), margin })),
);

export interface FoldResult {
  fold: number;
  people: number;
  strangers: number;
  /** The rule chosen on the other folds. */
  chosen: MatchRule;
  /** The chosen rule on this fold's probes, which played no part in choosing it. */
  heldOut: OperatingPoint;
  /** The service's defaults on this fold's probes. */
  defaults: OperatingPoint;
  /** This fold's people left out of the roster: their photos accepted as someone else under the chosen rule and the defaults. */
  lookAlikes: LookAlikeCounts;
}

/** A photo of an enrolled person ranked with that person left out of the roster: a stranger who may resemble a student. */
export interface LookAlike extends RankedProbe {
  leftOut: string;
}

export interface LookAlikeCounts {
  photos: number;
  heldOutAccepts: number;
  defaultsAccepts: number;
}

export interface CrossValidation {
  folds: number;
  perFold: FoldResult[];
  /** Sum over the folds of the held-out results of the rules chosen without them. */
  heldOut: Totals;
  /** Sum over the folds of the defaults' results (the same as the whole set's, split). */
  defaults: Totals;
  lookAlikes: LookAlikeCounts;
}

type Totals = Pick<OperatingPoint, 'genuine' | 'rightAccepts' | 'wrongAccepts' | 'strangers' | 'strangerAccepts'>;

/**
 * The rule that accepts the most genuine probes with no stranger and no wrong student accepted; among equals, the
 * lowest threshold and then the largest margin (the most cautious). Undefined when no rule of the grid is that clean.
 */
export function chooseRule(ranked: readonly RankedProbe[], grid: readonly MatchRule[] = RULE_GRID): MatchRule | undefined {
  let best: { rule: MatchRule; right: number } | undefined;
  for (const rule of grid) {
    const point = operatingPoint(ranked, rule);
    if (point.strangerAccepts > 0 || point.wrongAccepts > 0) continue;
    const better =
      !best ||
      point.rightAccepts > best.right ||
      (point.rightAccepts === best.right &&
        (rule.threshold < best.rule.threshold || (rule.threshold === best.rule.threshold && rule.margin > best.rule.margin)));
    if (better) best = { rule, right: point.rightAccepts };
  }
  return best?.rule;
}

function total(points: readonly OperatingPoint[]): Totals {
  const sum = (field: keyof Totals) => points.reduce((n, p) => n + p[field], 0);
  return {
    genuine: sum('genuine'),
    rightAccepts: sum('rightAccepts'),
    wrongAccepts: sum('wrongAccepts'),
    strangers: sum('strangers'),
    strangerAccepts: sum('strangerAccepts'),
  };
}

/**
 * K-fold cross-validation over people and strangers: the genuine probes of a person, their photos as a look-alike
 * (`lookAlikes`: ranked with them left out of the roster), and each stranger photo belong to one fold. For each fold the
 * rule is chosen on the other folds, with no stranger, no look-alike and no wrong student accepted, and reported on
 * this one. Every enrolled person stays in the gallery throughout, as on a real roster: only the choice of settings is
 * held out.
 */
export function crossValidate(ranked: readonly RankedProbe[], folds: number, defaults: MatchRule, lookAlikes: readonly LookAlike[] = []): CrossValidation {
  const people = [...new Set(ranked.flatMap((p) => (p.person === undefined ? [] : [p.person])))];
  const strangers = ranked.filter((p) => p.person === undefined).map((p) => p.path);
  const folds_ = Math.max(2, Math.min(folds, people.length));
  const personFold = assignFolds(people, folds_);
  const strangerFold = assignFolds(strangers, folds_);
  const foldOf = (probe: RankedProbe) => (probe.person === undefined ? strangerFold.get(probe.path)! : personFold.get(probe.person)!);
  // People with no genuine probe (every photo enrolled) are dealt into the folds too, apart from the others.
  const lookAlikesOnly = assignFolds([...new Set(lookAlikes.map((p) => p.leftOut))].filter((person) => !personFold.has(person)), folds_);
  const foldOfPerson = (person: string) => personFold.get(person) ?? lookAlikesOnly.get(person);
  const lookAlikeFold = (probe: LookAlike) => foldOfPerson(probe.leftOut)!;

  const perFold: FoldResult[] = [];
  for (let fold = 0; fold < folds_; fold++) {
    // A look-alike pair counts both ways (his enrollment photo against hers, hers against his: one distance), so a
    // look-alike taken for someone of the held-out fold is left out of tuning too.
    const tuningLookAlikes = lookAlikes.filter((p) => lookAlikeFold(p) !== fold && (p.ranking === undefined || foldOfPerson(p.ranking.best.rollNo) !== fold));
    const tuning = [...ranked.filter((p) => foldOf(p) !== fold), ...tuningLookAlikes];
    const testing = ranked.filter((p) => foldOf(p) === fold);
    const testingLookAlikes = lookAlikes.filter((p) => lookAlikeFold(p) === fold);
    // With no clean rule on the tuning folds, fall back to the most cautious point of the grid rather than guess.
    const chosen = chooseRule(tuning) ?? { threshold: 0.3, margin: 0.2 };
    perFold.push({
      fold,
      people: people.filter((person) => personFold.get(person) === fold).length,
      strangers: testing.filter((p) => p.person === undefined).length,
      chosen,
      heldOut: operatingPoint(testing, chosen),
      defaults: operatingPoint(testing, defaults),
      lookAlikes: {
        photos: testingLookAlikes.length,
        heldOutAccepts: operatingPoint(testingLookAlikes, chosen).strangerAccepts,
        defaultsAccepts: operatingPoint(testingLookAlikes, defaults).strangerAccepts,
      },
    });
  }
  const sumLookAlikes = (field: keyof LookAlikeCounts) => perFold.reduce((n, f) => n + f.lookAlikes[field], 0);
  return {
    folds: folds_,
    perFold,
    heldOut: total(perFold.map((f) => f.heldOut)),
    defaults: total(perFold.map((f) => f.defaults)),
    lookAlikes: { photos: sumLookAlikes('photos'), heldOutAccepts: sumLookAlikes('heldOutAccepts'), defaultsAccepts: sumLookAlikes('defaultsAccepts') },
  };
}
