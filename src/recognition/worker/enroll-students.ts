import { EnrollmentError } from '../../errors.ts';
import type { FaceEngine } from '../../faces/face-engine.ts';
import type { EnrolledFace } from '../../faces/face-matcher.ts';
import { enrollmentDescriptor } from '../../faces/find-faces.ts';
import type { PhotoDownloader } from '../../photos/download-photo.ts';
import type { NewStudent } from '../../storage/student-store.ts';
import type { EnrollmentProblem } from './messages.ts';

const PARALLEL_DOWNLOADS = 4;

export interface EnrollmentResult {
  enrolled: EnrolledFace[];
  problems: EnrollmentProblem[];
}

/** Turns each student's photo into one face descriptor, or a reason why it could not. */
export async function enrollStudents(
  students: readonly NewStudent[],
  engine: FaceEngine,
  downloader: PhotoDownloader,
  signal: AbortSignal,
): Promise<EnrollmentResult> {
  const outcomes: (EnrolledFace | EnrollmentProblem)[] = new Array(students.length);
  let next = 0;
  const enrollNext = async (): Promise<void> => {
    while (next < students.length && !signal.aborted) {
      const index = next++;
      const student = students[index]!;
      outcomes[index] = await enrollOne(student, engine, downloader, signal).catch((error: unknown) => {
        if (!(error instanceof EnrollmentError)) throw error;
        return { rollNo: student.rollNo, code: error.code, message: error.message };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, students.length) }, enrollNext));
  const enrolled: EnrolledFace[] = [];
  const problems: EnrollmentProblem[] = [];
  for (const outcome of outcomes) {
    if (!outcome) continue;
    if ('descriptor' in outcome) enrolled.push(outcome);
    else problems.push(outcome);
  }
  return { enrolled, problems };
}

async function enrollOne(
  student: NewStudent,
  engine: FaceEngine,
  downloader: PhotoDownloader,
  signal: AbortSignal,
): Promise<EnrolledFace> {
  const bytes = await downloader.download(student.url, signal);
  return { rollNo: student.rollNo, descriptor: await enrollmentDescriptor(bytes, engine) };
}
