/**
 * The students the worker has reported, each once a day. A session left running past midnight reports everyone
 * again for the new day: the day's first sighting of a student is what marks them present that day.
 */
export class DailyReports {
  private readonly reported: Set<string>;

  /** `alreadyPresent`: the students marked present on `day` before the session started. */
  constructor(
    private day: string,
    alreadyPresent: Iterable<string>,
  ) {
    this.reported = new Set(alreadyPresent);
  }

  /** Whether to report `rollNo`, seen on `day`: true for the first sighting of each student each day. */
  take(rollNo: string, day: string): boolean {
    if (day !== this.day) {
      this.day = day;
      this.reported.clear();
    }
    if (this.reported.has(rollNo)) return false;
    this.reported.add(rollNo);
    return true;
  }
}
