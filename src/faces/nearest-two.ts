/** The nearest student and the runner-up's distance among the students offered so far. */
export class NearestTwo {
  /** -1 until a student is offered. */
  best = -1;
  bestDistance = Number.POSITIVE_INFINITY;
  runnerUpDistance = Number.POSITIVE_INFINITY;

  /** Of students at the same distance the lowest-numbered is nearest, whatever order they are offered in. */
  offer(student: number, distance: number): void {
    if (distance < this.bestDistance || (distance === this.bestDistance && student < this.best)) {
      this.runnerUpDistance = this.bestDistance;
      this.bestDistance = distance;
      this.best = student;
    } else if (distance < this.runnerUpDistance) this.runnerUpDistance = distance;
  }
}
