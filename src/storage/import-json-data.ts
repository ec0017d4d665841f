import { readdir } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';
import { DESCRIPTOR_MODEL_VERSION } from '../faces/face-engine.ts';
import type { AttendanceRecord } from './attendance-store.ts';
import { ATTENDANCE_FILE } from './json-attendance-store.ts';
import { DESCRIPTOR_CACHE_FILE } from './json-descriptor-store.ts';
import { ENROLLMENT_FILE } from './json-enrollment-store.ts';
import { STUDENTS_FILE } from './json-student-store.ts';
import { jsonStores } from './open-stores.ts';
import type { Database } from './pg-database.ts';

export interface ImportCounts {
  students: number;
  classMemberships: number;
  attendanceRecords: number;
  attendanceChanges: number;
  enrollmentOutcomes: number;
  descriptorPhotos: number;
}

const FIRST_DAY = '0000-01-01';
const LAST_DAY = '9999-12-31';

// Rows keep the folder's order (registration order, marking order, change order): `ord` says what it was.
const ordered = <Row extends object>(rows: Row[]) => rows.map((row, ord) => ({ ...row, ord }));

const inserted = (result: { rowCount: number | null }) => result.rowCount ?? 0;

const DATA_FILES = [STUDENTS_FILE, ATTENDANCE_FILE, ENROLLMENT_FILE, DESCRIPTOR_CACHE_FILE];

/**
 * Rejects with a ConfigError when `dataDir` is not a folder holding at least one data file. A mistyped path would
 * otherwise read as an empty folder: an import of nothing, reported as a success.
 */
export async function checkDataFolder(dataDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dataDir);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is a file, not a folder' : `cannot be read (${code})`;
    throw new ConfigError(`${dataDir} ${why}: name the folder the services kept their data in (their DATA_DIR, holding ${DATA_FILES.join(', ')}).`);
  }
  if (!names.some((name) => DATA_FILES.includes(name))) {
    throw new ConfigError(`${dataDir} holds no data files (${DATA_FILES.join(', ')}): nothing to import. Name the folder the services kept their data in (their DATA_DIR).`);
  }
}

/**
 * Copies a JSON data folder into the database in one transaction; resolves how many rows were new. Idempotent: what
 * the database already has (a student, a student's day, an identical change entry, an outcome, a student's cached
 * photos) is left as it is, so a second run adds nothing. Descriptors of another model version are not copied. A
 * folder with no data files is refused (see checkDataFolder).
 */
export async function importJsonData(database: Database, dataDir: string): Promise<ImportCounts> {
  await checkDataFolder(dataDir);
  const json = jsonStores(dataDir);
  const [students, days, changes, outcomes, descriptors] = await Promise.all([
    json.students.list(),
    json.attendance.listRange(FIRST_DAY, LAST_DAY),
    json.attendance.listChanges(FIRST_DAY, LAST_DAY),
    json.enrollments.list(),
    json.descriptors.list(DESCRIPTOR_MODEL_VERSION),
  ]);
  const records = days.flatMap(({ day, records: dayRecords }) => dayRecords.map((record) => recordRow(day, record)));
  const memberships = students.flatMap(({ rollNo, classes = [] }) => classes.map((classId) => ({ roll_no: rollNo, class_id: classId })));
  const photos = Object.entries(descriptors).flatMap(([rollNo, cached]) => cached.map((photo, position) => ({ roll_no: rollNo, position, ...photo })));
  return database.transaction(async (sql) => ({
    students: inserted(
      await sql.query(
        `INSERT INTO students (roll_no, url, urls, registered_at, photo_replaced_at)
         SELECT r.roll_no, r.url, r.urls, r.registered_at, r.photo_replaced_at
         FROM jsonb_to_recordset($1::jsonb) AS r(roll_no text, url text, urls jsonb, registered_at text, photo_replaced_at text, ord integer)
         ORDER BY r.ord ON CONFLICT (roll_no) DO NOTHING`,
        [JSON.stringify(ordered(students.map((s) => ({ roll_no: s.rollNo, url: s.url, urls: s.urls ?? null, registered_at: s.registeredAt ?? null, photo_replaced_at: s.photoReplacedAt ?? null }))))],
      ),
    ),
    classMemberships: inserted(
      await sql.query(
        `INSERT INTO student_classes (class_id, roll_no) SELECT r.class_id, r.roll_no FROM jsonb_to_recordset($1::jsonb) AS r(class_id text, roll_no text)
         ON CONFLICT DO NOTHING`,
        [JSON.stringify(memberships)],
      ),
    ),
    attendanceRecords: inserted(
      await sql.query(
        `INSERT INTO attendance (day, roll_no, timestamp, source, session_id, distance, room, marked_by, reason)
         SELECT r.day, r.roll_no, r.timestamp, r.source, r.session_id, r.distance, r.room, r.marked_by, r.reason
         FROM jsonb_to_recordset($1::jsonb) AS r(day text, roll_no text, timestamp text, source text, session_id text, distance double precision, room text, marked_by text, reason text, ord integer)
         ORDER BY r.ord ON CONFLICT (day, roll_no) DO NOTHING`,
        [JSON.stringify(ordered(records))],
      ),
    ),
    attendanceChanges: inserted(
      await sql.query(
        `INSERT INTO attendance_changes (at, day, roll_no, action, changed_by, reason, before)
         SELECT r.at, r.day, r.roll_no, r.action, r.changed_by, r.reason, r.before
         FROM jsonb_to_recordset($1::jsonb) AS r(at text, day text, roll_no text, action text, changed_by text, reason text, before jsonb, ord integer)
         WHERE NOT EXISTS (SELECT 1 FROM attendance_changes c WHERE c.at = r.at AND c.day = r.day AND c.roll_no = r.roll_no AND c.action = r.action)
         ORDER BY r.ord`,
        [JSON.stringify(ordered(changes.map((c) => ({ at: c.at, day: c.date, roll_no: c.rollNo, action: c.action, changed_by: c.by, reason: c.reason, before: c.before }))))],
      ),
    ),
    enrollmentOutcomes: inserted(
      await sql.query(
        `INSERT INTO enrollment_outcomes (roll_no, outcome) SELECT r.key, r.value FROM jsonb_each($1::jsonb) AS r ON CONFLICT (roll_no) DO NOTHING`,
        [JSON.stringify(outcomes)],
      ),
    ),
    descriptorPhotos: inserted(
      await sql.query(
        `INSERT INTO descriptor_photos (roll_no, position, model, url, sha256, descriptor, background_faces)
         SELECT r.roll_no, r.position, $1, r.url, r.sha256, decode(r.descriptor, 'base64'), coalesce(r."backgroundFaces", 0)
         FROM jsonb_to_recordset($2::jsonb) AS r(roll_no text, position integer, url text, sha256 text, descriptor text, "backgroundFaces" integer)
         WHERE NOT EXISTS (SELECT 1 FROM descriptor_photos d WHERE d.roll_no = r.roll_no)`,
        [DESCRIPTOR_MODEL_VERSION, JSON.stringify(photos)],
      ),
    ),
  }));
}

function recordRow(day: string, record: AttendanceRecord) {
  const common = { day, roll_no: record.rollNo, timestamp: record.timestamp, source: record.source };
  if (record.source === 'manual') return { ...common, marked_by: record.by, reason: record.reason };
  return { ...common, session_id: record.sessionId, distance: record.distance, room: record.room ?? null };
}
