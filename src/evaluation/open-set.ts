import { decide, FaceMatcher, type EnrolledFace, type MatchRule, type Ranking } from '../faces/face-matcher.ts';

/** A photo of an enrolled person (`person` set) or of a stranger, with the descriptor of its face if one was found. */
export interface Probe {
  path: string;
  person?: string;
  descriptor?: Float32Array;
}

export interface RankedProbe {
  path: string;
  person?: string;
  ranking?: Ranking;
  /** Distance to the nearest photo of the probe's own person (genuine probes). */
  ownDistance?: number;
}

export interface OperatingPoint {
  threshold: number;
  margin: number;
  genuine: number;
  /** Genuine probes accepted as the right person. */
  rightAccepts: number;
  /** Genuine probes accepted as somebody else. */
  wrongAccepts: number;
  strangers: number;
  strangerAccepts: number;
  rightAcceptRate: number;
  strangerAcceptRate: number;
}

/** Ranks every probe against the gallery with the service's own matcher. */
export function rankProbes(gallery: readonly EnrolledFace[], probes: readonly Probe[]): RankedProbe[] {
  const matcher = new FaceMatcher(gallery, { threshold: Infinity, margin: 0 });
  const own = (probe: Probe): number | undefined => {
    const photos = gallery.filter((face) => face.rollNo === probe.person);
    if (!probe.descriptor || photos.length === 0) return undefined;
    return new FaceMatcher(photos, { threshold: Infinity, margin: 0 }).rank(probe.descriptor)?.best.distance;
  };
  return probes.map((probe) => ({
    path: probe.path,
    person: probe.person,
    ranking: probe.descriptor ? matcher.rank(probe.descriptor) : undefined,
    ownDistance: own(probe),
  }));
}

/** Counts the service's decisions (`decide`) over ranked probes at one threshold and margin. */
export function operatingPoint(ranked: readonly RankedProbe[], rule: MatchRule): OperatingPoint {
  let genuine = 0;
  let rightAccepts = 0;
  let wrongAccepts = 0;
  let strangers = 0;
  let strangerAccepts = 0;
  for (const probe of ranked) {
    const accepted = decide(probe.ranking, rule);
    if (probe.person === undefined) {
      strangers += 1;
      if (accepted) strangerAccepts += 1;
    } else {
      genuine += 1;
      if (accepted?.rollNo === probe.person) rightAccepts += 1;
      else if (accepted) wrongAccepts += 1;
    }
  }
  return {
    threshold: rule.threshold,
    margin: rule.margin,
    genuine,
    rightAccepts,
    wrongAccepts,
    strangers,
    strangerAccepts,
    rightAcceptRate: genuine === 0 ? 0 : rightAccepts / genuine,
    strangerAcceptRate: strangers === 0 ? 0 : strangerAccepts / strangers,
  };
}

export function thresholdSweep(ranked: readonly RankedProbe[], margin: number, from = 0.3, to = 0.7, step = 0.01): OperatingPoint[] {
  const points: OperatingPoint[] = [];
  for (let i = 0; from + i * step <= to + 1e-9; i++) {
    points.push(operatingPoint(ranked, { threshold: Number((from + i * step).toFixed(4)), margin }));
  }
  return points;
}
