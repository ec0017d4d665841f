import { z } from 'zod';
import { RollNoSchema, type StillCurrent } from './student-store.ts';

/** A calendar day, `YYYY-MM-DD`, in the site's time zone. */
export const DaySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');

/** UTC, whole seconds, `Z` suffix: `2025-09-06T13:30:10Z`. */
export const TimestampSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'expected YYYY-MM-DDTHH:MM:SSZ');

export const AttendanceRecordSchema = z.object({ rollNo: RollNoSchema, timestamp: TimestampSchema });
export type AttendanceRecord = z.infer<typeof AttendanceRecordSchema>;

/** Where attendance lives. The JSON file is the embedded default; a database implements the same contract. */
export interface AttendanceStore {
  /**
   * Records `record` for `day` unless the student is already present that day, or `stillCurrent` (when given) no
   * longer allows them. Resolves whether it was recorded.
   */
  markPresent(day: string, record: AttendanceRecord, stillCurrent?: StillCurrent): Promise<boolean>;
  /** The students present on `day`, in the order they were marked. */
  listDay(day: string): Promise<AttendanceRecord[]>;
  /** Every day from `from` to `to` (inclusive) with at least one student present, in calendar order. */
  listRange(from: string, to: string): Promise<{ day: string; records: AttendanceRecord[] }[]>;
  /** Erases the student's attendance on every day. Resolves how many records were removed. */
  removeStudent(rollNo: string): Promise<number>;
}
