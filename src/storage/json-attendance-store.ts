import path from 'node:path';
import { z } from 'zod';
import { JsonDocument } from './json-document.ts';
import { AttendanceRecordSchema, DaySchema, type AttendanceRecord, type AttendanceStore } from './attendance-store.ts';
import type { StillCurrent } from './student-store.ts';

export const ATTENDANCE_FILE = 'attendance.json';

const AttendanceFileSchema = z.record(DaySchema, z.array(AttendanceRecordSchema));

/** `attendance.json`: `{ "YYYY-MM-DD": [{ "rollNo", "timestamp" }, …] }`. */
export class JsonAttendanceStore implements AttendanceStore {
  private readonly document: JsonDocument<typeof AttendanceFileSchema>;

  constructor(dataDir: string) {
    this.document = new JsonDocument(path.join(dataDir, ATTENDANCE_FILE), AttendanceFileSchema, () => ({}));
  }

  get file(): string {
    return this.document.file;
  }

  markPresent(day: string, record: AttendanceRecord, stillCurrent?: StillCurrent): Promise<boolean> {
    return this.document.update(async (current) => {
      const present = current[day] ?? [];
      if (present.some((existing) => existing.rollNo === record.rollNo)) return { next: undefined, result: false };
      if (stillCurrent && !(await stillCurrent([record.rollNo])).has(record.rollNo)) return { next: undefined, result: false };
      return { next: { ...current, [day]: [...present, record] }, result: true };
    });
  }

  async listDay(day: string): Promise<AttendanceRecord[]> {
    return (await this.document.read())[day] ?? [];
  }

  async listRange(from: string, to: string): Promise<{ day: string; records: AttendanceRecord[] }[]> {
    const days = await this.document.read();
    return Object.keys(days)
      .filter((day) => day >= from && day <= to && days[day]!.length > 0)
      .sort()
      .map((day) => ({ day, records: days[day]! }));
  }

  removeStudent(rollNo: string): Promise<number> {
    return this.document.update((current) => {
      let removed = 0;
      const next: Record<string, AttendanceRecord[]> = {};
      for (const [day, records] of Object.entries(current)) {
        const kept = records.filter((record) => record.rollNo !== rollNo);
        removed += records.length - kept.length;
        if (kept.length > 0) next[day] = kept;
      }
      return { next: removed > 0 ? next : undefined, result: removed };
    });
  }
}
