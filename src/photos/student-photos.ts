import { z } from 'zod';
import { PhotoUrlSchema } from './photo-url.ts';

const MAX_PHOTOS_PER_STUDENT = 10;

type RequestPhotos = { url?: string; urls?: string[] };

/**
 * A student's photos in a request: `url` (the original body), `urls` (several: more photos, fewer missed students), or
 * both. Together they are one list, `url` first, without repeats (`rosterPhotos`).
 */
export const photoFields = {
  url: PhotoUrlSchema.optional(),
  urls: z.array(PhotoUrlSchema).min(1).max(MAX_PHOTOS_PER_STUDENT, `at most ${MAX_PHOTOS_PER_STUDENT} photos per student`).optional(),
};

export const hasAPhoto = (photos: RequestPhotos) => photos.url !== undefined || photos.urls !== undefined;

export const photoLimit = {
  check: (photos: RequestPhotos) => (rosterPhotos(photos).urls?.length ?? 1) <= MAX_PHOTOS_PER_STUDENT,
  message: `at most ${MAX_PHOTOS_PER_STUDENT} photos per student`,
};

/** The roster's form of a student's photos: `url` the first, `urls` all of them when there are several. */
export function rosterPhotos({ url, urls }: RequestPhotos): { url: string; urls?: string[] } {
  const all = [...new Set([...(url === undefined ? [] : [url]), ...(urls ?? [])])];
  return all.length > 1 ? { url: all[0]!, urls: all } : { url: all[0]! };
}
