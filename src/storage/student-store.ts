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
});
export type Student = z.infer<typeof StudentSchema>;

export type NewStudent = Pick<Student, 'rollNo' | 'url' | 'urls'>;

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

/**
 * Which of `rollNos` a writer may still record something for. Stores that keep what was derived from a student ask it
 * while their `remove` is held off, so that a student removed meanwhile (the roster entry goes first) stays removed.
 */
export type StillCurrent = (rollNos: string[]) => Promise<ReadonlySet<string>>;

/** The entries of `byRollNo` that `stillCurrent` allows (all of them without it). */
export async function currentEntries<T>(byRollNo: Record<string, T>, stillCurrent: StillCurrent | undefined): Promise<[string, T][]> {
  const entries = Object.entries(byRollNo);
  if (!stillCurrent) return entries;
  const allowed = await stillCurrent(Object.keys(byRollNo));
  return entries.filter(([rollNo]) => allowed.has(rollNo));
}

export interface AddStudentsResult {
  added: number;
  skipped: number;
}

/** Where the roster lives. The JSON file is the embedded default; a database implements the same contract. */
export interface StudentStore {
  list(): Promise<Student[]>;
  /** Adds the students whose rollNo is not registered yet (the first one wins inside `students`), atomically. */
  addMany(students: NewStudent[], registeredAt: string): Promise<AddStudentsResult>;
  get(rollNo: string): Promise<Student | undefined>;
  /** Points the student at a new photo URL. Resolves the updated student, or `undefined` if the rollNo is not registered. */
  replacePhoto(rollNo: string, url: string, replacedAt: string): Promise<Student | undefined>;
  /** Removes the student from the roster. Resolves whether they were registered. */
  remove(rollNo: string): Promise<boolean>;
}
