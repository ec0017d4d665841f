import path from 'node:path';
import { z } from 'zod';
import { JsonDocument } from './json-document.ts';
import { StudentSchema, type AddStudentsResult, type NewStudent, type Student, type StudentPhotos, type StudentStore } from './student-store.ts';

export const STUDENTS_FILE = 'students_data.json';

const StudentsFileSchema = z.array(StudentSchema);

/** `students_data.json`: a JSON array of students, as the original Python service kept it. */
export class JsonStudentStore implements StudentStore {
  private readonly document: JsonDocument<typeof StudentsFileSchema>;

  constructor(dataDir: string) {
    this.document = new JsonDocument(path.join(dataDir, STUDENTS_FILE), StudentsFileSchema, () => []);
  }

  get file(): string {
    return this.document.file;
  }

  list(): Promise<Student[]> {
    return this.document.read();
  }

  addMany(students: NewStudent[], registeredAt: string, classId?: string): Promise<AddStudentsResult> {
    return this.document.update((current) => {
      const known = new Set(current.map((student) => student.rollNo));
      const added: Student[] = [];
      for (const { rollNo, url, urls } of students) {
        if (known.has(rollNo)) continue;
        known.add(rollNo);
        added.push({ rollNo, url, ...(urls && { urls }), registeredAt, ...(classId !== undefined && { classes: [classId] }) });
      }
      const result = { added: added.length, skipped: students.length - added.length };
      const joining = new Set(classId === undefined ? [] : students.map((student) => student.rollNo));
      let joined = false;
      const kept = current.map((student) => {
        if (classId === undefined || !joining.has(student.rollNo) || student.classes?.includes(classId)) return student;
        joined = true;
        return { ...student, classes: [...(student.classes ?? []), classId].sort() };
      });
      return { next: added.length > 0 || joined ? [...kept, ...added] : undefined, result };
    });
  }

  async get(rollNo: string): Promise<Student | undefined> {
    return (await this.document.read()).find((student) => student.rollNo === rollNo);
  }

  replacePhoto(rollNo: string, photos: StudentPhotos, replacedAt: string): Promise<Student | undefined> {
    return this.document.update((current) => {
      const existing = current.find((student) => student.rollNo === rollNo);
      if (!existing) return { next: undefined, result: undefined };
      const { urls: _earlierPhotos, ...rest } = existing;
      // Parsed for the schema's key order, the order every other record in the file has.
      const updated = StudentSchema.parse({ ...rest, url: photos.url, ...(photos.urls && { urls: photos.urls }), photoReplacedAt: replacedAt });
      return { next: current.map((student) => (student === existing ? updated : student)), result: updated };
    });
  }

  remove(rollNo: string): Promise<boolean> {
    return this.document.update((current) => {
      const remaining = current.filter((student) => student.rollNo !== rollNo);
      const removed = remaining.length < current.length;
      return { next: removed ? remaining : undefined, result: removed };
    });
  }
}
