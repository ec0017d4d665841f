import path from 'node:path';
import { z } from 'zod';
import { JsonDocument } from './json-document.ts';
import {
  AttendanceChangeSchema,
  AttendanceRecordSchema,
  DaySchema,
  recordOfMark,
  type AttendanceChange,
  type AttendanceRecord,
  type AttendanceStore,
  type Correction,
  type ManualMarkOutcome,
  type RecognitionMark,
  type RecognitionMarkOutcome,
} from './attendance-store.ts';
import type { StillCurrent } from './student-store.ts';

export const ATTENDANCE_FILE = 'attendance.json';

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

// Records written before sources were kept are camera marks with no session or distance on record.
const StoredRecordSchema = z.preprocess(
  (record) => (isPlainObject(record) && !Object.hasOwn(record, 'source') ? { ...record, source: 'camera', sessionId: null, distance: null } : record),
  AttendanceRecordSchema,
);

const AttendanceFileSchema = z.preprocess(
  // The first format was the day map alone: `{ "YYYY-MM-DD": [records] }`. It is read as is and written in the new one.
  (file) => (isPlainObject(file) && !Object.hasOwn(file, 'days') ? { days: file, changes: [] } : file),
  z.object({
    days: z.record(DaySchema, z.array(StoredRecordSchema)),
    changes: z.array(AttendanceChangeSchema),
  }),
);
type AttendanceFile = z.infer<typeof AttendanceFileSchema>;

const unchanged = <Result>(result: Result) => ({ next: undefined, result });

function recordsOf(file: AttendanceFile, day: string): AttendanceRecord[] {
  return Object.hasOwn(file.days, day) ? file.days[day]! : [];
}

function withDay(file: AttendanceFile, day: string, records: AttendanceRecord[]): AttendanceFile['days'] {
  const days = { ...file.days, [day]: records };
  if (records.length === 0) delete days[day];
  return days;
}

/**
 * `attendance.json`: `{ "days": { "YYYY-MM-DD": [record, …] }, "changes": [change, …] }`. The attendance and its audit
 * trail share one file, so a correction and its change entry are written by the same atomic rename: a reader or a
 * crash sees both or neither.
 */
export class JsonAttendanceStore implements AttendanceStore {
  private readonly document: JsonDocument<typeof AttendanceFileSchema>;

  constructor(dataDir: string) {
    this.document = new JsonDocument(path.join(dataDir, ATTENDANCE_FILE), AttendanceFileSchema, () => ({ days: {}, changes: [] }));
  }

  get file(): string {
    return this.document.file;
  }

  markPresent(day: string, mark: RecognitionMark, stillCurrent?: StillCurrent): Promise<RecognitionMarkOutcome> {
    return this.document.update(async (current) => {
      const present = recordsOf(current, day);
      if (present.some((record) => record.rollNo === mark.rollNo)) return unchanged('already-present' as const);
      if (current.changes.some((change) => change.date === day && change.rollNo === mark.rollNo && change.action === 'removed')) {
        return unchanged('removed-by-person' as const);
      }
      if (stillCurrent && !(await stillCurrent([mark.rollNo])).has(mark.rollNo)) return unchanged('not-current' as const);
      return { next: { ...current, days: withDay(current, day, [...present, recordOfMark(mark)]) }, result: 'marked' as const };
    });
  }

  markManually(day: string, { rollNo, at, by, reason }: Correction, stillCurrent?: StillCurrent): Promise<ManualMarkOutcome> {
    return this.document.update(async (current): Promise<{ next: AttendanceFile | undefined; result: ManualMarkOutcome }> => {
      if (stillCurrent && !(await stillCurrent([rollNo])).has(rollNo)) return unchanged({ outcome: 'not-current' });
      const present = recordsOf(current, day);
      const existing = present.find((record) => record.rollNo === rollNo);
      if (existing) return unchanged({ outcome: 'already-present', record: existing });
      const record = { rollNo, timestamp: at, source: 'manual' as const, by, reason };
      const change: AttendanceChange = { at, date: day, rollNo, action: 'marked', by, reason, before: null };
      return {
        next: { days: withDay(current, day, [...present, record]), changes: [...current.changes, change] },
        result: { outcome: 'marked', record, change },
      };
    });
  }

  removeMark(day: string, { rollNo, at, by, reason }: Correction): Promise<AttendanceChange | undefined> {
    return this.document.update((current) => {
      const present = recordsOf(current, day);
      const existing = present.find((record) => record.rollNo === rollNo);
      if (!existing) return unchanged(undefined);
      const change: AttendanceChange = { at, date: day, rollNo, action: 'removed', by, reason, before: existing };
      return {
        next: { days: withDay(current, day, present.filter((record) => record !== existing)), changes: [...current.changes, change] },
        result: change,
      };
    });
  }

  async listDay(day: string): Promise<AttendanceRecord[]> {
    return recordsOf(await this.document.read(), day);
  }

  async listRange(from: string, to: string): Promise<{ day: string; records: AttendanceRecord[] }[]> {
    const { days } = await this.document.read();
    return Object.keys(days)
      .filter((day) => day >= from && day <= to && days[day]!.length > 0)
      .sort()
      .map((day) => ({ day, records: days[day]! }));
  }

  async listChanges(from: string, to: string): Promise<AttendanceChange[]> {
    return (await this.document.read()).changes.filter((change) => change.date >= from && change.date <= to);
  }

  removeStudent(rollNo: string): Promise<{ records: number; changes: number }> {
    return this.document.update((current) => {
      let records = 0;
      const days: AttendanceFile['days'] = {};
      for (const [day, dayRecords] of Object.entries(current.days)) {
        const kept = dayRecords.filter((record) => record.rollNo !== rollNo);
        records += dayRecords.length - kept.length;
        if (kept.length > 0) days[day] = kept;
      }
      const changes = current.changes.filter((change) => change.rollNo !== rollNo);
      const removed = { records, changes: current.changes.length - changes.length };
      return { next: removed.records + removed.changes > 0 ? { days, changes } : undefined, result: removed };
    });
  }
}
