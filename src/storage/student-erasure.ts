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
 * under its own store's lock finds the student gone and does not write back what the next steps remove.
 */
export class StoreByStoreErasure implements StudentErasure {
  constructor(
    private readonly stores: { students: StudentStore; enrollments: EnrollmentStore; descriptors: DescriptorStore; attendance: AttendanceStore },
  ) {}

  async erase(rollNo: string, withAttendance: boolean): Promise<Erased> {
    const { students, enrollments, descriptors, attendance } = this.stores;
    const removedFromRoster = await students.remove(rollNo);
    const removedEnrollmentOutcome = await enrollments.remove(rollNo);
    const removedDescriptors = await descriptors.remove(rollNo);
    const erased = withAttendance ? await attendance.removeStudent(rollNo) : { records: 0, changes: 0 };
    return { removedFromRoster, removedEnrollmentOutcome, removedDescriptors, removedAttendanceRecords: erased.records, removedAttendanceChanges: erased.changes };
  }
}
