import type { EnrollmentOutcome, EnrollmentOutcomes, EnrollmentStore } from './enrollment-store.ts';
import type { Database } from './pg-database.ts';
import { rosterLookupIn } from './pg-student-store.ts';
import type { StillCurrent } from './student-store.ts';

/** Enrollment outcomes in PostgreSQL: `enrollment_outcomes`, one verdict per student. */
export class PgEnrollmentStore implements EnrollmentStore {
  constructor(private readonly database: Database) {}

  recordMany(outcomes: EnrollmentOutcomes, stillCurrent?: StillCurrent): Promise<void> {
    return this.database.transaction(async (sql) => {
      const rollNos = Object.keys(outcomes);
      const allowed = stillCurrent ? await stillCurrent(rollNos, rosterLookupIn(sql)) : new Set(rollNos);
      const rows = rollNos.filter((rollNo) => allowed.has(rollNo)).map((rollNo) => ({ roll_no: rollNo, outcome: outcomes[rollNo] }));
      if (rows.length === 0) return;
      await sql.query(
        `INSERT INTO enrollment_outcomes (roll_no, outcome) SELECT r.roll_no, r.outcome FROM jsonb_to_recordset($1::jsonb) AS r(roll_no text, outcome jsonb)
         ON CONFLICT (roll_no) DO UPDATE SET outcome = EXCLUDED.outcome`,
        [JSON.stringify(rows)],
      );
    });
  }

  async list(): Promise<EnrollmentOutcomes> {
    const { rows } = await this.database.query<{ roll_no: string; outcome: EnrollmentOutcome }>('SELECT roll_no, outcome FROM enrollment_outcomes ORDER BY roll_no');
    return Object.fromEntries(rows.map((row) => [row.roll_no, row.outcome]));
  }

  async get(rollNo: string): Promise<EnrollmentOutcome | undefined> {
    const { rows } = await this.database.query<{ outcome: EnrollmentOutcome }>('SELECT outcome FROM enrollment_outcomes WHERE roll_no = $1', [rollNo]);
    return rows[0]?.outcome;
  }

  async remove(rollNo: string): Promise<boolean> {
    return ((await this.database.query('DELETE FROM enrollment_outcomes WHERE roll_no = $1', [rollNo])).rowCount ?? 0) > 0;
  }
}
