import { createHash } from 'node:crypto';
import { EnrollmentError } from '../../errors.ts';
import type { FaceEngine } from '../../faces/face-engine.ts';
import type { EnrolledFace } from '../../faces/face-matcher.ts';
import { describeEnrollmentPhoto, type EnrollmentPhoto } from '../../faces/find-faces.ts';
import type { PhotoDownloader } from '../../photos/download-photo.ts';
import { photoUrls, type NewStudent } from '../../storage/student-store.ts';
import type { EnrollmentProblem } from './messages.ts';

const PARALLEL_DOWNLOADS = 4;

/** A photo's descriptor (and the faces left out beside it) with what identifies the photo: where it came from and its content. */
export interface DescribedPhoto extends EnrollmentPhoto {
  url: string;
  sha256: string;
}

export interface EnrollmentResult {
  enrolled: EnrolledFace[];
  problems: EnrollmentProblem[];
  /** Smaller faces left out of the usable photos of each student who had any, by rollNo. */
  backgroundFaces: Map<string, number>;
  /** Every photo of each student who had a photo downloaded this time, for the descriptor cache. */
  cacheUpdates: Map<string, DescribedPhoto[]>;
}

/** How many photos are not in the cache under their URL: the ones a session start downloads and may encode. */
export function uncachedPhotoCount(students: readonly NewStudent[], cached: ReadonlyMap<string, DescribedPhoto[]>): number {
  return students.reduce(
    (count, student) => count + photoUrls(student).filter((url) => !cached.get(student.rollNo)?.some((photo) => photo.url === url)).length,
    0,
  );
}

/**
 * Turns each of the students' photos into a face descriptor, or a reason why it could not. A photo already in the
 * cache under the student's URL is neither downloaded nor encoded; a downloaded photo whose content is in the cache
 * (another URL, another student) is not encoded again.
 */
export async function enrollStudents(
  students: readonly NewStudent[],
  cached: ReadonlyMap<string, DescribedPhoto[]>,
  describe: (bytes: Uint8Array) => Promise<EnrollmentPhoto>,
  downloader: PhotoDownloader,
  signal: AbortSignal,
): Promise<EnrollmentResult> {
  const byContent = new Map<string, EnrollmentPhoto>([...cached.values()].flatMap((photos) => photos.map((photo) => [photo.sha256, photo] as const)));
  const photos = students.flatMap((student) => {
    const urls = photoUrls(student);
    return urls.map((url, i) => ({ rollNo: student.rollNo, url, label: urls.length > 1 ? `photo ${i + 1} of ${urls.length}: ` : '' }));
  });
  const outcomes: ((DescribedPhoto & { rollNo: string; fresh: boolean }) | EnrollmentProblem)[] = new Array(photos.length);
  const enrollPhoto = async ({ rollNo, url }: (typeof photos)[number]) => {
    const known = cached.get(rollNo)?.find((photo) => photo.url === url);
    if (known) return { rollNo, ...known, fresh: false };
    const bytes = await downloader.download(url, signal);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const { descriptor, backgroundFaces } = byContent.get(sha256) ?? (await describe(bytes));
    byContent.set(sha256, { descriptor, backgroundFaces });
    return { rollNo, url, sha256, descriptor, backgroundFaces, fresh: true };
  };
  let next = 0;
  const enrollNext = async (): Promise<void> => {
    while (next < photos.length && !signal.aborted) {
      const index = next++;
      const photo = photos[index]!;
      outcomes[index] = await enrollPhoto(photo).catch((error: unknown) => {
        if (!(error instanceof EnrollmentError)) throw error;
        return { rollNo: photo.rollNo, code: error.code, message: `${photo.label}${error.message}` };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, photos.length) }, enrollNext));
  const enrolled: EnrolledFace[] = [];
  const problems: EnrollmentProblem[] = [];
  const backgroundFaces = new Map<string, number>();
  const described = new Map<string, DescribedPhoto[]>();
  const withFreshPhoto = new Set<string>();
  const studentsOfPhoto = new Map<string, Set<string>>();
  for (const outcome of outcomes) {
    if (outcome && 'descriptor' in outcome) studentsOfPhoto.set(outcome.sha256, (studentsOfPhoto.get(outcome.sha256) ?? new Set()).add(outcome.rollNo));
  }
  outcomes.forEach((outcome, index) => {
    if (!outcome) return;
    if (!('descriptor' in outcome)) {
      problems.push(outcome);
      return;
    }
    const { rollNo, fresh, ...photo } = outcome;
    // One photo for two students: the camera could never tell them apart, so it marks neither (they tie). Said so
    // rather than left to the teacher to discover.
    const others = [...studentsOfPhoto.get(photo.sha256)!].filter((other) => other !== rollNo);
    if (others.length > 0) {
      problems.push({
        rollNo,
        code: 'SAME_PHOTO_AS_ANOTHER_STUDENT',
        message: `${photos[index]!.label}the same photo as ${others.join(', ')}'s: the camera cannot tell them apart; give each student a photo of their own`,
      });
    } else {
      enrolled.push({ rollNo, descriptor: photo.descriptor });
    }
    if (photo.backgroundFaces > 0) backgroundFaces.set(rollNo, (backgroundFaces.get(rollNo) ?? 0) + photo.backgroundFaces);
    described.set(rollNo, [...(described.get(rollNo) ?? []), photo]);
    if (fresh) withFreshPhoto.add(rollNo);
  });
  const cacheUpdates = new Map([...withFreshPhoto].map((rollNo) => [rollNo, described.get(rollNo)!]));
  return { enrolled, problems, backgroundFaces, cacheUpdates };
}

/** Encodes enrollment photos on this thread. */
export const describeWith = (engine: FaceEngine) => (bytes: Uint8Array) => describeEnrollmentPhoto(bytes, engine);
