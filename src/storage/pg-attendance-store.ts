import {
  recordOfMark,
  type AttendanceChange,
  type AttendanceRecord,
  type AttendanceStore,
  type Correction,
  type ManualMarkOutcome,
  type ManualRecord,
  type RecognitionMark,
  type RecognitionMarkOutcome,
} from './attendance-store.ts';
import { lockKey, type Database, type Sql } from './pg-database.ts';
import { rosterLookupIn } from './pg-student-store.ts';
import type { StillCurrent } from './student-store.ts';

interface AttendanceRow {
  day: string;
  roll_no: string;
  timestamp: string;
  source: AttendanceRecord['source'];
  session_id: string | null;
  distance: number | null;
  room: string | null;
  marked_by: string | null;
  reason: string | null;
}

interface ChangeRow {
  at: string;
  day: string;
  roll_no: string;
  action: 'marked' | 'removed';
  changed_by: string | null;
  reason: string | null;
  before: AttendanceRecord | null;
}

const RECORD_COLUMNS = 'day, roll_no, timestamp, source, session_id, distance, room, marked_by, reason';
const CHANGE_COLUMNS = 'at, day, roll_no, action, changed_by, reason, before';

function recordFromRow(row: AttendanceRow): AttendanceRecord {
  if (row.source === 'manual') return { rollNo: row.roll_no, timestamp: row.timestamp, source: 'manual', by: row.marked_by, reason: row.reason };
  const where = row.room !== null ? { room: row.room } : {};
  // Migration 002's check keeps a photo row's session and distance set.
  if (row.source === 'photo') return { rollNo: row.roll_no, timestamp: row.timestamp, source: 'photo', sessionId: row.session_id!, distance: row.distance!, ...where };
  return { rollNo: row.roll_no, timestamp: row.timestamp, source: 'camera', sessionId: row.session_id, distance: row.distance, ...where };
}

function changeFromRow(row: ChangeRow): AttendanceChange {
  return { at: row.at, date: row.day, rollNo: row.roll_no, action: row.action, by: row.changed_by, reason: row.reason, before: row.before };
}

/** Every write about one student's day holds this lock: a mark, a correction and a removal never interleave. */
const lockStudentDay = (sql: Sql, day: string, rollNo: string) => lockKey(sql, `attendance/${day}/${rollNo}`);

async function presentRecord(sql: Sql, day: string, rollNo: string): Promise<AttendanceRecord | undefined> {
  const { rows } = await sql.query<AttendanceRow>(`SELECT ${RECORD_COLUMNS} FROM attendance WHERE day = $1 AND roll_no = $2`, [day, rollNo]);
  return rows[0] && recordFromRow(rows[0]);
}

async function isAllowed(sql: Sql, rollNo: string, stillCurrent: StillCurrent | undefined): Promise<boolean> {
  return !stillCurrent || (await stillCurrent([rollNo], rosterLookupIn(sql))).has(rollNo);
}

async function insertChange(sql: Sql, change: AttendanceChange): Promise<void> {
  await sql.query('INSERT INTO attendance_changes (at, day, roll_no, action, changed_by, reason, before) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    change.at,
    change.date,
    change.rollNo,
    change.action,
    change.by,
    change.reason,
    change.before === null ? null : JSON.stringify(change.before),
  ]);
}

/**
 * Attendance in PostgreSQL: `attendance` (one row per student and day, whichever room saw them first) and
 * `attendance_changes`. The primary key (day, roll_no) and `INSERT … ON CONFLICT DO NOTHING` keep a student to one
 * record a day across every room; the roster check and the "a person removed this mark" check run in the same
 * transaction as the insert, under a lock on the student's day, with the student's roster row share-locked.
 */
export class PgAttendanceStore implements AttendanceStore {
  constructor(private readonly database: Database) {}

