import { createHash } from 'node:crypto';

/** A stable pseudo-random order, so a set splits the same way on every run and machine. */
export function stableOrder(keys: readonly string[]): string[] {
  const hash = (key: string) => createHash('sha256').update(key).digest('hex');
  return [...keys].sort((a, b) => (hash(a) < hash(b) ? -1 : hash(a) > hash(b) ? 1 : 0));
}

/** Deals the keys into `folds` folds of (nearly) equal size. */
export function assignFolds(keys: readonly string[], folds: number): Map<string, number> {
  return new Map(stableOrder(keys).map((key, i) => [key, i % folds]));
}
