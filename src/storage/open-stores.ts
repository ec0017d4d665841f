import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.ts';
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

/** Each data file can be read (it parses) and written (a read-only folder would lose the roll call, a stuck lock too). */
export function jsonStoreChecks(dataDir: string, stores: Pick<Stores, 'students' | 'attendance' | 'enrollments' | 'descriptors'>): ReadinessCheck[] {
  const writable = async (file: string) => {
    await checkWritable(path.join(dataDir, file));
    await checkNotLockedTooLong(path.join(dataDir, file));
  };
  return [
    { name: 'students', check: async () => void (await stores.students.list(), await writable(STUDENTS_FILE)) },
    { name: 'attendance', check: async () => void (await stores.attendance.listDay('0000-00-00'), await writable(ATTENDANCE_FILE)) },
    { name: 'enrollment', check: async () => void (await stores.enrollments.list(), await writable(ENROLLMENT_FILE)) },
    { name: 'descriptors', check: async () => void (await stores.descriptors.list(''), await writable(DESCRIPTOR_CACHE_FILE)) },
  ];
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
  const database = new Database(config.DATABASE_URL, onDatabaseProblem);
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
