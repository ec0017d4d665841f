import path from 'node:path';
import { AttendanceError, DataFileCorruptError, PartialErasureError } from '../errors.ts';
import type { AttendanceStore } from './attendance-store.ts';
import type { DescriptorStore } from './descriptor-store.ts';
import type { EnrollmentStore } from './enrollment-store.ts';
import type { StudentStore } from './student-store.ts';

export interface Erased {
  removedFromRoster: boolean;
  removedEnrollmentOutcome: boolean;
  removedDescriptors: boolean;
  removedAttendanceRecords: number;
  removedAttendanceChanges: number;
}

/** Removes a student and everything derived from them; their attendance too when `withAttendance`. */
export interface StudentErasure {
  erase(rollNo: string, withAttendance: boolean): Promise<Erased>;
}

/**
 * Erasure across separate stores (the JSON files): the roster entry goes first, so a writer that checks the roster
 * under its own store's lock finds the student gone and does not write back what the next steps remove. A step that
 * fails after earlier ones removed something rejects with a PartialErasureError saying what was removed: each step
 * removes what is there, so repeating the erasure finishes it.
 */
export class StoreByStoreErasure implements StudentErasure {
  constructor(
    private readonly stores: { students: StudentStore; enrollments: EnrollmentStore; descriptors: DescriptorStore; attendance: AttendanceStore },
  ) {}

  async erase(rollNo: string, withAttendance: boolean): Promise<Erased> {
    const { students, enrollments, descriptors, attendance } = this.stores;
    const left = ['their roster entry', 'their enrollment outcome', 'their cached face descriptors', ...(withAttendance ? ['their attendance'] : [])];
    const removed: string[] = [];
    const done = (gone: boolean) => {
      const what = left.shift()!;
      if (gone) removed.push(what);
    };
    try {
      const removedFromRoster = await students.remove(rollNo);
      done(removedFromRoster);
      const removedEnrollmentOutcome = await enrollments.remove(rollNo);
      done(removedEnrollmentOutcome);
      const removedDescriptors = await descriptors.remove(rollNo);
      done(removedDescriptors);
      const erased = withAttendance ? await attendance.removeStudent(rollNo) : { records: 0, changes: 0 };
      return { removedFromRoster, removedEnrollmentOutcome, removedDescriptors, removedAttendanceRecords: erased.records, removedAttendanceChanges: erased.changes };
    } catch (error) {
      // Nothing removed yet: the error's own answer ("nothing was changed") is true.
      if (removed.length === 0) throw error;
      throw new PartialErasureError(rollNo, removed, left, problemOf(error), { cause: error });
    }
  }
}

// Answers may reach anyone who can reach the service: the data file's name, never the server's paths.
function problemOf(error: unknown): string {
  if (error instanceof DataFileCorruptError) return `${path.basename(error.file)} is not a valid data file`;
  if (error instanceof AttendanceError) return error.message.replace(/\.$/, '');
  return 'an unexpected error, see the service log';
}
