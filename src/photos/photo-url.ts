import { z } from 'zod';

/** A photo URL as both services accept it: a student's photo, or a class photo to fetch. */
export const PhotoUrlSchema = z
  .string()
  .trim()
  .max(2048, 'url must be at most 2048 characters')
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'url must be an http:// or https:// URL')
  // A password in a photo URL would be stored in students_data.json and shown by GET /students.
  .refine((value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''), 'url must not contain a user name or password');
