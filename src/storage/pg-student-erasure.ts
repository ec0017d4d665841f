import { eraseAttendance } from './pg-attendance-store.ts';
import type { Database } from './pg-database.ts';
import type { Erased, StudentErasure } from './student-erasure.ts';

/** Erasure in PostgreSQL: one transaction, so nobody ever sees a student half erased. */
export class PgStudentErasure implements StudentErasure {
  constructor(private readonly database: Database) {}

  erase(rollNo: string, withAttendance: boolean): Promise<Erased> {
    return this.database.transaction(async (sql) => {
      const removed = async (table: 'students' | 'enrollment_outcomes' | 'descriptor_photos') => ((await sql.query(`DELETE FROM ${table} WHERE roll_no = $1`, [rollNo])).rowCount ?? 0) > 0;
      // The roster row first: its lock waits for any write that is checking this student right now.
      const removedFromRoster = await removed('students');
      const removedEnrollmentOutcome = await removed('enrollment_outcomes');
      const removedDescriptors = await removed('descriptor_photos');
      const erased = withAttendance ? await eraseAttendance(sql, rollNo) : { records: 0, changes: 0 };
      return { removedFromRoster, removedEnrollmentOutcome, removedDescriptors, removedAttendanceRecords: erased.records, removedAttendanceChanges: erased.changes };
    });
  }
}
