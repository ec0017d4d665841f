import { z } from 'zod';

export const RollNoSchema = z
  .string()
  .trim()
  .min(1, 'rollNo must not be empty')
  .max(64, 'rollNo must be at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'rollNo may only contain ASCII letters, digits, . _ and -');

export const StudentSchema = z.object({
  rollNo: RollNoSchema,
  url: z.string(),
  /** Every photo of the student, `url` first, when more than one was registered. */
  urls: z.array(z.string()).optional(),
  registeredAt: z.string().optional(),
  /** When the photo URL was last replaced; absent while it is the one given at registration. */
  photoReplacedAt: z.string().optional(),
  /** The classes the student was registered in (`classId` of POST /add-student), when any. */
  classes: z.array(z.string()).optional(),
});
export type Student = z.infer<typeof StudentSchema>;

export type NewStudent = Pick<Student, 'rollNo' | 'url' | 'urls'>;
export type StudentPhotos = Pick<Student, 'url' | 'urls'>;

/**
 * `byRollNo[rollNo]` when it is the object's own entry. A rollNo may be `toString` or `constructor`, which a plain
 * index would find on every object's prototype.
 */
export function ownEntry<T>(byRollNo: Readonly<Record<string, T>>, rollNo: string): T | undefined {
  return Object.hasOwn(byRollNo, rollNo) ? byRollNo[rollNo] : undefined;
}

export function photoUrls(student: NewStudent): string[] {
  return student.urls ?? [student.url];
}

/** The registered students among `rollNos`, as a store reads them inside its own write (a database: its transaction). */
export type RosterLookup = (rollNos: string[]) => Promise<Student[]>;

/**
 * Which of `rollNos` a writer may still record something for. Stores that keep what was derived from a student ask it
 * while their `remove` is held off, so that a student removed meanwhile (the roster entry goes first) stays removed.
 * A store that can read the roster inside its write passes `lookup`; without it the callback reads the roster itself.
 */
export type StillCurrent = (rollNos: string[], lookup?: RosterLookup) => Promise<ReadonlySet<string>>;

/** The entries of `byRollNo` that `stillCurrent` allows (all of them without it). */
export async function currentEntries<T>(byRollNo: Record<string, T>, stillCurrent: StillCurrent | undefined): Promise<[string, T][]> {
  const entries = Object.entries(byRollNo);
  if (!stillCurrent) return entries;
  const allowed = await stillCurrent(Object.keys(byRollNo));
  return entries.filter(([rollNo]) => allowed.has(rollNo));
}

/** The students of `classId` (CLASS_ID), or all of them without one. */
export function studentsOfClass(students: Student[], classId: string | undefined): Student[] {
  return classId === undefined ? students : students.filter((student) => student.classes?.includes(classId));
}

export interface AddStudentsResult {
  added: number;
  skipped: number;
}

/** Where the roster lives. The JSON file is the embedded default; a database implements the same contract. */
export interface StudentStore {
  list(): Promise<Student[]>;
  /**
   * Adds the students whose rollNo is not registered yet (the first one wins inside `students`), atomically. With
   * `classId`, every student listed joins that class, those already registered too (they are still counted as skipped).
   */
  addMany(students: NewStudent[], registeredAt: string, classId?: string): Promise<AddStudentsResult>;
  get(rollNo: string): Promise<Student | undefined>;
  /**
   * Points the student at new photos, replacing every earlier one (`urls` only when there are several, as `addMany`
   * keeps them). Resolves the updated student, or `undefined` if the rollNo is not registered.
   */
  replacePhoto(rollNo: string, photos: StudentPhotos, replacedAt: string): Promise<Student | undefined>;
  /** Removes the student from the roster. Resolves whether they were registered. */
  remove(rollNo: string): Promise<boolean>;
}
