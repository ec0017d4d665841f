import { z } from 'zod';

/** A photo URL as both services accept it: a student's photo, or a class photo to fetch. */
export const PhotoUrlSchema = z
  .string()
  .trim()
  .max(2048, 'url must be at most 2048 characters')
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'url must be an http:// or https:// URL')
  // A password in a photo URL would be stored in students_data.json and shown by GET /students.
  .refine((value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''), 'url must not contain a user name or password');

export const MAX_PHOTOS_PER_STUDENT = 10;

/**
 * A student's photos in a request: `url` (the original body), `urls` (several: more photos, fewer missed students), or
 * both. Each may be given alone; together they are one list, `url` first, without repeats.
 */
export const studentPhotoFields = {
  url: PhotoUrlSchema.optional(),
  urls: z.array(PhotoUrlSchema).min(1).max(MAX_PHOTOS_PER_STUDENT, `at most ${MAX_PHOTOS_PER_STUDENT} photos per student`).optional(),
};

export const hasAPhoto = (photos: { url?: string; urls?: string[] }) => photos.url !== undefined || photos.urls !== undefined;

/** The roster's form: `url` the first photo, `urls` all of them when there are several. */
export function studentPhotos({ url, urls }: { url?: string; urls?: string[] }): { url: string; urls?: string[] } {
  const all = [...new Set([...(url === undefined ? [] : [url]), ...(urls ?? [])])];
  return all.length > 1 ? { url: all[0]!, urls: all } : { url: all[0]! };
}
