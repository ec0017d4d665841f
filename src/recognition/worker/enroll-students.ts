import { EnrollmentError } from '../../errors.ts';
import type { FaceEngine } from '../../faces/face-engine.ts';
import type { EnrolledFace } from '../../faces/face-matcher.ts';
import { enrollmentDescriptor } from '../../faces/find-faces.ts';
import type { PhotoDownloader } from '../../photos/download-photo.ts';
import { photoUrls, type NewStudent } from '../../storage/student-store.ts';
import type { EnrollmentProblem } from './messages.ts';

const PARALLEL_DOWNLOADS = 4;

export interface EnrollmentResult {
  enrolled: EnrolledFace[];
  problems: EnrollmentProblem[];
}

/** Turns each of the students' photos into a face descriptor, or a reason why it could not. */
export async function enrollStudents(
  students: readonly NewStudent[],
  engine: FaceEngine,
  downloader: PhotoDownloader,
  signal: AbortSignal,
): Promise<EnrollmentResult> {
  const photos = students.flatMap((student) => {
    const urls = photoUrls(student);
    return urls.map((url, i) => ({ rollNo: student.rollNo, url, label: urls.length > 1 ? `photo ${i + 1} of ${urls.length}: ` : '' }));
  });
  const outcomes: (EnrolledFace | EnrollmentProblem)[] = new Array(photos.length);
  let next = 0;
  const enrollNext = async (): Promise<void> => {
    while (next < photos.length && !signal.aborted) {
      const index = next++;
      const photo = photos[index]!;
      outcomes[index] = await enrollPhoto(photo.rollNo, photo.url, engine, downloader, signal).catch((error: unknown) => {
        if (!(error instanceof EnrollmentError)) throw error;
        return { rollNo: photo.rollNo, code: error.code, message: `${photo.label}${error.message}` };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, photos.length) }, enrollNext));
  const enrolled: EnrolledFace[] = [];
  const problems: EnrollmentProblem[] = [];
  for (const outcome of outcomes) {
    if (!outcome) continue;
    if ('descriptor' in outcome) enrolled.push(outcome);
    else problems.push(outcome);
  }
  return { enrolled, problems };
}

async function enrollPhoto(
  rollNo: string,
  url: string,
  engine: FaceEngine,
  downloader: PhotoDownloader,
  signal: AbortSignal,
): Promise<EnrolledFace> {
  const bytes = await downloader.download(url, signal);
  return { rollNo, descriptor: await enrollmentDescriptor(bytes, engine) };
}
