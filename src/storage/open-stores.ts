import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import { DataFileCorruptError } from '../errors.ts';
import type { ReadinessCheck } from '../http/ready-route.ts';
import type { AttendanceStore } from './attendance-store.ts';
import type { DescriptorStore } from './descriptor-store.ts';
import type { EnrollmentStore } from './enrollment-store.ts';
import { checkNotLockedTooLong } from './file-lock.ts';
import { ATTENDANCE_FILE, JsonAttendanceStore } from './json-attendance-store.ts';
import { DESCRIPTOR_CACHE_FILE, JsonDescriptorStore } from './json-descriptor-store.ts';
import { ENROLLMENT_FILE, JsonEnrollmentStore } from './json-enrollment-store.ts';
import { JsonStudentStore, STUDENTS_FILE } from './json-student-store.ts';
import { PgAttendanceStore } from './pg-attendance-store.ts';
import { checkDatabaseTakesWrites, Database, migrate } from './pg-database.ts';
import { PgDescriptorStore } from './pg-descriptor-store.ts';
import { PgEnrollmentStore } from './pg-enrollment-store.ts';
import { PgStudentErasure } from './pg-student-erasure.ts';
import { PgStudentStore } from './pg-student-store.ts';
import { StoreByStoreErasure, type StudentErasure } from './student-erasure.ts';
import type { StudentStore } from './student-store.ts';
import { checkWritable } from './writable.ts';

export interface Stores {
  kind: 'json-files' | 'postgres';
  students: StudentStore;
  attendance: AttendanceStore;
  enrollments: EnrollmentStore;
  descriptors: DescriptorStore;
  erasure: StudentErasure;
  /** What `/ready` checks to say the stores can be used. */
  readiness: ReadinessCheck[];
  close(): Promise<void>;
}

export function postgresStores(database: Database): Stores {
  return {
    kind: 'postgres',
    students: new PgStudentStore(database),
    attendance: new PgAttendanceStore(database),
    enrollments: new PgEnrollmentStore(database),
    descriptors: new PgDescriptorStore(database),
    erasure: new PgStudentErasure(database),
    readiness: [{ name: 'database', check: oneProbeAtATime(() => checkDatabaseTakesWrites(database)) }],
    close: () => database.close(),
  };
}

export function jsonStores(dataDir: string): Stores {
  const students = new JsonStudentStore(dataDir);
  const attendance = new JsonAttendanceStore(dataDir);
  const enrollments = new JsonEnrollmentStore(dataDir);
  const descriptors = new JsonDescriptorStore(dataDir);
  return {
    kind: 'json-files',
    students,
    attendance,
    enrollments,
    descriptors,
    erasure: new StoreByStoreErasure({ students, attendance, enrollments, descriptors }),
    readiness: jsonStoreChecks(dataDir, { students, attendance, enrollments, descriptors }),
    close: async () => {},
  };
}

/**
 * Each data file can be read (it parses) and written (a read-only folder would lose the roll call, a stuck lock too).
 * A file is parsed again only once it has changed: `/ready` is open to anyone, and re-reading a large attendance file
 * for each call let a flood of them exhaust the memory.
 */
export function jsonStoreChecks(dataDir: string, stores: Pick<Stores, 'students' | 'attendance' | 'enrollments' | 'descriptors'>): ReadinessCheck[] {
  const check = (file: string, read: () => Promise<unknown>) => dataFileCheck(path.join(dataDir, file), read);
  return [
    { name: 'students', check: check(STUDENTS_FILE, () => stores.students.list()) },
    { name: 'attendance', check: check(ATTENDANCE_FILE, () => stores.attendance.listDay('0000-00-00')) },
    { name: 'enrollment', check: check(ENROLLMENT_FILE, () => stores.enrollments.list()) },
    { name: 'descriptors', check: check(DESCRIPTOR_CACHE_FILE, () => stores.descriptors.list('')) },
  ];
}

/** Checks `file` is writable and that `read` succeeds, calling `read` only when the file changed since its last verdict. */
function dataFileCheck(file: string, read: () => Promise<unknown>): () => Promise<void> {
  let verdict: { version: string; outcome: Promise<void> } | undefined;
  return async () => {
    const version = await fileVersion(file);
    if (verdict?.version !== version) {
      const outcome = read().then(() => {});
      verdict = { version, outcome };
      // A damaged file stays damaged until it changes; any other failure (too many open files, say) is tried again.
      outcome.catch((error: unknown) => {
        if (!(error instanceof DataFileCorruptError) && verdict?.outcome === outcome) verdict = undefined;
      });
    }
    await verdict.outcome;
    await checkWritable(file);
    await checkNotLockedTooLong(file);
  };
}

/** Changes whenever the file's content may have: rewritten (atomic writes replace the inode), resized or touched. */
async function fileVersion(file: string): Promise<string> {
  try {
    const { dev, ino, size, mtimeMs, ctimeMs } = await stat(file);
    return `${dev}:${ino}:${size}:${mtimeMs}:${ctimeMs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}

/**
 * The stores `DATABASE_URL` asks for: PostgreSQL (schema migrated first) when it is set, the JSON files in `DATA_DIR`
 * otherwise. A damaged data file or an unreachable database stops the service at start rather than at the first request.
 */
export async function openStores(config: Config, onDatabaseProblem: (problem: string) => void = () => {}): Promise<Stores> {
  if (config.DATABASE_URL === undefined) {
    await mkdir(config.DATA_DIR, { recursive: true });
    const stores = jsonStores(config.DATA_DIR);
    for (const { check } of stores.readiness) await check();
    return stores;
  }
  const database = new Database(config.DATABASE_URL, onDatabaseProblem, config.DATABASE_QUERY_TIMEOUT_MS);
  try {
    await migrate(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return postgresStores(database);
}

/**
 * Callers while a probe is out share it: a database that stops answering would otherwise hold one pooled connection
 * per `/status` poll until TCP gives up, and leave none for the marks.
 */
function oneProbeAtATime(probe: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => (pending ??= probe().finally(() => (pending = undefined)));
}
