import type { Database, Sql } from './pg-database.ts';
import type { AddStudentsResult, NewStudent, RosterLookup, Student, StudentPhotos, StudentStore } from './student-store.ts';

export interface StudentRow {
  roll_no: string;
  url: string;
  urls: string[] | null;
  registered_at: string | null;
  photo_replaced_at: string | null;
  classes?: string[] | null;
}

const STUDENT_COLUMNS = 's.roll_no, s.url, s.urls, s.registered_at, s.photo_replaced_at';
const WITH_CLASSES = `${STUDENT_COLUMNS}, ARRAY(SELECT c.class_id FROM student_classes c WHERE c.roll_no = s.roll_no ORDER BY c.class_id) AS classes`;

export function studentFromRow(row: StudentRow): Student {
  return {
    rollNo: row.roll_no,
    url: row.url,
    ...(row.urls !== null && { urls: row.urls }),
    ...(row.registered_at !== null && { registeredAt: row.registered_at }),
    ...(row.photo_replaced_at !== null && { photoReplacedAt: row.photo_replaced_at }),
    ...(row.classes && row.classes.length > 0 && { classes: row.classes }),
  };
}

/**
 * The registered students among `rollNos`, read inside the caller's transaction and share-locked until it ends: a
 * removal (or a new photo) waits for the write that checked the student, or the write finds them gone.
 */
export function rosterLookupIn(sql: Sql): RosterLookup {
  return async (rollNos) =>
    (await sql.query<StudentRow>(`SELECT ${STUDENT_COLUMNS} FROM students s WHERE s.roll_no = ANY($1::text[]) FOR SHARE`, [rollNos])).rows.map(studentFromRow);
}

/** The roster in PostgreSQL: `students`, in registration order, and `student_classes`. */
export class PgStudentStore implements StudentStore {
  constructor(private readonly database: Database) {}

  async list(): Promise<Student[]> {
    return (await this.database.query<StudentRow>(`SELECT ${WITH_CLASSES} FROM students s ORDER BY s.position`)).rows.map(studentFromRow);
  }

  addMany(students: NewStudent[], registeredAt: string, classId?: string): Promise<AddStudentsResult> {
    const firsts = new Map<string, NewStudent>();
    for (const student of students) if (!firsts.has(student.rollNo)) firsts.set(student.rollNo, student);
    const rows = [...firsts.values()].map(({ rollNo, url, urls }, order) => ({ roll_no: rollNo, url, urls: urls ?? null, ord: order }));
    return this.database.transaction(async (sql) => {
      // Two services adding the same student at once: the primary key lets exactly one insert it.
      const inserted = await sql.query(
        `INSERT INTO students (roll_no, url, urls, registered_at)
         SELECT r.roll_no, r.url, r.urls, $2 FROM jsonb_to_recordset($1::jsonb) AS r(roll_no text, url text, urls jsonb, ord integer) ORDER BY r.ord
         ON CONFLICT (roll_no) DO NOTHING`,
        [JSON.stringify(rows), registeredAt],
      );
      if (classId !== undefined) {
        await sql.query(
          `INSERT INTO student_classes (class_id, roll_no) SELECT $1, s.roll_no FROM students s WHERE s.roll_no = ANY($2::text[]) ON CONFLICT DO NOTHING`,
          [classId, [...firsts.keys()]],
        );
      }
      const added = inserted.rowCount ?? 0;
      return { added, skipped: students.length - added };
    });
  }

  async get(rollNo: string): Promise<Student | undefined> {
    const { rows } = await this.database.query<StudentRow>(`SELECT ${WITH_CLASSES} FROM students s WHERE s.roll_no = $1`, [rollNo]);
    return rows[0] && studentFromRow(rows[0]);
  }

  async replacePhoto(rollNo: string, photos: StudentPhotos, replacedAt: string): Promise<Student | undefined> {
    const { rows } = await this.database.query<StudentRow>(
      `UPDATE students s SET url = $2, urls = $3::jsonb, photo_replaced_at = $4 WHERE s.roll_no = $1 RETURNING ${WITH_CLASSES}`,
      [rollNo, photos.url, photos.urls ? JSON.stringify(photos.urls) : null, replacedAt],
    );
    return rows[0] && studentFromRow(rows[0]);
  }

  async remove(rollNo: string): Promise<boolean> {
    return ((await this.database.query('DELETE FROM students WHERE roll_no = $1', [rollNo])).rowCount ?? 0) > 0;
  }
}