  markPresent(day: string, mark: RecognitionMark, stillCurrent?: StillCurrent): Promise<RecognitionMarkOutcome> {
    return this.database.transaction(async (sql) => {
      await lockStudentDay(sql, day, mark.rollNo);
      const { rows } = await sql.query<{ present: boolean; removed: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM attendance WHERE day = $1 AND roll_no = $2) AS present,
                EXISTS (SELECT 1 FROM attendance_changes WHERE day = $1 AND roll_no = $2 AND action = 'removed') AS removed`,
        [day, mark.rollNo],
      );
      if (rows[0]!.present) return 'already-present';
      if (rows[0]!.removed) return 'removed-by-person';
      if (!(await isAllowed(sql, mark.rollNo, stillCurrent))) return 'not-current';
      const record = recordOfMark(mark);
      const inserted = await sql.query(
        `INSERT INTO attendance (day, roll_no, timestamp, source, session_id, distance, room)
         SELECT $1, $2, $3, $4, $5, $6, $7
         WHERE NOT EXISTS (SELECT 1 FROM attendance_changes WHERE day = $1 AND roll_no = $2 AND action = 'removed')
         ON CONFLICT (day, roll_no) DO NOTHING`,
        [day, record.rollNo, record.timestamp, record.source, record.sessionId, record.distance, record.room ?? null],
      );
      return inserted.rowCount === 1 ? 'marked' : 'already-present';
    });
  }

  markManually(day: string, { rollNo, at, by, reason }: Correction, stillCurrent?: StillCurrent): Promise<ManualMarkOutcome> {
    return this.database.transaction(async (sql): Promise<ManualMarkOutcome> => {
      await lockStudentDay(sql, day, rollNo);
      if (!(await isAllowed(sql, rollNo, stillCurrent))) return { outcome: 'not-current' };
      const existing = await presentRecord(sql, day, rollNo);
      if (existing) return { outcome: 'already-present', record: existing };
      await sql.query(
        `INSERT INTO attendance (day, roll_no, timestamp, source, marked_by, reason) VALUES ($1, $2, $3, 'manual', $4, $5)`,
        [day, rollNo, at, by, reason],
      );
      const record: ManualRecord = { rollNo, timestamp: at, source: 'manual', by, reason };
      const change: AttendanceChange = { at, date: day, rollNo, action: 'marked', by, reason, before: null };
      await insertChange(sql, change);
      return { outcome: 'marked', record, change };
    });
  }

  removeMark(day: string, { rollNo, at, by, reason }: Correction): Promise<AttendanceChange | undefined> {
    return this.database.transaction(async (sql) => {
      await lockStudentDay(sql, day, rollNo);
      const { rows } = await sql.query<AttendanceRow>(`DELETE FROM attendance WHERE day = $1 AND roll_no = $2 RETURNING ${RECORD_COLUMNS}`, [day, rollNo]);
      if (!rows[0]) return undefined;
      const change: AttendanceChange = { at, date: day, rollNo, action: 'removed', by, reason, before: recordFromRow(rows[0]) };
      await insertChange(sql, change);
      return change;
    });
  }

  async listDay(day: string): Promise<AttendanceRecord[]> {
    const { rows } = await this.database.query<AttendanceRow>(`SELECT ${RECORD_COLUMNS} FROM attendance WHERE day = $1 ORDER BY position`, [day]);
    return rows.map(recordFromRow);
  }

  async listRange(from: string, to: string): Promise<{ day: string; records: AttendanceRecord[] }[]> {
    const { rows } = await this.database.query<AttendanceRow>(
      `SELECT ${RECORD_COLUMNS} FROM attendance WHERE day BETWEEN $1 AND $2 ORDER BY day, position`,
      [from, to],
    );
    const days: { day: string; records: AttendanceRecord[] }[] = [];
    for (const row of rows) {
      if (days.at(-1)?.day !== row.day) days.push({ day: row.day, records: [] });
      days.at(-1)!.records.push(recordFromRow(row));
    }
    return days;
  }

  async listChanges(from: string, to: string): Promise<AttendanceChange[]> {
    const { rows } = await this.database.query<ChangeRow>(
      `SELECT ${CHANGE_COLUMNS} FROM attendance_changes WHERE day BETWEEN $1 AND $2 ORDER BY position`,
      [from, to],
    );
    return rows.map(changeFromRow);
  }

  removeStudent(rollNo: string): Promise<{ records: number; changes: number }> {
    return this.database.transaction((sql) => eraseAttendance(sql, rollNo));
  }
}

/** Removes the student's attendance and change entries inside the caller's transaction. */
export async function eraseAttendance(sql: Sql, rollNo: string): Promise<{ records: number; changes: number }> {
  const records = (await sql.query('DELETE FROM attendance WHERE roll_no = $1', [rollNo])).rowCount ?? 0;
  const changes = (await sql.query('DELETE FROM attendance_changes WHERE roll_no = $1', [rollNo])).rowCount ?? 0;
  return { records, changes };
}
